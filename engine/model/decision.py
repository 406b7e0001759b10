"""The decision document (mladvisor.decision/1) as pydantic models, and the one way to read it.

These models are what a decision is from `api.assess` to the last consumer (reports, diff,
explain, audit replay, web). They read liberally: vocabulary fields (rung, phase, severity,
status, verdict) are plain strings so that a report still shows an id this engine does not
know, every field an older engine may have left out has a default, and unknown fields are kept
(`extra="allow"`). Dump with `dump()` (unset fields stay out), so a decision read and written
again gives the same bytes. Assembly lives in engine/rulebase/assemble.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from engine.errors import InputError
from engine.model.vocab import STATUSES, Phase, Rung, Severity, Verdict

DECISION_SCHEMA = "mladvisor.decision/1"
"""The one spelling of the decision's schema id; everything else imports it."""

# What a reader needs at the least: diff compares verdicts and findings, a report says both.
REQUIRED = ("schema", "verdict", "findings")
# What a writer must give (CONTRACT section 5); only the exported JSON Schema says so.
CONTRACT_REQUIRED = ("schema", "assessment_id", "verdict", "strategy", "findings", "options",
                     "trace", "rulebase", "input_sha256")

Number = StrictInt | StrictFloat  # an int stays an int: the bytes of the decision depend on it


def _one_of(values: tuple[str, ...] | Any, description: str, default: str | None) -> Any:
    """A string field documented with its vocabulary, which a reader still does not enforce."""
    names = values if isinstance(values, tuple) else get_args(values)
    return Field(default, description=description, json_schema_extra={"enum": list(names)})


Word = str | None  # a vocabulary id; None where an older or edited decision has none


class Open(BaseModel):
    # strict: a value is read as it was written (1 stays 1, never true), so the bytes hold
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)


class Strategy(Open):
    rung: Word = _one_of(Rung, "The rung of the ladder chosen.", "")
    service: str | None = Field(None, description="The catalog service, if any.")
    summary: str | None = Field("", description="One sentence describing the strategy.")


class Finding(Open):
    rule: str | None = Field("", description="The id of the rule that raised it.")
    phase: Word = _one_of(Phase, "The lifecycle phase.", "other")
    severity: Word = _one_of(Severity, "How much it matters.", "info")
    title: str | None = ""
    rationale: str | None = ""
    action: str | None = Field("", description="What to do about it.")
    facts: dict[str, Any] = Field(default_factory=dict,
                                  description="The fact values the rule's condition read.")
    guidance: str | None = Field("", description="The knowledge id of the guidance it cites.")
    services: list[str] = Field(
        default_factory=list,
        description="Catalog ids of services the finding recommends as a part of the answer "
                    "(optional; present only when the rule names some).")


class Check(Open):
    metric: str | None = ""
    goal: str | None = ""
    threshold: Number | None = None
    value: Number | None = None
    met: bool | None = None
    gap: Number | None = None


class Evidence(Open):
    candidate: str | None = ""
    meets_all: bool | None = None
    checks: list[Check] = Field(default_factory=list)


class UsdRange(Open):
    low: float = 0.0
    high: float = 0.0


class Cost(Open):
    low_usd_per_month: float = Field(description="Running cost at the cheapest choice.")
    high_usd_per_month: float = Field(description="Running cost at the dearest choice.")
    build_usd: UsdRange = Field(default_factory=UsdRange, description="One-off build cost.")
    basis: list[str] = Field(default_factory=list, description="The arithmetic, line by line.")
    priced_on: str | None = Field(None, description="The price table's checked date used.")
    measured: bool = Field(False, description="A benchmark row measured the running cost.")
    running_billed: bool = Field(
        True, description="False where the model runs on the organisation's own hardware or "
        "devices: no provider bills its running, and what those cost is not estimated.")
    assumed: list[str] = Field(default_factory=list,
                               description="Request sizes taken from the task's default.")
    payback_months: UsdRange | None = Field(
        None, description="Build cost over the monthly margin (value less running cost).")


class Option(Open):
    rung: Word = _one_of(Rung, "A rung of the ladder.", "")
    service: str | None = None
    status: Word = _one_of(STATUSES, "What became of the option.", "not-evaluated")
    reasons: list[str] = Field(default_factory=list)
    offer: str | None = Field(None, description="The catalog offer id (the rung id when the "
                              "option is no catalog offer).")
    method: str | None = Field(None, description="What the team does (knowledge/ladder.yaml "
                               "methods).")
    runs: str | None = Field(None, description="Where the model would run (ladder.yaml runs).")
    how: str | None = Field(None, description="What the team does, for the project's task.")
    evidence: list[Evidence] = Field(default_factory=list,
                                     description="Benchmark results of its candidates.")
    cost: Cost | None = Field(None, description="What it would cost at the project's volume "
                              "(CONTRACT section 9); null with cost_note saying why.")
    cost_note: str | None = Field(None, description="Why there is no cost, or a caveat of the "
                                  "price table.")


# How a trace step writes a proposed verdict in `asserted` ("verdict not-ready"): written by the
# engine (rulebase.inference.describe), read back by the report's trace outcome.
TRACE_VERDICT = "verdict "


class TraceEntry(Open):
    order: int | None = None
    rule: str | None = ""
    matched: dict[str, Any] = Field(default_factory=dict)
    asserted: list[str] = Field(default_factory=list)


class MonitoringItem(Open):
    """A rule's `monitor` entry as the rule wrote it (text, or a value a template filled)."""

    signal: Any = None
    how: Any = None
    trigger: Any = None
    response: Any = None
    rule: Any = None
    where: Any = Field(None, description="The knowledge/monitoring.yaml place it runs in.")
    runs_on: Any = Field(None, description="Where the check runs and its results go, in words.")
    services: Any = Field(None, description="Catalog ids of the services runs_on names.")


class Project(Open):
    name: str | None = None
    respondent: str | None = None
    stage: str | None = None


class DecisionInput(Open):
    answers: dict[str, Any] = Field(default_factory=dict,
                                    description="The effective answers, every field.")
    defaulted: list[str] = Field(default_factory=list,
                                 description="Answers that took their default.")
    benchmarks: list[dict[str, Any]] | None = None
    drift: dict[str, Any] | None = None


def _contract_schema(schema: dict[str, Any]) -> None:
    schema["required"] = list(CONTRACT_REQUIRED)


class Decision(Open):
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True,
                              json_schema_extra=_contract_schema)

    schema_: str = Field(DECISION_SCHEMA, alias="schema",
                         json_schema_extra={"const": DECISION_SCHEMA})
    assessment_id: str | None = None
    verdict: str | None = _one_of(Verdict, "The verdict.", None)
    strategy: Strategy | None = None
    findings: list[Finding] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list)
    trace: list[TraceEntry] = Field(default_factory=list)
    rulebase: dict[str, str] = Field(default_factory=dict)
    input_sha256: str | None = None
    engine_version: str | None = None
    project: Project | None = None
    input: DecisionInput | None = None
    monitoring_plan: list[MonitoringItem] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    catalog: dict[str, str] = Field(
        default_factory=dict, description="How current the service catalog was: the oldest and "
        "newest `checked` date of its services (checked_oldest, checked_newest).")

    def dump(self) -> dict[str, Any]:
        """The JSON document: exactly the fields that were given, by their JSON names."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def extra(self, name: str) -> Any:
        """A field outside the contract (e.g. a report's `explanation`), or None."""
        return (self.model_extra or {}).get(name)


def load_decision(source: str, data: Any, *, partial: bool = False) -> Decision:
    """`data` (a parsed JSON document, or a Decision) as a Decision, or one InputError naming
    `source`, the field and what was expected.

    `partial=True` is for the report library: a decision written by an older engine or by hand
    renders with what can be read, dropping the parts of the wrong shape (the report then shows
    less, never a traceback). Otherwise the shapes must be right and the fields in REQUIRED
    present; the schema, when given, must be ours in both modes.
    """
    if isinstance(data, Decision):
        return data
    if not isinstance(data, Mapping):
        raise InputError(source, "", f"expected a {DECISION_SCHEMA} JSON object",
                         "empty document" if data is None else type(data).__name__)
    schema = data.get("schema")
    if schema != DECISION_SCHEMA and (schema is not None or not partial):
        raise InputError(source, "schema", f"expected {DECISION_SCHEMA}", schema)
    if partial:
        return _salvage(dict(data))
    try:
        decision = Decision.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in first["loc"] if not _union_tag(p))
        number = any(p in ("int", "float") for p in first["loc"])
        raise InputError(source, path, f"expected {'a number' if number else _expected(first)}",
                         _got(first.get("input"))) from None
    for key in REQUIRED:
        if key not in data:
            raise InputError(source, key, "required field of a saved decision is missing")
    return decision


def _union_tag(part: Any) -> bool:
    """pydantic names the member of a union in an error's location; people need not see it."""
    return isinstance(part, str) and (part in ("int", "float") or "[" in part)


def _expected(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    names = {"list_type": "a list", "dict_type": "an object", "model_type": "an object",
             "string_type": "a string", "bool_type": "true or false", "int_type": "an integer",
             "float_type": "a number"}
    return names.get(kind, str(error.get("msg", "a valid value")).lower())


def _got(value: Any) -> Any:
    if isinstance(value, dict | list):
        return type(value).__name__
    return value


def _salvage(doc: dict[str, Any]) -> Decision:
    """Drop each part a validation error points at, deepest first, until the rest reads."""
    doc = copy.deepcopy(doc)
    for _ in range(20):  # each round removes at least one part; real cases need one or two
        try:
            return Decision.model_validate(doc)
        except ValidationError as error:
            locs = {_existing(doc, e["loc"]) for e in error.errors()}
        for loc in sorted(locs, key=_deepest_first, reverse=True):
            if loc:
                _remove(doc, loc)
    return Decision.model_validate({"schema": DECISION_SCHEMA})


def _existing(doc: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The longest prefix of `loc` that names a part present in `doc`."""
    found: list[Any] = []
    for part in loc:
        if isinstance(doc, dict) and isinstance(part, str) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and isinstance(part, int) and 0 <= part < len(doc):
            doc = doc[part]
        else:
            break
        found.append(part)
    return tuple(found)


def _deepest_first(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sort key: longer paths, then later list items, come first (removing them keeps the
    other paths valid)."""
    return (len(loc), [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in loc])


def _remove(doc: Any, loc: tuple[Any, ...]) -> None:
    *parents, last = loc
    for part in parents:
        doc = doc[part]
    del doc[last]
