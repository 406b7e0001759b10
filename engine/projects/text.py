"""The portfolio and a project's history as terminal text: short aligned lines, most urgent
first, every user-written value kept to one line (the caller makes it safe to show)."""

from __future__ import annotations

from datetime import datetime

from engine.audit.review import Review, state_label
from engine.projects.history import ProjectHistory, changes_summary
from engine.projects.portfolio import PortfolioRow
from engine.util.display import strategy_text, usd, usd_range
from engine.util.table import table_lines

MAX_CELL = 40


def _cell(value: object, limit: int = MAX_CELL) -> str:
    text = " ".join(str(value).split()) if value is not None else "-"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _money(value: float | None) -> str:
    return "-" if value is None else "$" + usd(value)


def portfolio_text(rows: list[PortfolioRow]) -> str:
    """An aligned table, one project a line, then the open blockers of those that have any."""
    if not rows:
        return "no projects: nothing recorded yet (mladvisor assess records each assessment)\n"
    header = ["PROJECT", "VERDICT", "STRATEGY", "BLOCKERS", "VALUE/MO", "COST/MO", "REVIEW",
              "AGE"]
    body = []
    for row in rows:
        cost = ("-" if row.cost_low_usd_per_month is None or row.cost_high_usd_per_month is None
                else "$" + usd_range(row.cost_low_usd_per_month, row.cost_high_usd_per_month,
                                     "-"))
        strategy = strategy_text({"rung": row.rung, "service": row.service}
                                 if row.rung else None, "/{}", none="-")
        body.append([_cell(row.project_id, 28), _cell(row.verdict), _cell(strategy, 36),
                     str(len(row.blockers)), _money(row.expected_value_usd_per_month), cost,
                     _cell(row.review_state, 20),
                     "-" if row.age_days is None else f"{row.age_days}d"])
    lines = table_lines(header, body, strip=True)
    blocked = [row for row in rows if row.blockers]
    if blocked:
        lines += ["", "Open blockers:"]
        lines += [f"  {row.project_id}: {', '.join(row.blockers)}" for row in blocked]
    waiting = sum(1 for r in rows if r.review_state != "approved")
    lines.append("")
    lines.append(f"{len(rows)} project{'s' if len(rows) != 1 else ''}, {len(blocked)} with open"
                 f" blockers, {waiting} not approved; `mladvisor project ID` shows one")
    return "\n".join(lines) + "\n"


def _review_line(review: Review) -> str:
    who = f"{review.user or '?'} ({review.role or '?'})"
    line = f"      {review.time[:19]}Z  {review.action or '?':<15} {who}: " \
        f"{' '.join((review.comment or '').split())}"
    if review.override:
        line += f"\n        override of {', '.join(review.overridden) or '?'}: " \
            f"{' '.join((review.justification or '').split())}"
    return line


def history_text(history: ProjectHistory, now: datetime | None = None) -> str:
    age = history.age_days(now)
    lines = [f"project     {history.project_id}  ({history.name})",
             f"review      {state_label(history.state)}"
             + (f" ({history.state_review.action} by {history.state_review.user},"
                f" {history.state_review.time[:10]})" if history.state_review else ""),
             f"assessments {len(history.milestones)}, the latest {age} day(s) ago"
             if age is not None else f"assessments {len(history.milestones)}", ""]
    for number, m in enumerate(history.milestones, 1):
        lines.append(f"{number:>3}. {m.time[:19]}Z  {m.record_id}  {m.verdict or '-'}  "
                     f"{strategy_text(m.strategy, '/{}', none='-')}")
        lines.append(f"      blockers: {len(m.blockers)}" + (
            f" ({', '.join(m.blockers)})" if m.blockers else ""))
        if m.changes_error:
            lines.append(f"      changes: not compared ({m.changes_error})")
        elif number > 1:
            lines.append("      changes: " + "; ".join(changes_summary(m.changes)))
        lines.extend(_review_line(r) for r in m.reviews)
    return "\n".join(lines) + "\n"
