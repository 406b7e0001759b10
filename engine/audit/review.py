"""Architect review of recorded assessments: review events in the log, and what they add up to.

A review is a record of kind `review` in the same hash chain as the assessments, signed like
them: `{schema, kind: "review", record_id, of (the assessment), review: {action, user, role,
comment, account, override?}, engine_version, time}`. `account` says whether the reviewer's
name was an account of the account store (false in single-user local mode). Approving a
decision that has blockers needs a written justification, kept as `override: {justification,
blockers: [rule ids]}`; without one the approval is refused, and a justification is refused
where there is nothing to override, so that an override always means one.

The review state of a project is read from the reviews of its assessments (see `state_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.model.vocab import REVIEW_ACTIONS, REVIEW_STATE_LABELS
from engine.util.text import UNSAFE

if TYPE_CHECKING:
    from engine.audit.record import AuditRecord
    from engine.audit.store import AuditLog

MAX_TEXT_CHARS = 10_000  # a comment or justification: a page of text, not a document
MAX_NAME_CHARS = 200
# Actions that decide a review; a comment leaves the state as it was.
DECIDING = ("approve", "request-changes")


@dataclass(frozen=True)
class Review:
    """One review event as read back (tolerant: an edited body reads as empty fields, and
    `audit verify` says what is wrong with it)."""

    record_id: str
    of: str | None
    time: str
    action: str | None
    user: str | None
    role: str | None
    comment: str | None
    override: dict[str, Any] | None
    account: bool | None
    signed: bool
    seq: int

    @classmethod
    def from_record(cls, record: AuditRecord) -> Review:
        body = record.review or {}

        def text(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) else None

        override = body.get("override")
        account = body.get("account")
        return cls(record_id=record.record_id, of=record.of, time=record.time,
                   action=text("action"), user=text("user"), role=text("role"),
                   comment=text("comment"),
                   override=override if isinstance(override, dict) else None,
                   account=account if isinstance(account, bool) else None,
                   signed=bool(record.signature), seq=record.seq)

    @property
    def justification(self) -> str | None:
        value = (self.override or {}).get("justification")
        return value if isinstance(value, str) else None

    @property
    def overridden(self) -> list[str]:
        """The blockers (rule ids) an approval overrode."""
        value = (self.override or {}).get("blockers")
        return [str(v) for v in value] if isinstance(value, list) else []

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def blockers_of(decision: Mapping[str, Any] | None) -> list[str]:
    """The rule ids of a decision's blocker findings (its open blockers), in report order."""
    findings = (decision or {}).get("findings")
    out: list[str] = []
    for finding in findings if isinstance(findings, list) else []:
        if isinstance(finding, dict) and finding.get("severity") == "blocker":
            rule = finding.get("rule")
            out.append(str(rule) if rule is not None else "?")
    return out


def _text(field: str, value: str | None, limit: int, required: bool = True) -> str | None:
    """User-written text as it will be signed: stripped, non-empty, within the limit, and
    free of characters that could make what is shown differ from what was written."""
    if value is None or not value.strip():
        if required:
            raise InputError("review", field, "a non-empty text")
        return None
    value = value.strip()
    if len(value) > limit:
        raise InputError("review", field, f"at most {limit} characters", f"{len(value)}")
    bad = UNSAFE.search(value)
    if bad:
        raise InputError("review", field, "text without control or bidi-override characters",
                         f"U+{ord(bad.group()):04X}")
    return value


def build_review(decision: Mapping[str, Any] | None, action: str, user: str, role: str,
                 comment: str, justification: str | None = None,
                 account: bool = False) -> dict[str, Any]:
    """The `review` member of a review record, or an InputError saying what is missing."""
    if action not in REVIEW_ACTIONS:
        raise InputError("review", "action", f"one of {', '.join(REVIEW_ACTIONS)}", action)
    body: dict[str, Any] = {
        "action": action,
        "user": _text("--as", user, MAX_NAME_CHARS),
        "role": _text("role", role, MAX_NAME_CHARS),
        "comment": _text("--comment", comment, MAX_TEXT_CHARS),
        "account": bool(account),
    }
    why = _text("--justification", justification, MAX_TEXT_CHARS, required=False)
    blockers = blockers_of(decision)
    if action == "approve" and blockers:
        if why is None:
            raise InputError("review", "--justification", "approving a decision with blockers"
                             f" ({', '.join(blockers)}) needs a written justification, recorded"
                             " as an override")
        body["override"] = {"justification": why, "blockers": blockers}
    elif why is not None:
        what = "this decision has none" if action == "approve" else f"this review is {action}"
        raise InputError("review", "--justification", "only for approving a decision that has"
                         f" blockers ({what}); put remarks in --comment")
    return body


def record_review(log: AuditLog, record_id: str, action: str, user: str, role: str,
                  comment: str, justification: str | None = None,
                  account: bool = False) -> Review:
    """Check and append one review of an assessment (by id or unique prefix); returns it as
    read back from the log."""
    target = log.get(record_id)
    if target.kind != "assessment" or target.decision is None:
        raise InputError(str(log.path), "record_id", "the id of a recorded assessment",
                         record_id)
    body = build_review(target.decision, action, user, role, comment, justification, account)
    event_id = log.append_review(target.record_id, body)
    return Review.from_record(log.get(event_id))


def all_reviews(log: AuditLog) -> dict[str, list[Review]]:
    """Every review in the log by the assessment it is of, oldest first (one pass)."""
    out: dict[str, list[Review]] = {}
    for record in log.iter_records(kind="review"):
        review = Review.from_record(record)
        if review.of:
            out.setdefault(review.of, []).append(review)
    return out


def reviews_of(log: AuditLog, record_id: str) -> list[Review]:
    """The reviews of one assessment, oldest first."""
    return all_reviews(log).get(record_id, [])


def state_of(assessments: Sequence[str], reviews: Mapping[str, Iterable[Review]]
             ) -> tuple[str, Review | None]:
    """(review state, the review it rests on) of a project whose assessments, oldest first,
    are `assessments`.

    The latest assessment's last deciding review (approve or request-changes) gives
    `approved` or `changes-requested`; without one, an earlier assessment that was reviewed
    makes it `re-assessed` (awaiting review: what was reviewed is no longer the latest), comments
    alone make it `commented`, and nothing makes it `not-reviewed`.
    """
    if not assessments:
        return "not-reviewed", None
    latest = list(reviews.get(assessments[-1], []))
    deciding = [r for r in latest if r.action in DECIDING]
    if deciding:
        last = deciding[-1]
        return ("approved" if last.action == "approve" else "changes-requested"), last
    for earlier in reversed(assessments[:-1]):
        done = [r for r in reviews.get(earlier, []) if r.action in DECIDING]
        if done:
            return "re-assessed", done[-1]
    if latest:
        return "commented", latest[-1]
    return "not-reviewed", None


def state_label(state: str) -> str:
    return REVIEW_STATE_LABELS.get(state, state)
