"""A project's history: its assessments over time (like the Well-Architected Tool's
milestones), what changed between consecutive ones (engine.explain.diff), their reviews, and
where the project's review stands now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.audit.review import Review, all_reviews, blockers_of, state_label, state_of
from engine.errors import InputError, MladvisorError
from engine.projects.ids import project_of_record
from engine.util import dotted

EXPECTED_VALUE = "business.expected_value_usd_per_month"

if TYPE_CHECKING:
    from engine.audit.record import AuditRecord
    from engine.audit.store import AuditLog
    from engine.projects.index import ProjectIndex


@dataclass
class Milestone:
    """One assessment of the project, with the change from the one before it."""

    seq: int
    record_id: str
    time: str
    respondent: Any
    verdict: Any
    strategy: dict[str, Any] | None
    blockers: list[str]
    # the selected option's running cost (low, high, note) and the expected monthly value
    cost: tuple[float | None, float | None, str | None]
    expected_value: float | None
    decision: dict[str, Any] = field(repr=False)  # empty unless kept (see `projects`)
    reviews: list[Review] = field(default_factory=list)
    changes: dict[str, Any] | None = None  # engine.explain.diff.diff from the previous one
    changes_error: str | None = None  # why there is no diff (an unreadable older decision)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "record_id": self.record_id, "time": self.time,
                "respondent": self.respondent, "verdict": self.verdict,
                "strategy": self.strategy, "blockers": self.blockers,
                "reviews": [r.to_dict() for r in self.reviews],
                "changes": self.changes, "changes_error": self.changes_error}


@dataclass
class ProjectHistory:
    project_id: str
    name: str
    milestones: list[Milestone]
    state: str
    state_review: Review | None

    @property
    def latest(self) -> Milestone:
        return self.milestones[-1]

    def age_days(self, now: datetime | None = None) -> int | None:
        """Whole days since the latest assessment."""
        return age_days(self.latest.time, now)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {"project_id": self.project_id, "name": self.name, "review_state": self.state,
                "review_state_label": state_label(self.state),
                "review": self.state_review.to_dict() if self.state_review else None,
                "age_days": self.age_days(now),
                "assessments": [m.to_dict() for m in self.milestones]}


def age_days(time: str, now: datetime | None = None) -> int | None:
    try:
        then = datetime.fromisoformat(time.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0, ((now or datetime.now(UTC)) - then).days)


def _milestone(record: AuditRecord, keep: bool) -> Milestone:
    body = record.body
    decision = record.decision or {}
    strategy = decision.get("strategy")
    answers = (record.input or {}).get("answers")
    if not isinstance(answers, dict):
        answers = (decision.get("input") or {}).get("answers") or {}
    value = dotted.get(answers, EXPECTED_VALUE, None) if isinstance(answers, dict) else None
    return Milestone(seq=record.seq, record_id=record.record_id, time=record.time,
                     respondent=body.get("respondent"), verdict=decision.get("verdict"),
                     strategy=({"rung": strategy.get("rung"), "service": strategy.get("service")}
                               if isinstance(strategy, dict) else None),
                     blockers=blockers_of(decision), cost=selected_cost(decision),
                     expected_value=value if isinstance(value, int | float)
                     and not isinstance(value, bool) else None,
                     decision=decision if keep else {})


def selected_cost(decision: Mapping[str, Any]) -> tuple[float | None, float | None, str | None]:
    """(low, high, note) of the selected option's running cost, when the decision has one."""
    options = decision.get("options")
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, dict) or option.get("status") != "selected":
            continue
        cost = option.get("cost")
        if isinstance(cost, dict):
            low, high = cost.get("low_usd_per_month"), cost.get("high_usd_per_month")
            if isinstance(low, int | float) and isinstance(high, int | float):
                return float(low), float(high), None
        note = option.get("cost_note")
        return None, None, note if isinstance(note, str) else "no price in the catalog"
    return None, None, "no selected option"


def projects(log: AuditLog, only: str | None = None, decisions: bool = False,
             index: ProjectIndex | None = None) -> dict[str, tuple[str, list[Milestone]]]:
    """Every project in the log (or `only` that one): {project id: (its latest name, its
    assessments oldest first)}, in the order projects were first assessed. One pass over the
    assessments; each milestone keeps its full decision only with `decisions` (what a
    history's diffs need), so that the portfolio of a large log is not held in memory. With
    an `index` (a long-lived process's), `only`'s assessments are read and no others."""
    out: dict[str, tuple[str, list[Milestone]]] = {}
    records: Iterable[AuditRecord]
    if index is not None and only is not None:
        records = log.records(index.seqs(log, only))
    else:
        records = log.iter_records(kind="assessment")
    for record in records:
        pid, name = project_of_record(record.body)
        if only is not None and pid != only:
            continue
        _, found = out.get(pid, (name, []))
        found.append(_milestone(record, decisions))
        out[pid] = (name, found)
    return out


def _with_changes(milestones: list[Milestone]) -> None:
    """Each milestone's diff from the one before it (the existing `diff`)."""
    from engine.explain.diff import diff

    for before, after in zip(milestones, milestones[1:], strict=False):
        try:
            after.changes = diff(before.decision, after.decision)
        except MladvisorError as error:  # a decision an older engine wrote in another shape
            after.changes_error = str(error)


def build_history(project_id: str, name: str, milestones: list[Milestone],
                  reviews: Mapping[str, list[Review]], changes: bool = True) -> ProjectHistory:
    for milestone in milestones:
        milestone.reviews = list(reviews.get(milestone.record_id, []))
    if changes:
        _with_changes(milestones)
    state, review = state_of([m.record_id for m in milestones], reviews)
    return ProjectHistory(project_id, name, milestones, state, review)


def history(log: AuditLog, project: str, index: ProjectIndex | None = None) -> ProjectHistory:
    """The history of one project, named by its id or by the id (or unique prefix) of one of
    its assessments (`index`: see `projects`)."""
    found = projects(log, only=project, decisions=True, index=index)
    if project not in found:
        pid = _project_of_assessment(log, project)
        found = (projects(log, only=pid, decisions=True, index=index) if pid is not None
                 else {})
        if pid is None or pid not in found:
            known = ", ".join(sorted(projects(log))[:10]) or "none recorded"
            raise InputError(str(log.path), "project", f"a project id or an assessment id"
                             f" (projects: {known})", project)
        project = pid
    name, milestones = found[project]
    return build_history(project, name, milestones, all_reviews(log))


def _project_of_assessment(log: AuditLog, ref: str) -> str | None:
    """The project of the assessment `ref` names (an id or a unique prefix), if any."""
    try:
        record = log.get(ref)
    except InputError as error:
        if "ambiguous" in error.expected:  # a prefix of several ids: say which
            raise
        return None
    return project_of_record(record.body)[0] if record.kind == "assessment" else None


def changes_summary(changes: Mapping[str, Any] | None) -> list[str]:
    """What changed from the previous assessment, in a few short phrases."""
    if not changes:
        return []
    from engine.util.display import strategy_text

    out = []
    verdict, strategy = changes["verdict"], changes["strategy"]
    if verdict["changed"]:
        out.append(f"verdict {verdict['from']} -> {verdict['to']}")
    if strategy["changed"]:
        out.append(f"strategy {strategy_text(strategy['from'], '/{}', none='none')} -> "
                   f"{strategy_text(strategy['to'], '/{}', none='none')}")
    answers = changes.get("answers")
    if answers:
        paths = [c["path"] for c in answers]
        out.append(f"{len(paths)} answer{'s' if len(paths) != 1 else ''} changed: "
                   + ", ".join(paths[:4]) + (" ..." if len(paths) > 4 else ""))
    for kind, mark in (("added", "+"), ("removed", "-")):
        rules = [f["rule"] for f in changes["findings"][kind]]
        if rules:
            out.append(f"findings {mark}" + f", {mark}".join(rules[:4])
                       + (" ..." if len(rules) > 4 else ""))
    return out or ["no change"]
