"""The answers file (mladvisor.answers/1) as strict pydantic models, and its loader.

Field descriptions double as questionnaire help and as the exported JSON Schema. Every field
outside `project` has a default; the loader reports which answers took it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from engine.errors import InputError
from engine.model.vocab import Goal, Task
from engine.util import dotted, limits

ANSWERS_SCHEMA: Literal["mladvisor.answers/1"] = "mladvisor.answers/1"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


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


class Strict(BaseModel):
    model_config = STRICT


class Project(Strict):
    name: NonEmpty = Field(description="The project's name, as it should appear on the report.")
    respondent: NonEmpty = Field(
        description="Who answered the questionnaire (name and role); recorded in the audit log."
    )
    stage: Literal["idea", "data-preparation", "experimentation", "deployed"] = Field(
        "idea", description="Where the project is today."
    )


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
    rules_suffice: bool = Field(
        False, description="A fixed rule or heuristic already meets the objective."
    )
    domain_specificity: Literal["generic", "moderate", "specialized"] = Field(
        "moderate", description="How far the data's language or imagery is from everyday use."
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
    schema = Answers.model_json_schema(by_alias=True)
    schema["$id"] = "https://mladvisor.dev/schema/answers-1.json"
    schema["title"] = "mladvisor answers file (mladvisor.answers/1)"
    return schema


def leaf_paths(model: type[BaseModel] = Answers, prefix: str = "") -> Mapping[str, Any]:
    """Every answer field by dotted path -> its FieldInfo (lists and scalars are leaves).

    Cached and read-only: the loader asks for it on every file."""
    return MappingProxyType(_leaf_paths(model, prefix))


@functools.lru_cache(maxsize=64)
def _leaf_paths(model: type[BaseModel], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key == "schema":
            continue
        path = f"{prefix}{key}"
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_leaf_paths(ann, path + "."))
        else:
            out[path] = info
    return out


def _defaulted(raw: dict[str, Any]) -> list[str]:
    return sorted(path for path in leaf_paths() if not dotted.has(raw, path))


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
    if kind == "input_limit":
        return InputError(file, loc, first["msg"], got)
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
