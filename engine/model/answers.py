"""The answers file (mladvisor.answers/1) as strict pydantic models, and its loader.

Field descriptions double as questionnaire help and as the exported JSON Schema. Every field
outside `project` has a default; the loader reports which answers took it.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from engine.errors import InputError
from engine.model.vocab import Goal, Rung, Sector, Task
from engine.util import dotted, limits

ANSWERS_SCHEMA: Literal["mladvisor.answers/1"] = "mladvisor.answers/1"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# A catalog id as knowledge/services.yaml spells service ids: lower-case words joined by hyphens.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]


# Strict types: `true` is not 1, "12000" is not 12000, "yes" is not true (an int is still
# accepted where a float is expected). The web form and the wizard convert typed text
# themselves before validating.
STRICT = ConfigDict(extra="forbid", validate_default=True, strict=True, allow_inf_nan=False)


def _cap(limit: float) -> AfterValidator:
    """|value| <= limit: a sanity cap where a larger value cannot be real (see
    engine/util/limits.py). A validator, not `le=`, so that questionnaire help shows only the
    bounds a person needs; the JSON Schema states the cap as `maximum`."""

    def check(value: Any) -> Any:
        if abs(value) > limit:
            raise PydanticCustomError("input_limit", "expected a value of at most {limit} in "
                                      "size (the input limit)", {"limit": f"{limit:g}"})
        return value

    return AfterValidator(check)


UsdPerMonth = Annotated[float, _cap(limits.MAX_USD_PER_MONTH)]
Count = Annotated[int, _cap(limits.MAX_COUNT)]
LatencyMs = Annotated[float, _cap(limits.MAX_LATENCY_MS)]
Threshold = Annotated[float, _cap(limits.MAX_ABS_THRESHOLD)]
Classes = Annotated[int, _cap(limits.MAX_CLASSES)]
Size = Annotated[float, _cap(limits.MAX_COUNT)]


class Strict(BaseModel):
    model_config = STRICT


class CurrentSolution(Strict):
    """What runs in production today, for a deployed project."""

    # Service and offer are not checked against the catalog: a project may run a service the
    # catalog does not list, and a rule says so rather than the file being refused.

    rung: Rung = Field(description="The rung of the ladder the running solution is on.")
    service: Slug | None = Field(
        None, description="The service it runs on, as a catalog service id "
        "(e.g. amazon-comprehend), if known."
    )
    offer: Slug | None = Field(
        None, description="The service's offer it uses, as a catalog offer id, if known."
    )


class Project(Strict):
    name: NonEmpty = Field(description="The project's name, as it should appear on the report.")
    id: Slug | None = Field(
        None, description="A short stable id (lower-case words joined by hyphens) that ties "
        "the project's assessments together in its history and the portfolio; absent: the "
        "slug of the name (set it to keep the history when the name changes)."
    )
    respondent: NonEmpty = Field(
        description="Who answered the questionnaire (name and role); recorded in the audit log."
    )
    stage: Literal["idea", "data-preparation", "experimentation", "deployed"] = Field(
        "idea", description="Where the project is today."
    )
    current_solution: CurrentSolution | None = Field(
        None, description="What runs in production today (its rung, and the service and offer "
        "if known); only when the stage is deployed. Absent: not stated."
    )

    @model_serializer(mode="wrap")
    def _without_absent_id(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An id not given is left out of the effective answers (not written as null), so
        that a file without one gives the same decision, byte for byte, as before ids were
        added, and replays of older records reproduce."""
        data = handler(self)
        if data.get("id") is None:
            data.pop("id", None)
        return data  # type: ignore[no-any-return]

    @field_validator("current_solution")
    @classmethod
    def _only_when_deployed(cls, value: CurrentSolution | None,
                            info: ValidationInfo) -> CurrentSolution | None:
        """A running solution is a fact about a deployed project only (stage comes first, so
        it is already validated here)."""
        stage = info.data.get("stage")
        if value is not None and stage is not None and stage != "deployed":
            raise PydanticCustomError(
                "out_of_context", "only applies when project.stage is deployed (the stage is "
                "{stage})", {"stage": stage})
        return value


class SuccessCriterion(Strict):
    metric: MetricName = Field(
        description="Metric name, matched to benchmark columns, "
        "e.g. f1_macro, latency_p95_ms, cost_usd_per_month."
    )
    threshold: Threshold = Field(
        description="The value the metric must reach.", allow_inf_nan=False,
        json_schema_extra={"maximum": limits.MAX_ABS_THRESHOLD,
                           "minimum": -limits.MAX_ABS_THRESHOLD})
    goal: Goal = Field(
        "at-least", description="Whether the metric must be at least or at most the threshold."
    )


class Business(Strict):
    problem_statement: NonEmpty = Field(description="The business problem, in a sentence or two.")
    objective_measurable: bool = Field(
        False, description="A measurable business objective (a KPI) exists for this project."
    )
    kpi: NonEmpty | None = Field(None, description="The KPI the project should move.")
    stakeholders_aligned: bool = Field(
        False, description="The stakeholders agree on the goal and on how success is measured."
    )
    expected_value_usd_per_month: UsdPerMonth | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        json_schema_extra={"maximum": limits.MAX_USD_PER_MONTH},
        description="Value the solution is expected to bring per month, in US dollars.",
    )
    budget_usd_per_month: UsdPerMonth | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        json_schema_extra={"maximum": limits.MAX_USD_PER_MONTH},
        description="What the organisation will spend per month to run it, in US dollars.",
    )
    success_criteria: list[SuccessCriterion] = Field(
        default_factory=list,
        max_length=50,
        description="Measurable success criteria: metric, threshold and goal.",
    )


class Problem(Strict):
    task: Task = Field("other", description="The kind of ML task.")
    classes: Classes | None = Field(
        None, ge=2, json_schema_extra={"maximum": limits.MAX_CLASSES},
        description="How many classes (labels) the model tells apart, for a classification "
        "or detection task. Absent: unknown."
    )
    standard_classes: bool = Field(
        False, description="The classes are standard categories a ready-made service returns "
        "(everyday objects, scenes and activities in photos; the language of a text; generic "
        "entity types such as people, places and organisations), not the "
        "organisation's own."
    )
    multi_label: bool = Field(
        False, description="An input can carry several of the classes at once (multi-label), "
        "not exactly one (multi-class)."
    )
    rules_suffice: bool = Field(
        False, description="A fixed rule or heuristic already meets the objective."
    )
    domain_specificity: Literal["generic", "moderate", "specialized"] = Field(
        "moderate", description="How far the data's language or imagery is from everyday use."
    )
    input_kind: Literal["standard", "unusual"] = Field(
        "standard", description="standard: images public pre-trained models take (photographs, "
        "video frames); unusual: inputs none of them has seen (hyperspectral bands, spectra, "
        "radar, multichannel sensor images)."
    )
    document_layout: Literal["forms", "running-text", "unknown"] = Field(
        "unknown", description="A document-extraction task: forms when the fields sit in fixed "
        "places (forms, invoices, identity documents, tables); running-text when they are "
        "written in clauses or paragraphs to be read and interpreted (contracts, leases, "
        "letters, reports)."
    )
    answers_from: Literal["documents", "systems", "general", "unknown"] = Field(
        "unknown", description="A question-answering or conversational task: where its answers "
        "come from (documents: the organisation's texts; systems: a few kinds of request "
        "fulfilled by back-end systems, such as a balance or a booking; general: general "
        "knowledge)."
    )
    explainability_required: bool = Field(
        False, description="Each prediction must be explainable to users or regulators."
    )
    deployment_target: Literal["cloud", "edge", "on-premises"] = Field(
        "cloud", description="Where the model must run."
    )
    requests_per_month: Count | None = Field(
        None, ge=0, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="Expected prediction requests per month."
    )
    latency_p95_ms: LatencyMs | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        json_schema_extra={"maximum": limits.MAX_LATENCY_MS},
        description="Required 95th-percentile response time in milliseconds, if any.",
    )
    # What one request carries, for the cost estimate; absent: the task's default in
    # knowledge/pricing.yaml (request_defaults), listed in the report as assumed.
    input_chars_per_request: Count | None = Field(
        None, ge=0, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="Characters of text sent with one request (about 4 per token)."
    )
    output_chars_per_request: Count | None = Field(
        None, ge=0, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="Characters of text one request returns (generated text)."
    )
    pages_per_request: Size | None = Field(
        None, ge=0, allow_inf_nan=False, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="Pages in one document sent for extraction."
    )
    audio_minutes_per_request: Size | None = Field(
        None, ge=0, allow_inf_nan=False, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="Minutes of audio in one request."
    )
    sector: Sector = Field(
        "general", description="The sector (industry) the project serves: services purpose-built "
        "for it are preferred; general when none applies or the project is cross-industry."
    )


class Data(Strict):
    available: bool = Field(False, description="Relevant data exists and the team can use it.")
    sources_identified: bool = Field(
        False, description="The data sources are identified and access is arranged."
    )
    labeled_examples: Count = Field(
        0, ge=0, json_schema_extra={"maximum": limits.MAX_COUNT},
        description="How many labelled examples exist (0 if none)."
    )
    quality: Literal["good", "fair", "poor", "unknown"] = Field(
        "unknown", description="The data's quality, as far as it is known."
    )
    inputs_outputs_defined: bool = Field(
        False, description="The ML problem is formulated: inputs, outputs and metrics are defined."
    )
    contains_personal_data: bool = Field(
        False, description="The data contains personal or sensitive information."
    )


class Team(Strict):
    ml_expertise: Literal["none", "basic", "advanced"] = Field(
        "none", description="The team's experience building and running ML models."
    )


class Monitoring(Strict):
    plan_exists: bool = Field(
        False, description="A plan exists to monitor the deployed model's performance and data."
    )
    ground_truth_available: bool = Field(
        False,
        description="True outcomes become known after predictions, so accuracy can be "
        "measured in production.",
    )
    meets_criteria_today: Literal["yes", "no", "unknown"] = Field(
        "unknown", description="A deployed project: whether the running solution meets the "
        "success criteria today, by the team's own monitoring (a drift summary or benchmark "
        "shows it; this answer says it)."
    )
    sensitive_attributes: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = (
        Field(
            default_factory=list,
            max_length=50,
            description="Attributes to check for bias (e.g. region, age band).",
        )
    )


class Answers(Strict):
    schema_: Literal["mladvisor.answers/1"] = Field(
        ANSWERS_SCHEMA, alias="schema", description="The answers file format."
    )
    project: Project
    business: Business
    problem: Problem = Field(default_factory=Problem)  # type: ignore[arg-type]
    data: Data = Field(default_factory=Data)  # type: ignore[arg-type]
    team: Team = Field(default_factory=Team)  # type: ignore[arg-type]
    monitoring: Monitoring = Field(default_factory=Monitoring)  # type: ignore[arg-type]

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True,
                              strict=True, allow_inf_nan=False)


class LoadedAnswers(BaseModel):
    """Validated answers, the document as given, and which leaf answers took their default."""

    answers: Answers
    raw: dict[str, Any]
    defaulted: list[str]
    source: str


def answers_schema() -> dict[str, Any]:
    """JSON Schema of the answers file, for editors to validate and complete it."""
    schema = _json_bounds(Answers.model_json_schema(by_alias=True))
    schema["$id"] = "https://mladvisor.dev/schema/answers-1.json"
    schema["title"] = "mladvisor answers file (mladvisor.answers/1)"
    return schema


# pydantic writes `Field(ge=...)` of an optional number (`int | None`) into the number's
# branch under its own name; JSON Schema, and so every editor, knows these names.
_JSON_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum",
                "lt": "exclusiveMaximum"}


def _json_bounds(node: Any) -> Any:
    if isinstance(node, list):
        return [_json_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    numeric = node.get("type") in ("integer", "number")
    return {(_JSON_BOUNDS.get(k, k) if numeric else k): _json_bounds(v) for k, v in node.items()}


def leaf_paths(model: type[BaseModel] = Answers, prefix: str = "") -> Mapping[str, Any]:
    """Every answer field by dotted path -> its FieldInfo (lists and scalars are leaves).

    A section or an optional group (`project.current_solution`) is not a leaf: its fields are,
    so that rules, examples and questions name `project.current_solution.rung`. Cached and
    read-only: the loader asks for it on every file."""
    return MappingProxyType(_leaf_paths(model, prefix))


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (a section, or an optional group as `Model | None`), and
    whether it is optional; (None, False) for a leaf."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if (typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1
            and isinstance(args[0], type) and issubclass(args[0], BaseModel)):
        return args[0], True
    return None, False


@functools.lru_cache(maxsize=64)
def _leaf_paths(model: type[BaseModel], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key == "schema":
            continue
        path = f"{prefix}{key}"
        sub, _ = _submodel(info.annotation)
        if sub is not None:
            out.update(_leaf_paths(sub, path + "."))
        else:
            out[path] = info
    return out


@functools.lru_cache(maxsize=64)
def optional_groups(model: type[BaseModel] = Answers, prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of the optional groups (`project.current_solution`): mappings that may be
    absent as a whole, so that their fields, required inside them, are optional answers."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        sub, optional = _submodel(info.annotation)
        if sub is not None:
            out += [path] if optional else []
            out += optional_groups(sub, path + ".")
    return tuple(out)


def group_of(path: str) -> str | None:
    """The optional group a leaf path belongs to, if any."""
    return next((g for g in optional_groups() if path.startswith(g + ".")), None)


# Answers that name the project rather than describe it: one not given has no default value
# a report should point out (the project id is then derived from the name: project_id).
NOT_DEFAULTED = ("project.id",)


def _defaulted(raw: dict[str, Any]) -> list[str]:
    """Leaf answers not given; an optional group not given at all is named once, as a whole
    (the report's row for `project.current_solution`), rather than field by field."""
    out = set()
    for path in leaf_paths():
        if dotted.has(raw, path) or path in NOT_DEFAULTED:
            continue
        group = group_of(path)
        out.add(group if group is not None and dotted.get(raw, group, None) is None else path)
    return sorted(out)


def read_text(path: str | Path, kind: str = "a YAML or JSON text file") -> str:
    """A regular file's UTF-8 text within the size limit (see engine/util/load.py)."""
    from engine.util.load import read_text as limited_read_text

    return limited_read_text(path, kind)


def read_document(path: str | Path) -> Any:
    """Read YAML or JSON through the one limited loader; every failure is one InputError."""
    from engine.util.load import load_document

    return load_document(path)


# Strict type errors in words; a quoted number or a yes/no string is named as text.
TYPE_WORDS = {
    "int_type": "expected an integer (a number without quotes)",
    "int_from_float": "expected an integer (a whole number)",
    "float_type": "expected a number (without quotes)",
    "bool_type": "expected a boolean (true or false, without quotes)",
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "finite_number": "expected a finite number",
}


# This module's own error kinds, worded for a person already; True: followed by the value given.
# An out-of-context value (a current solution before deployment) is named by its field alone.
OWN_ERRORS = {"input_limit": True, "out_of_context": False}


def _typed(got: Any) -> str:
    """A wrong value with its type, so `"12000"` reads as text, not as the number."""
    if isinstance(got, str):
        return f"{got!r} (text)"
    if isinstance(got, bool):
        return f"{str(got).lower()} (a boolean)"
    if isinstance(got, dict | list):
        return "a mapping" if isinstance(got, dict) else "a list"
    if got is None:
        return "null"
    return f"{got!r} ({type(got).__name__})"


def validation_to_input_error(file: str, error: ValidationError, prefix: str = "") -> InputError:
    """The first pydantic error as a one-line message a person can act on."""
    first = error.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"] if p != "__root__")
    loc = f"{prefix}{loc}" if prefix else loc
    kind = first["type"]
    ctx = first.get("ctx") or {}
    got = first.get("input")
    if kind == "extra_forbidden":
        return InputError(file, loc, "unknown key (not part of the format)")
    if kind == "missing":
        return InputError(file, loc, "required field is missing")
    if kind == "literal_error":
        return InputError(file, loc, f"expected one of {ctx.get('expected', '')}", got)
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return InputError(file, loc, first["msg"].lower(), got)
    if kind in ("string_too_short",) and got is not None:
        return InputError(file, loc, "must not be empty")
    if kind == "too_long" and isinstance(got, list | dict):
        return InputError(file, loc, f"expected at most {ctx.get('max_length')} entries (the "
                          "input limit)", f"{len(got)} entries")
    if kind in OWN_ERRORS:
        return InputError(file, loc, first["msg"], got if OWN_ERRORS[kind] else None)
    if kind in TYPE_WORDS:
        return InputError(file, loc, TYPE_WORDS[kind], _typed(got))
    if isinstance(got, dict | list):
        got = type(got).__name__
    return InputError(file, loc, first["msg"][0].lower() + first["msg"][1:], got)


def parse_answers(raw: Any, source: str = "<answers>") -> LoadedAnswers:
    if not isinstance(raw, dict):
        kind = "empty document" if raw is None else type(raw).__name__
        raise InputError(source, "", "expected a mapping of answers (mladvisor.answers/1)", kind)
    if "schema" not in raw:
        raise InputError(source, "schema", f"required field is missing (expected {ANSWERS_SCHEMA})")
    try:
        answers = Answers.model_validate(raw)
    except ValidationError as error:
        raise validation_to_input_error(source, error) from None
    return LoadedAnswers(answers=answers, raw=raw, defaulted=_defaulted(raw), source=source)


def load_answers(path: str | Path) -> LoadedAnswers:
    return parse_answers(read_document(path), str(path))


def effective_answers(loaded: LoadedAnswers) -> dict[str, Any]:
    """Every answer with defaults filled in, as the report and the engine see them."""
    return loaded.answers.model_dump(mode="json", by_alias=True)
