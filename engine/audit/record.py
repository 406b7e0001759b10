"""The typed shapes the log reads and writes: a stored record, its summary, and what `append`
needs from an assessment and its rule base.

A record keeps the hashed body exactly as parsed (`body`): the canonical bytes that were hashed
are the body's, so export and verification must see every member as stored, known or not. The
typed fields and properties are read from it; none of them rewrites it. A record edited in the
file still loads (verify and replay say what is wrong with it), so a member of the wrong type
reads as None rather than failing here.

`RecordedRuleBase` and `RecordedAssessment` are the contract `AuditLog.append` relies on, so the
audit package never imports the rule engine (engine.rulebase.loading.RuleBase and
engine.api.Assessment satisfy them, and so do the stand-ins the tests use).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from engine.util import dotted

# The chain fields a record carries beside its hashed body (columns of the `records` table).
ENVELOPE = ("seq", "prev_hash", "entry_hash", "signature", "key_id")


class RecordedRuleBase(Protocol):
    """What the log stores of a rule base: its version, its fingerprint and its files."""

    @property
    def version(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def files(self) -> Mapping[str, bytes]: ...


class RecordedAssessment(Protocol):
    """What the log stores of an assessment; `decision` is checked at append time."""

    @property
    def decision(self) -> Any: ...

    @property
    def input_doc(self) -> Any: ...

    @property
    def rulebase(self) -> RecordedRuleBase: ...


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class RulebaseRef:
    """The rule base a decision was made with: `files_sha256` names its stored files."""

    version: str | None
    sha256: str | None
    files_sha256: str | None

    @classmethod
    def parse(cls, data: Any) -> RulebaseRef | None:
        """The reference, or None when it is not an object of strings (an edited body)."""
        if not isinstance(data, dict):
            return None
        values = [data.get(k) for k in ("version", "sha256", "files_sha256")]
        if not all(v is None or isinstance(v, str) for v in values):
            return None
        return cls(*values)


@dataclass(frozen=True)
class AuditRecord:
    """One stored record: the chain fields of its row and its hashed body.

    An assessment has `decision`, `input`, `rulebase`, `reports`; a report event has `of`,
    `format`, `sha256`; a review event has `of` and `review`. `to_dict()` gives the dict JSON
    output and exports are made of, equal to the body plus the chain fields.
    """

    seq: int
    record_id: str
    kind: str
    time: str
    prev_hash: str
    entry_hash: str
    signature: str | None
    key_id: str | None
    body: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_row(cls, seq: int, record_id: str, kind: str, time: str, prev_hash: str,
                 entry_hash: str, signature: str | None, key_id: str | None,
                 body: dict[str, Any]) -> AuditRecord:
        """A record from its columns and parsed body; the body's own values win (they are the
        ones the hash covers)."""
        return cls(seq=seq, record_id=_str(body.get("record_id")) or record_id,
                   kind=_str(body.get("kind")) or kind, time=_str(body.get("time")) or time,
                   prev_hash=prev_hash, entry_hash=entry_hash, signature=signature,
                   key_id=key_id, body=body)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        """The inverse of `to_dict` (e.g. after masking a copy for an export)."""
        body = {k: v for k, v in data.items() if k not in ENVELOPE}
        return cls.from_row(data.get("seq") or 0, "", "", "", str(data.get("prev_hash") or ""),
                            str(data.get("entry_hash") or ""), data.get("signature"),
                            data.get("key_id"), body)

    def to_dict(self) -> dict[str, Any]:
        """The chain fields and every body member, as `audit show` and exports write them."""
        return {"seq": self.seq, "prev_hash": self.prev_hash, "entry_hash": self.entry_hash,
                "signature": self.signature, "key_id": self.key_id, **self.body}

    # -- members of the body ---------------------------------------------------------------
    @property
    def schema(self) -> str | None:
        return _str(self.body.get("schema"))

    @property
    def respondent(self) -> Any:
        """As answered (normally a string or None)."""
        return self.body.get("respondent")

    @property
    def account(self) -> dict[str, Any] | None:
        """The team account ({name, role}) that submitted an assessment; None when it was
        recorded without accounts (the command line, the local single-user page)."""
        return _object(self.body.get("account"))

    @property
    def engine_version(self) -> str | None:
        return _str(self.body.get("engine_version"))

    @property
    def decision(self) -> dict[str, Any] | None:
        """The recorded decision as a JSON object; None for a report event or an edited body."""
        return _object(self.body.get("decision"))

    @property
    def input(self) -> dict[str, Any] | None:
        """The full input the decision was made from (answers, benchmarks, drift)."""
        return _object(self.body.get("input"))

    @property
    def input_sha256(self) -> str | None:
        return _str(self.body.get("input_sha256"))

    @property
    def rulebase(self) -> RulebaseRef | None:
        return RulebaseRef.parse(self.body.get("rulebase"))

    @property
    def reports(self) -> dict[str, Any]:
        """{format: sha256} of the reports rendered with the assessment."""
        return _object(self.body.get("reports")) or {}

    @property
    def of(self) -> str | None:
        """For a report event: the assessment it is a report of."""
        return _str(self.body.get("of"))

    @property
    def format(self) -> str | None:
        return _str(self.body.get("format"))

    @property
    def sha256(self) -> str | None:
        """For a report event: the sha256 of the rendered report."""
        return _str(self.body.get("sha256"))

    @property
    def review(self) -> dict[str, Any] | None:
        """For a review event: action, user, role, comment (and override); see
        engine.audit.review."""
        return _object(self.body.get("review"))

    def summary(self) -> RecordSummary:
        return RecordSummary.from_record(self)


@dataclass(frozen=True)
class RecordSummary:
    """The few fields `audit list` and the web's past-assessments page show."""

    seq: int
    record_id: str
    kind: str
    time: str
    respondent: Any
    project: Any
    verdict: Any
    rung: Any
    service: Any
    rulebase_version: Any
    of: Any
    format: Any
    signed: bool

    @classmethod
    def from_record(cls, record: AuditRecord) -> RecordSummary:
        # read from the raw body: a listing shows what is stored, edited or not
        body = record.body
        decision = _object(body.get("decision")) or {}
        strategy = _object(decision.get("strategy")) or {}
        return cls(
            seq=record.seq, record_id=record.record_id, kind=record.kind, time=record.time,
            respondent=body.get("respondent"),
            project=dotted.get(decision, "project.name", None)
            or dotted.get(body, "input.answers.project.name", None),
            verdict=decision.get("verdict"), rung=strategy.get("rung"),
            service=strategy.get("service"),
            rulebase_version=dotted.get(body, "rulebase.version", None), of=body.get("of"),
            format=body.get("format"), signed=bool(record.signature))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
