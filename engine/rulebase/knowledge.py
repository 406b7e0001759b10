"""The knowledge base: lifecycle guidance, the service catalog, the ladder and the questionnaire.

All of it is data in knowledge/*.yaml, validated here at load time so that a broken edit fails
with the file and field, not later inside a rule.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import RuleBaseError
from engine.model.vocab import (
    METHODS,
    PHASES,
    RUNGS,
    RUNS,
    SEVERITIES,
    TASKS,
    UNSPECIFIC_SECTORS,
    VERDICTS,
    Method,
    Phase,
    Rung,
    Runs,
    Sector,
    SectorFit,
    Severity,
    Task,
    Verdict,
)
from engine.rulebase.pricing import Estimate, Pricing, estimate, figures
from engine.util.memo import keep


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# ------------------------------------------------------------------ guidance


class GuidanceItem(Model):
    id: str = Field(pattern=r"^[a-z-]+\.[a-z0-9-]+$")
    title: str
    text: str
    seed: str = Field(description="Which part of the source guidance this paraphrases.")
    checked: dt.date | None = Field(
        None, description="When an entry that states facts about a provider was last checked "
        "against its source; `mladvisor rules lint` warns once it is stale.")


class PhaseGuidance(Model):
    id: Phase
    title: str
    summary: str
    guidance: list[GuidanceItem]


class Guidance(Model):
    schema_: Literal["mladvisor.guidance/1"] = Field(alias="schema")
    source: str
    phases: list[PhaseGuidance]

    @model_validator(mode="after")
    def _all_phases(self) -> Guidance:
        ids = [p.id for p in self.phases]
        if ids != list(PHASES):
            raise ValueError(f"phases must be listed in lifecycle order: {', '.join(PHASES)}")
        return self


# ------------------------------------------------------------------ services


class Labels(Model):
    """The labelled examples an offer needs. Only a `documented` minimum (the provider's own
    documentation) may rule an option out; a `planning` floor is our estimate and only demotes."""

    basis: Literal["none", "documented", "planning"] = "none"
    minimum: int = Field(0, ge=0, description="Total labelled examples.")
    per_class: int | None = Field(None, ge=1, description="Per class, single-label tasks.")
    per_label: int | None = Field(None, ge=1, description="Per label, multi-label tasks.")

    @model_validator(mode="after")
    def _basis(self) -> Labels:
        needs = self.minimum or self.per_class or self.per_label
        if (self.basis == "none") != (not needs):
            raise ValueError("basis is none exactly when no labels are needed")
        return self

    def needed(self, classes: int | None, multi_label: bool | None) -> int:
        """The minimum for this project: per class (or label) times the classes, counting two
        when the number is not known (a classification has at least two)."""
        per = self.per_label if multi_label else self.per_class
        return max(self.minimum, (per or 0) * max(classes or 2, 2))


class Offer(Model):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                    description="Unique in the catalog; options in the decision carry it.")
    rung: Rung
    method: Method
    runs: list[Runs] = Field(min_length=1, description="Where it can run, most usual first.")
    tasks: list[Task] = Field(min_length=1)
    how: str | dict[Task, str] = Field(
        description="What the team does, per task: a mapping task -> text whenever the offer "
                    "lists more than one task, so a strategy speaks only of the project's task.")
    labels: Labels = Field(
        default_factory=lambda: Labels(basis="none", minimum=0, per_class=None, per_label=None))
    serving_path: str | None = Field(
        None, description="Options with the same path serve the same model: shared evidence.")
    sectors: list[Sector] = Field(
        default_factory=list,
        description="The sectors the offer is purpose-built for; empty: it serves every sector.")
    cost_tier: Literal["low", "medium", "high"]
    effort: Literal["days", "weeks", "months"]
    explainable: bool = False
    standard_classes: bool = Field(
        False, description="It serves its classifying tasks only with the provider's own "
        "standard categories (everyday objects and scenes, languages), never the project's.")
    reads: Literal["layout", "language"] = Field(
        "language", description="layout: it finds fields by their place on a page (forms, "
        "tables, key-value pairs); language: it reads and interprets running text.")
    note: str = ""

    @model_validator(mode="after")
    def _how_per_task(self) -> Offer:
        if isinstance(self.how, str) and len(self.tasks) > 1:
            raise ValueError("how must map each of the offer's tasks to a text of its own "
                             "(task: text) when the offer lists more than one task")
        if isinstance(self.how, dict) and sorted(self.how) != sorted(self.tasks):
            raise ValueError("how must give one text for each of the offer's tasks")
        return self

    @model_validator(mode="after")
    def _named_sectors(self) -> Offer:
        vague = [s for s in self.sectors if s in UNSPECIFIC_SECTORS]
        if vague:
            raise ValueError(f"sectors must name particular sectors, not {', '.join(vague)} "
                             "(an offer for every sector lists none)")
        return self

    def sector_fit(self, sector: str | None) -> SectorFit:
        """How the offer stands to a project's sector (see vocab.SectorFit)."""
        if not self.sectors:
            return "general-purpose"
        return "purpose-built" if sector in self.sectors else "other-sector"

    def how_for(self, task: str) -> str:
        text = self.how if isinstance(self.how, str) else self.how[task]  # type: ignore[index]
        return " ".join(text.split())


Availability = Literal["generally-available", "closed-to-new-customers", "end-of-life"]
OPEN = "generally-available"  # the availability of a service anyone can start using


class Support(Model):
    """What a service does as a part of the answer rather than as its rung: labelling, human
    review, guardrails, explanations, compiling and running on devices, monitoring."""

    role: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                      description="The part it plays (labelling, human-review, guardrails, ...; "
                                  "knowledge/services.yaml lists them).")
    what: str = Field(description="What it is for, in one sentence (the report shows it).")
    tasks: list[Task] = Field(default_factory=list,
                              description="The tasks it supports; empty: any task.")


class Service(Model):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    kind: Literal["ai-service", "foundation-models", "ml-platform", "model-hub", "no-code-ml",
                  "supporting"]
    summary: str
    data_needs: str
    availability: Availability
    availability_note: str = ""
    closed_on: dt.date | Literal["unknown"] | None = Field(
        None, description="A service that is not generally available: the day it closed, to "
        "new customers (closed-to-new-customers) or for everyone, support ended "
        "(end-of-life); `unknown` only with a closed_on_note saying where it was looked for. "
        "`mladvisor rules lint` requires it.")
    closed_on_note: str = Field(
        "", description="Why closed_on is unknown: the pages searched for the date.")
    successor: str = Field(
        "", description="What AWS points the service's users to instead (service names or "
        "catalog ids). `mladvisor rules lint` requires it of a service that is not open.")
    docs: str
    checked: dt.date
    offers: list[Offer] = Field(default_factory=list)
    supports: list[Support] = Field(
        default_factory=list, description="What it is for besides its offers (kind supporting).")

    @model_validator(mode="after")
    def _offers_or_support(self) -> Service:
        if self.kind == "supporting":
            if not self.supports:
                raise ValueError("a supporting service says what it is for (supports)")
            if not self.is_open and not self.successor.strip():
                raise ValueError(f"{self.id} is {self.availability}: say what a new project "
                                 "uses instead (successor)")
        elif not self.offers:
            raise ValueError("a service that is not kind supporting lists at least one offer")
        return self

    @model_validator(mode="after")
    def _closing(self) -> Service:
        if self.closed_on == "unknown" and not self.closed_on_note.strip():
            raise ValueError("closed_on: unknown needs a closed_on_note saying where the date "
                             "was looked for")
        if self.availability == OPEN and (self.closed_on or self.successor):
            raise ValueError("closed_on and successor are for a service that is not "
                             "generally available")
        return self

    @property
    def is_open(self) -> bool:
        return self.availability == OPEN

    @property
    def closed_on_text(self) -> str | None:
        """closed_on as data carries it: an ISO date, `unknown`, or None."""
        value = self.closed_on
        return value if value is None or isinstance(value, str) else value.isoformat()

    def closed_text(self) -> str:
        """When it closed, in words: `closed 2025-10-31`, or `closing date unknown`."""
        if self.closed_on is None:
            return ""
        return "closing date unknown" if self.closed_on == "unknown" else \
            f"closed {self.closed_on.isoformat()}"


class Catalog(Model):
    schema_: Literal["mladvisor.services/2"] = Field(alias="schema")
    stale_after_days: int = Field(
        ge=1, description="`mladvisor rules lint` warns about an entry whose `checked` date is "
        "older than this many days (services, guidance and price entries alike).")
    services: list[Service]

    def checked_range(self) -> tuple[dt.date, dt.date] | None:
        """The oldest and newest `checked` date of the services: how current the advice is."""
        dates = sorted(s.checked for s in self.services)
        return (dates[0], dates[-1]) if dates else None

    def checked_text(self) -> str:
        """`Service catalog checked 2026-11-27 to 2026-12-02` (one date when all agree)."""
        span = self.checked_range()
        if span is None:
            return ""
        oldest, newest = (d.isoformat() for d in span)
        return f"Service catalog checked {oldest}" + (f" to {newest}" if newest != oldest else "")

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        ids = [s.id for s in self.services]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate service ids: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _unique_offers(self) -> Catalog:
        ids = [o.id for s in self.services for o in s.offers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate offer ids: {', '.join(dupes)}")
        return self

    def get(self, service_id: str | None) -> Service | None:
        return None if service_id is None else self.services_by_id.get(service_id)

    @functools.cached_property
    def services_by_id(self) -> dict[str, Service]:
        """Services by id (asked for options of every case); ids are unique (_unique)."""
        return {s.id: s for s in self.services}

    @functools.cached_property
    def offer_ids(self) -> frozenset[str]:
        """Every offer's id (asked for each option of every case)."""
        return frozenset(o.id for s in self.services for o in s.offers)

    def offer(self, offer_id: str) -> Offer:
        return self.offers_by_id[offer_id]

    @functools.cached_property
    def offers_by_id(self) -> dict[str, Offer]:
        """Offers by id (asked for every offer of every case); ids are unique (_unique_offers)."""
        return {o.id: o for s in self.services for o in s.offers}


# ------------------------------------------------------------------ ladder


class RungInfo(Model):
    id: Rung
    title: str
    description: str
    summary: str = Field(
        description="Strategy sentence; {service_name} and {method} are filled in."
    )


class RunsInfo(Model):
    meaning: str
    route: str = Field("", description="Sentence added to the strategy summary (may be empty).")
    names_service: bool = Field(
        True, description="Whether the strategy names the option's service: false where no "
                          "provider service runs the model (the option still names its offer).")
    cloud_billed: bool = Field(
        True, description="Whether running the model is billed by the provider; false where the "
                          "organisation's own hardware or devices run it (the build is still "
                          "priced).")


class Ladder(Model):
    schema_: Literal["mladvisor.ladder/1"] = Field(alias="schema")
    rungs: list[RungInfo]
    verdict_precedence: list[Verdict] = Field(
        description="Most decisive first: the first verdict any rule proposes wins."
    )
    default_verdict: Verdict
    withhold_strategy: list[Verdict] = Field(
        default_factory=list, description="Verdicts under which no strategy is selected.")
    fallback_rung: Rung = Field(description="The strategy when no option survives.")
    fallback_summary: str
    tie_break: dict[str, list[str]] = Field(
        description="Within a rung, offers are ordered by these offer fields, values in order."
    )
    severity_order: list[Severity]
    verdicts: dict[Verdict, str] = Field(description="Plain-language meaning of each verdict.")
    baseline_rungs: dict[str, Rung] = Field(
        default_factory=dict, description="Rung of each baseline `mladvisor benchmark` trains.")
    methods: dict[Method, str] = Field(description="What each offer method means.")
    runs: dict[Runs, RunsInfo] = Field(description="Where a model runs, and the route to it.")
    measure_first_within: list[str] = Field(
        default_factory=list,
        description="Offer fields (ordered in tie_break) on which an unmeasured simpler option "
        "may ask no more than the proven one, to be recommended for measuring first.")
    fallback_note: str = Field(
        "", description="Added to the strategy when an unmeasured option is chosen before a "
        "proven fallback; {selected_name}, {fallback_name}, {fallback_rung}, {fallback_candidate}.")
    shortfall_note: str = Field(
        "", description="Added to the strategy when an unmeasured option is chosen after the "
        "measured ones fell short; {selected_name} and {shortfall} are filled in.")
    rung_methods: dict[Rung, Method] = Field(
        default_factory=dict, description="The method of an option on a rung with no offer.")
    closed_groups: dict[Availability, str] = Field(
        default_factory=dict,
        description="Per service availability, the label of the one line that stands for every "
        "option ruled out because its service has that availability (\"Retired\").")
    deployment_targets: dict[str, list[Runs]] = Field(
        description="Per problem.deployment_target, where a model may run, preferred first.")
    targets_text: dict[str, str] = Field(
        default_factory=dict,
        description="Per problem.deployment_target, where the model runs in words (target.where).")

    @model_validator(mode="after")
    def _complete(self) -> Ladder:
        if [r.id for r in self.rungs] != list(RUNGS):
            raise ValueError(f"rungs must be listed simplest first: {', '.join(RUNGS)}")
        if sorted(self.verdict_precedence) != sorted(VERDICTS):
            raise ValueError("verdict_precedence must list every verdict once")
        if sorted(self.severity_order) != sorted(SEVERITIES):
            raise ValueError("severity_order must list every severity once")
        if sorted(self.methods) != sorted(METHODS) or sorted(self.runs) != sorted(RUNS):
            raise ValueError("methods and runs must document every value of the vocabulary once")
        return self

    def case_facts(self, target: str | None) -> dict[str, Any]:
        """The deployment target as rules' text says it: "on an edge device", not "on edge"."""
        where = self.targets_text.get(target or "")
        return {"target.where": where} if where else {}

    def placement(self, target: str | None, runs: list[str]) -> tuple[str, bool]:
        """Where an offer would run for this deployment target, and whether that fits it."""
        allowed = self.deployment_targets.get(target or "", [])
        fitting = [r for r in allowed if r in runs]
        return (fitting[0], True) if fitting else (runs[0], False)

    def rank(self, rung: str) -> int:
        return RUNGS.index(rung)


# ------------------------------------------------------------------ questionnaire


class Question(Model):
    path: str
    label: str | None = Field(None, description="A short name of the answer for reports (the "
                              "sponsor's page names a change as 'Running budget (USD a month)').")
    question: str
    help: str
    ask_when: Any = Field(None, description="A condition over earlier answers (rule syntax).")
    personal: bool = False
    example: Any = None
    lever: str | None = Field(
        None, description="How a team can change this answer; set only on answers that are "
                          "the team's to change (explain proposes changes of these).")


class Section(Model):
    id: str
    title: str
    intro: str = ""
    questions: list[Question]


class Questionnaire(Model):
    schema_: Literal["mladvisor.questionnaire/1"] = Field(alias="schema")
    sections: list[Section]

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def personal_paths(self) -> list[str]:
        return [q.path for q in self.questions() if q.personal]

    def levers(self) -> dict[str, str]:
        """The answers a team can change, with how."""
        return {q.path: q.lever for q in self.questions() if q.lever}


class TaskInfo(Model):
    modality: Literal["text", "document", "speech", "image", "tabular", "time-series",
                      "interactions", "mixed"]
    outputs: Literal["fixed", "open", "own-classes"] = Field(
        description="fixed or open: a model used as it is can give them; own-classes: not.")
    examples: str = Field(description="What a labelled example is for this task (plural).")
    free_text: bool = Field(description="Inputs are free text or media, not table columns.")
    evaluated_by: Literal["labels", "ratings"] = Field(
        "labels", description="labels: outputs are compared with examples labelled beforehand; "
        "ratings: people rate outputs the trial generates, so nothing is labelled beforehand.")


class Tasks(Model):
    schema_: Literal["mladvisor.tasks/1"] = Field(alias="schema")
    as_is_methods: list[Method]
    tasks: dict[Task, TaskInfo]

    @model_validator(mode="after")
    def _every_task(self) -> Tasks:
        if sorted(self.tasks) != sorted(TASKS):
            raise ValueError("tasks must describe every task of the vocabulary once")
        return self

    def case_facts(self, task: str | None) -> dict[str, Any]:
        info = self.tasks.get(task)  # type: ignore[call-overload]
        if info is None:
            return {}
        return {f"task.{k}": v for k, v in info.model_dump().items()}


# ------------------------------------------------------------------ monitoring


class Route(Model):
    runs_on: str = Field(description="Where the check runs and where its results go, in words.")
    services: list[str] = Field(default_factory=list,
                                description="Catalog ids of the services it names (open ones).")


class Place(Model):
    """Where one kind of monitoring check runs, by where the selected model runs."""

    description: str
    default: Route
    by_runs: dict[Runs, Route] = Field(
        default_factory=dict, description="Per option `runs` value, when it differs.")


class MonitoringPlaces(Model):
    schema_: Literal["mladvisor.monitoring/1"] = Field(alias="schema")
    places: dict[str, Place] = Field(
        description="A rule's `monitor.where` names one; the plan item gets its route.")

    def route(self, where: str, runs: str | None) -> Route | None:
        place = self.places.get(where)
        if place is None:
            return None
        return place.by_runs.get(runs, place.default)  # type: ignore[call-overload]


class Knowledge(Model):
    guidance: Guidance
    catalog: Catalog
    ladder: Ladder
    questionnaire: Questionnaire
    tasks: Tasks
    pricing: Pricing
    monitoring: MonitoringPlaces | None = Field(
        None, description="knowledge/monitoring.yaml; absent from rule bases recorded before it "
                          "existed (their plan items name no place).")

    def guidance_ids(self) -> dict[str, GuidanceItem]:
        return {g.id: g for p in self.guidance.phases for g in p.guidance}


KNOWLEDGE = "knowledge"  # the folder of these files inside a rule base
MONITORING = "monitoring.yaml"  # optional: rule bases recorded before it have none
FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "guidance": ("guidance.yaml", Guidance),
    "catalog": ("services.yaml", Catalog),
    "ladder": ("ladder.yaml", Ladder),
    "questionnaire": ("questionnaire.yaml", Questionnaire),
    "tasks": ("tasks.yaml", Tasks),
    "pricing": ("pricing.yaml", Pricing),
}


@dataclass(frozen=True)
class Document:
    """One parsed rule-base file, with the line where each of its values starts, so that an
    error (or a rule) can be pointed at as `rules/data.yaml:37`."""

    file: str  # as messages name it
    data: Any
    lines: dict[str, int] = dataclass_field(default_factory=dict, repr=False)

    def line(self, path: str) -> int | None:
        """The line of the value at a dotted path, or of its nearest enclosing value."""
        while path not in self.lines:
            if not path:
                return None
            path = path.rpartition(".")[0]
        return self.lines[path]


def read_file(path: Path, kind: str = "a rule base YAML file") -> bytes:
    """One rule-base file's bytes, with the document reader's limits (a regular file of at most
    the YAML size limit); a failure is a RuleBaseError."""
    from engine.errors import InputError
    from engine.util import limits
    from engine.util.load import read_bytes

    try:
        return read_bytes(path, limits.MAX_YAML_BYTES, kind)
    except InputError as error:
        raise RuleBaseError(error.file, error.path, _problem(error)) from None


def _problem(error: Any) -> str:
    """An InputError's complaint without its file (RuleBaseError adds file and line)."""
    got = "" if error.got is None else f", got {error.got}"
    return f"{error.expected}{got}"


def parse_file(files: Mapping[str, bytes], name: str, label: str | None = None) -> Document:
    """Parse files[name] (a path relative to the rule base) with the strict document loader:
    YAML 1.2 core values, no aliases, duplicate keys refused. `label` is the name messages use
    (a folder's path when read from disk); the name itself by default."""
    from engine.errors import InputError
    from engine.util.load import decode_text, parse_yaml_lines

    file = label or name
    if name not in files:
        raise RuleBaseError(file, "", "file not found")
    try:
        data, lines = parse_yaml_lines(decode_text(files[name], file, "a YAML text file"), file)
    except InputError as error:
        raise RuleBaseError(file, error.path, _problem(error)) from None
    return Document(file, data, lines)


def validate(doc: Document, model: type[BaseModel], data: Any = None) -> Any:
    """doc.data (or `data`, a part of it) validated; the first error names its line."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise RuleBaseError(doc.file, loc, first["msg"], doc.line(loc)) from None


def load_ladder(directory: Path | None = None) -> Ladder:
    """Only the ladder, for commands that need rung names but not the whole rule base."""
    from engine.paths import knowledge_dir

    path = (directory or knowledge_dir()) / FILES["ladder"][0]
    doc = parse_file({path.name: read_file(path)}, path.name, str(path))
    return validate(doc, Ladder)


def load_knowledge(files: Mapping[str, bytes], label: Callable[[str], str] = str) -> Knowledge:
    """The knowledge/ files of a rule base given as {relative path: bytes}; `label` turns a
    relative path into the name messages use."""
    parts: dict[str, Any] = {}
    docs: dict[str, Document] = {}
    for key, (name, model) in FILES.items():
        rel = f"{KNOWLEDGE}/{name}"
        docs[key] = parse_file(files, rel, label(rel))
        parts[key] = validate(docs[key], model)
    rel = f"{KNOWLEDGE}/{MONITORING}"
    if rel in files:
        docs["monitoring"] = parse_file(files, rel, label(rel))
        parts["monitoring"] = validate(docs["monitoring"], MonitoringPlaces)
    knowledge = Knowledge(**parts)
    _check_questionnaire(docs["questionnaire"], knowledge.questionnaire)
    _check_as_is(docs["catalog"], knowledge)
    _check_priced_offers(docs["pricing"], knowledge)
    if knowledge.monitoring is not None:
        _check_places(docs["monitoring"], knowledge)
    return knowledge


def _check_priced_offers(doc: Document, knowledge: Knowledge) -> None:
    """A price names an offer of the catalog."""
    known = {o.id for s in knowledge.catalog.services for o in s.offers}
    for i, price in enumerate(knowledge.pricing.offers):
        if price.offer not in known:
            raise RuleBaseError(doc.file, f"offers.{i}.offer",
                                f"no offer {price.offer} in knowledge/services.yaml",
                                doc.line(f"offers.{i}"))


def _check_places(doc: Document, knowledge: Knowledge) -> None:
    """A monitoring place names catalog services that are open to new customers."""
    assert knowledge.monitoring is not None
    for name, place in knowledge.monitoring.places.items():
        routes = [("default", place.default), *(
            (f"by_runs.{runs}", route) for runs, route in place.by_runs.items())]
        for where, route in routes:
            problem = catalog_problem(knowledge.catalog, route.services)
            if problem:
                path = f"places.{name}.{where}.services"
                raise RuleBaseError(doc.file, path, problem, doc.line(path))


def catalog_problem(catalog: Catalog, service_ids: list[str]) -> str:
    """Why these ids cannot be recommended (unknown, or not open to new customers), or ""."""
    for service_id in service_ids:
        service = catalog.get(service_id)
        if service is None:
            return f"unknown service id {service_id} (not in knowledge/services.yaml)"
        if not service.is_open:
            instead = f"; name what replaces it: {service.successor}" if service.successor \
                else ""
            return (f"{service_id} is {service.availability} and is never recommended to a new "
                    f"project{instead}")
    return ""


def _check_as_is(doc: Document, knowledge: Knowledge) -> None:
    """An offer that uses a model as it is cannot give the project's own classes."""
    tasks = knowledge.tasks
    for i, service in enumerate(knowledge.catalog.services):
        for j, offer in enumerate(service.offers):
            own = [t for t in offer.tasks if tasks.tasks[t].outputs == "own-classes"]
            if offer.method in tasks.as_is_methods and own and not offer.standard_classes:
                raise RuleBaseError(
                    doc.file, f"services.{i}.offers.{j}.tasks",
                    f"offer {offer.id} uses a model as it is ({offer.method}), which cannot give "
                    f"the project's own classes ({', '.join(own)}); list them on a fine-tune or "
                    "training offer (knowledge/tasks.yaml outputs)",
                    doc.line(f"services.{i}.offers.{j}"))


def _check_questionnaire(doc: Document, questionnaire: Questionnaire) -> None:
    from engine.model.answers import leaf_paths

    fields = set(leaf_paths())
    for i, section in enumerate(questionnaire.sections):
        for j, q in enumerate(section.questions):
            if q.path not in fields:
                raise RuleBaseError(doc.file, q.path, "question for a field the answers file "
                                    "does not have", doc.line(f"sections.{i}.questions.{j}"))
    missing = sorted(fields - {q.path for q in questionnaire.questions()})
    if missing:
        raise RuleBaseError(doc.file, missing[0], "answers field has no question")


def offer_facts(catalog: Catalog) -> list[dict[str, Any]]:
    """One fact per (service, offer, task): what rules match candidates against. Facts are
    flat scalars (the C core gets nothing else); `fit_offer` adds what depends on the case."""
    facts = []
    for order, service in enumerate(catalog.services):
        for offer in service.offers:
            for task in offer.tasks:
                facts.append(
                    {
                        "offer": offer.id,
                        "service": service.id,
                        "service_name": service.name,
                        "kind": service.kind,
                        "availability": service.availability,
                        "catalog_order": order,
                        "rung": offer.rung,
                        "task": task,
                        "method": offer.method,
                        "how": offer.how_for(task),
                        "labels_basis": offer.labels.basis,
                        "serving_path": offer.serving_path or offer.id,
                        "sectors": ", ".join(offer.sectors),
                        "cost_tier": offer.cost_tier,
                        "effort": offer.effort,
                        "explainable": offer.explainable,
                        "standard_classes": offer.standard_classes,
                        "reads": offer.reads,
                    }
                )
    return facts


# The answers an offer fact depends on (besides the offer filter's): see fit_offer.
FIT_PATHS = ("problem.deployment_target", "problem.classes", "problem.multi_label",
             "problem.sector", "problem.task", "problem.requests_per_month",
             "problem.input_chars_per_request", "problem.output_chars_per_request",
             "problem.pages_per_request", "problem.audio_minutes_per_request",
             "data.labeled_examples", "business.expected_value_usd_per_month",
             "latency.p95_ms")  # priced as batch jobs or an endpoint (pricing.batch_allowed)


def fit_offer(fact: dict[str, Any], knowledge: Knowledge, case: Mapping[str, Any],
              fitted: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] | None = None
              ) -> dict[str, Any]:
    """An offer fact for one case: where it would run for the deployment target (and whether
    it can run there), how many labels it needs for the project's classes, and whether it is
    purpose-built for the project's sector, for every sector or for other sectors.

    Given `fitted`, equal fits of one catalog fact are one object, kept there: cases that
    differ in answers the fit does not read share them, and so does what the engine derives
    from each (its wire form, kept by identity)."""
    offer = knowledge.catalog.offer(fact["offer"])
    runs, fits = knowledge.ladder.placement(case.get("problem.deployment_target"),
                                            list(offer.runs))
    needed = offer.labels.needed(case.get("problem.classes"), case.get("problem.multi_label"))
    sector_fit = offer.sector_fit(case.get("problem.sector"))
    # the numbers alone: the report writes out the arithmetic of the options it shows
    info = _placement(knowledge, runs)
    cost = figures(knowledge.pricing, offer.id, case, needed,
                   running=info is None or info.cloud_billed)
    key = (id(fact), runs, fits, needed, type(needed), sector_fit, cost)
    known = fitted.get(key) if fitted is not None else None
    if known is not None and known[0] is fact:  # (the id of a fact no longer held may recur)
        return known[1]
    made = {**fact, "runs": runs, "runs_fit": fits, "labels_needed": needed,
            "sector_fit": sector_fit, "cost_priced": cost is not None}
    if cost is not None:
        made.update(cost_low=cost.low, cost_high=cost.high,
                    build_low=cost.build_low, build_high=cost.build_high,
                    # rests on a request size the answers did not give (the task's default)
                    cost_assumed=cost.assumed)
    if fitted is not None:
        keep(fitted, key, (fact, made), 8192)
    return made


def option_estimate(knowledge: Knowledge, offer: str, runs: str | None,
                    case: Mapping[str, Any], labels_needed: int) -> Estimate:
    """The cost of an offer placed where it would run: a model on the organisation's own
    hardware or devices has no provider running price, only its build."""
    info = _placement(knowledge, runs)
    return estimate(knowledge.pricing, offer, case, labels_needed,
                    running=info is None or info.cloud_billed,
                    where=info.meaning if info is not None else "")


def _placement(knowledge: Knowledge, runs: str | None) -> Any:
    """What the ladder says of where an offer runs (whether the cloud bills it), if known."""
    return knowledge.ladder.runs.get(runs) if runs else None  # type: ignore[call-overload]
