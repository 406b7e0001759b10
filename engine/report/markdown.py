"""The recommendation as GitHub-flavoured Markdown, for wikis and pull requests.

The same decision as the HTML report, in the reader's order: verdict and strategy, next actions,
the ladder and the findings as tables, the monitoring plan, what would change the
recommendation, and the guidance the findings cite (each finding links to it). Every text from
the decision is escaped for a table cell or a paragraph, so a `|` or a newline in an answer
cannot break the layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.model.decision import Decision, load_decision
from engine.model.vocab import AUDIENCES, DEFAULT_AUDIENCE
from engine.report.dates import timestamp_of
from engine.report.labels import knowledge_document, labels, metric_label
from engine.report.signoff import signoff_markdown, signoff_rows
from engine.util.display import monthly_short, monthly_text

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def _text(value: Any) -> str:
    """One line of prose: whitespace collapsed, Markdown's special characters escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(value if value is not None else "").split()))


def _code(value: Any) -> str:
    """An identifier in backticks (a backtick inside cannot end it early)."""
    text = " ".join(str(value or "").split()).replace("`", "'")
    return f"`{text}`" if text else ""


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return out


def _anchor(guidance_id: str) -> str:
    """GitHub's heading anchor for `### guidance-id`: lower case, dots dropped."""
    return re.sub(r"[^a-z0-9 _-]", "", guidance_id.lower()).replace(" ", "-")


@lru_cache(maxsize=2)
def _guidance(root: str) -> dict[str, dict[str, str]]:
    """Guidance id -> {title, text}, read from knowledge/ (empty if it cannot be read)."""
    doc = knowledge_document(Path(root) / "guidance.yaml")
    out: dict[str, dict[str, str]] = {}
    for phase in doc.get("phases") or []:
        for item in (phase or {}).get("guidance") or []:
            if isinstance(item, dict) and item.get("id"):
                out[str(item["id"])] = {"title": str(item.get("title") or ""),
                                        "text": " ".join(str(item.get("text") or "").split())}
    return out


def _cost(option: Any) -> str:
    cost = option.cost
    return "—" if cost is None else monthly_short(cost)


EXECUTIVE_ACTIONS = 6     # the sponsor's page: as the HTML executive edition
EXECUTIVE_CHANGES = 3


def render_markdown(decision: Decision | Mapping[str, Any],
                    audience: str = DEFAULT_AUDIENCE,
                    reviews: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The report as Markdown text (a partial decision renders what it has), for one of
    AUDIENCES: the executive's summary, the architect's review, or the audit edition with
    the whole trace. Every edition ends with the same hashes."""
    from engine.paths import knowledge_dir

    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    decision = load_decision("decision", decision, partial=True)
    names = labels().get("services", {})
    guidance = _guidance(str(knowledge_dir()))

    def service(sid: Any) -> str:
        return _text(names.get(sid or "", {}).get("name") or sid or "—")

    shown = [f for f in decision.findings if f.severity != "info"]
    if audience == "executive":
        sections: tuple[list[str], ...] = (
            _head(decision, service), _blockers(decision),
            _actions(decision, EXECUTIVE_ACTIONS),
            _money(decision), _ladder(decision, service, brief=True),
            _changes(decision, service, EXECUTIVE_CHANGES), _footer(decision, brief=True))
    else:
        sections = (_head(decision, service), _actions(decision), _ladder(decision, service),
                    _findings(decision, shown, guidance), _plan(decision),
                    _changes(decision, service), _cited(shown, guidance),
                    _trace(decision, full=audience == "audit"), _footer(decision))
    signoff = signoff_markdown(signoff_rows(reviews), _text, _code)  # before the footer
    sections = (*sections[:-1], signoff, sections[-1])
    return "\n".join(line for section in sections for line in section)


def _head(decision: Decision, service: Any) -> list[str]:
    project = decision.project
    lines = [f"# {_text(project.name if project and project.name else 'Assessment')}", ""]
    meta = [f"**Verdict:** {_code(decision.verdict)}"]
    strategy = decision.strategy
    if strategy:
        meta.append(f"**Strategy:** {_code(strategy.rung)}"
                    + (f" on {service(strategy.service)}" if strategy.service else ""))
    else:
        meta.append("**Strategy:** none until the blockers are fixed")
    lines += [" · ".join(meta), ""]
    if strategy and strategy.summary:
        lines += [f"> {_text(strategy.summary)}", ""]
    when = timestamp_of(decision.assessment_id)
    who = [f"answered by {_text(project.respondent)}" if project and project.respondent else "",
           f"stage {_code(project.stage)}" if project and project.stage else "",
           f"assessed {when:%Y-%m-%d %H:%M} UTC" if when else ""]
    return lines + (["_" + ", ".join(w for w in who if w) + "_", ""] if any(who) else [])


def _actions(decision: Decision, limit: int | None = None) -> list[str]:
    if not decision.actions:
        return []
    shown = decision.actions[:limit]
    more = len(decision.actions) - len(shown)
    return (["## Next actions", ""]
            + [f"{i}. {_text(a)}" for i, a in enumerate(shown, 1)]
            + (["", f"_and {more} more in the architect's report_"] if more else []) + [""])


def _blockers(decision: Decision) -> list[str]:
    blockers = [f for f in decision.findings if f.severity == "blocker"]
    if not blockers:
        return ["## Blockers", "", "None.", ""]
    return (["## Blockers", ""] + [f"- {_text(f.title or f.rule)}"
                                   + (f" — {_text(f.action)}" if f.action else "")
                                   for f in blockers] + [""])


def _money(decision: Decision) -> list[str]:
    """The recommended option's cost beside the budget and the expected value."""
    business = (decision.input.answers.get("business") if decision.input else None) or {}
    selected = next((o for o in decision.options if o.status == "selected"), None)
    from engine.report.context import budget_and_value

    rows = []
    if selected is not None and selected.cost is not None:
        rows.append(["Estimated cost", monthly_text(selected.cost)])
    rows += [list(row) for row in
             budget_and_value(business if isinstance(business, Mapping) else {})]
    return (["## Cost", ""] + _table(["", "USD"], rows) + [""]) if rows else []


def _why(option: Any) -> str:
    from engine.report.context import option_why

    return _text(option_why(option.status, option.reasons))


def _ladder(decision: Decision, service: Any, brief: bool = False) -> list[str]:
    if not decision.options:
        return []
    if brief:
        rungs = labels().get("rungs", {})
        rows = [[_text(rungs.get(o.rung or "", {}).get("title") or o.rung), service(o.service),
                 _code(o.status), _cost(o), _why(o)] for o in decision.options]
        return (["## Options considered (simplest first)", ""]
                + _table(["Approach", "Service", "Status", "USD a month", "Why"], rows) + [""])
    rows = [[_code(o.rung), service(o.service), _code(o.method), _code(o.status), _cost(o),
             "; ".join(_text(r) for r in o.reasons[:2])] for o in decision.options]
    return (["## The ladder (simplest first)", ""]
            + _table(["Rung", "Service", "Method", "Status", "USD a month", "Reasons"], rows)
            + [""])


def _findings(decision: Decision, shown: list[Any], guidance: Mapping[str, Any]) -> list[str]:
    if not shown:
        return []
    rows = []
    for f in shown:
        cite = f.guidance or ""
        link = f"[{_text(cite)}](#{_anchor(cite)})" if cite in guidance else _code(cite)
        rows.append([_code(f.severity), _code(f.phase), _text(f.title),
                     _text(f.action or f.rationale), link])
    lines = (["## Findings", ""]
             + _table(["Severity", "Phase", "Finding", "What to do", "Guidance"], rows) + [""])
    info = len(decision.findings) - len(shown)
    return lines + ([f"_and {info} informational finding(s) in the decision JSON_", ""]
                    if info else [])


def _plan(decision: Decision) -> list[str]:
    if not decision.monitoring_plan:
        return []
    rows = [[_text(metric_label(m.signal)), _text(m.how), _text(m.trigger), _text(m.response),
             _text(m.runs_on)] for m in decision.monitoring_plan]
    return (["## Monitoring plan", ""]
            + _table(["Signal", "How", "Alert when", "Response", "Runs on"], rows) + [""])


def _changes(decision: Decision, service: Any, limit: int | None = None) -> list[str]:
    explanation = decision.extra("explanation") or {}
    changes = explanation.get("counterfactuals") if isinstance(explanation, Mapping) else None
    if not changes or not isinstance(changes, list):
        return []
    changes = [cf for cf in changes[:limit] if isinstance(cf, Mapping)]
    rows = []
    for cf in changes:
        what = ", ".join(f"{_code(path)} = {_text(value)}"
                         for path, value in (cf.get("changes") or {}).items())
        got = cf.get("strategy") or {}
        outcome = _code(cf.get("verdict"))
        if got:
            outcome += f", {_code(got.get('rung'))}" + (
                f" on {service(got.get('service'))}" if got.get("service") else "")
        rows.append([what, outcome])
    return (["## What would change this recommendation", ""]
            + _table(["If the answers were", "The outcome would be"], rows) + [""])


def _cited(shown: list[Any], guidance: Mapping[str, Any]) -> list[str]:
    cited = [g for g in dict.fromkeys(f.guidance for f in shown) if g in guidance]
    if not cited:
        return []
    lines = ["## Guidance cited", ""]
    for gid in cited:
        lines += [f"### {gid}", "", f"**{_text(guidance[gid]['title'])}.** "
                  f"{_text(guidance[gid]['text'])}", ""]
    return lines


def _trace(decision: Decision, full: bool) -> list[str]:
    """Every rule that fired and what it concluded; the audit edition adds what it matched."""
    if not decision.trace:
        return []
    head = ["#", "Rule", "Concluded"] + (["Matched facts"] if full else [])
    rows = []
    for position, step in enumerate(decision.trace, 1):
        row = [str(step.order if step.order is not None else position), _code(step.rule),
               "; ".join(_text(a) for a in step.asserted)]
        if full:
            row.append(_code(json.dumps(step.matched, sort_keys=True, ensure_ascii=False,
                                        default=str)) if step.matched else "")
        rows.append(row)
    note = "" if full else " The audit edition adds the facts each rule matched."
    from engine.report.context import trace_outcome

    outcome = trace_outcome(decision, labels())
    return (["## Decision trace", "", f"Every rule that fired, in order.{note}", ""]
            + _table(head, rows) + [""] + ([_text(outcome), ""] if outcome else []))


def _footer(decision: Decision, brief: bool = False) -> list[str]:
    lines: list[str] = []
    given = decision.input
    if given and given.defaulted and brief:
        lines += [f"_{len(given.defaulted)} answer(s) took their default: see the architect's "
                  "report._", ""]
    elif given and given.defaulted:
        lines += ["## Answers that took their default", "",
                  ", ".join(_code(p) for p in given.defaulted), ""]
    rulebase = decision.rulebase or {}
    audit = [("Assessment id", decision.assessment_id), ("Rule base version",
             rulebase.get("version")), ("Rule base sha256", rulebase.get("sha256")),
             ("Input sha256", decision.input_sha256)]
    return lines + ["---", "", "## Audit", ""] + _table(
        ["", "Value"], [[label, _code(value or "—")] for label, value in audit]) + [
        "", "_written by mladvisor_", ""]
