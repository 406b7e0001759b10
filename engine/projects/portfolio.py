"""The portfolio: the latest state of every project, one row each, for a head of data's Monday
look - verdict, strategy, open blockers, expected value, estimated cost, review state, age.

Rows come sorted so that what needs attention is on top: projects with open blockers first
(most first), then the longest without a new assessment.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.audit.review import all_reviews, state_label
from engine.projects.history import ProjectHistory, build_history, projects

if TYPE_CHECKING:
    from engine.audit.store import AuditLog

@dataclass(frozen=True)
class PortfolioRow:
    project_id: str
    name: str
    assessments: int
    latest: str  # the latest assessment's record id
    time: str
    age_days: int | None
    verdict: Any
    rung: Any
    service: Any
    blockers: list[str]
    expected_value_usd_per_month: Any
    cost_low_usd_per_month: float | None
    cost_high_usd_per_month: float | None
    cost_note: str | None
    review_state: str
    reviewed_by: str | None
    reviewed_at: str | None

    @property
    def review_label(self) -> str:
        return state_label(self.review_state)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"blocker_count": len(self.blockers),
                               "review_state_label": self.review_label}


def row_of(history: ProjectHistory, now: datetime | None = None) -> PortfolioRow:
    latest = history.latest
    strategy = latest.strategy or {}
    low, high, note = latest.cost
    review = history.state_review
    return PortfolioRow(
        project_id=history.project_id, name=history.name,
        assessments=len(history.milestones), latest=latest.record_id, time=latest.time,
        age_days=history.age_days(now), verdict=latest.verdict, rung=strategy.get("rung"),
        service=strategy.get("service"), blockers=latest.blockers,
        expected_value_usd_per_month=latest.expected_value,
        cost_low_usd_per_month=low, cost_high_usd_per_month=high, cost_note=note,
        review_state=history.state, reviewed_by=review.user if review else None,
        reviewed_at=review.time if review else None)


def sort_key(row: PortfolioRow) -> tuple[Any, ...]:
    """Open blockers first (most first), then the stalest (the oldest latest assessment; ISO
    times sort as text), then by name."""
    return (-len(row.blockers), row.time, row.name.lower(), row.project_id)


def portfolio(log: AuditLog, now: datetime | None = None) -> list[PortfolioRow]:
    """One row per project, sorted by sort_key. The diffs of a history are not needed here,
    so none are computed."""
    reviews = all_reviews(log)
    rows = [row_of(build_history(pid, name, milestones, reviews, changes=False), now)
            for pid, (name, milestones) in projects(log).items()]
    return sorted(rows, key=sort_key)


CSV_COLUMNS = ["project_id", "name", "verdict", "rung", "service", "blocker_count", "blockers",
               "expected_value_usd_per_month", "cost_low_usd_per_month",
               "cost_high_usd_per_month", "cost_note", "review_state", "reviewed_by",
               "reviewed_at", "age_days", "time", "assessments", "latest"]


def to_csv(rows: list[PortfolioRow]) -> str:
    """One row per project; blockers joined by ';'; cells a spreadsheet would run as a
    formula are written as text (as audit exports do)."""
    from engine.audit.export import spreadsheet_safe

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        data = row.to_dict() | {"blockers": ";".join(row.blockers)}
        writer.writerow({k: spreadsheet_safe(v) for k, v in data.items()})
    return out.getvalue()


def to_json(rows: list[PortfolioRow]) -> str:
    return json.dumps({"schema": "mladvisor.portfolio/1",
                       "projects": [row.to_dict() for row in rows]},
                      indent=2, sort_keys=True, ensure_ascii=False) + "\n"
