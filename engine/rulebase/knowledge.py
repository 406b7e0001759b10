"""The knowledge base: lifecycle guidance, the service catalog, the ladder and the questionnaire.

All of it is data in knowledge/*.yaml, validated here at load time so that a broken edit fails
with the file and field, not later inside a rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import RuleBaseError
from engine.model.vocab import (
    PHASES,
    RUNGS,
    SEVERITIES,
    VERDICTS,
    Phase,
    Rung,
    Severity,
    Task,
    Verdict,
)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# ------------------------------------------------------------------ guidance


class GuidanceItem(Model):
    id: str = Field(pattern=r"^[a-z-]+\.[a-z0-9-]+$")
    title: str
    text: str
    seed: str = Field(description="Which part of the source guidance this paraphrases.")


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


class Offer(Model):
    rung: Rung
    tasks: list[Task] = Field(min_length=1)
    method: str
    min_labeled_examples: int = Field(ge=0)
    hosted: bool
    cost_tier: Literal["low", "medium", "high"]
    effort: Literal["days", "weeks", "months"]
    explainable: bool = False
    note: str = ""


class Service(Model):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    kind: Literal["ai-service", "foundation-models", "ml-platform", "model-hub", "no-code-ml"]
    summary: str
    data_needs: str
    availability: Literal["generally-available", "closed-to-new-customers", "end-of-life"]
    availability_note: str = ""
    docs: str
    checked: dt.date
    offers: list[Offer] = Field(min_length=1)


class Catalog(Model):
    schema_: Literal["mladvisor.services/1"] = Field(alias="schema")
    services: list[Service]

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        ids = [s.id for s in self.services]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate service ids: {', '.join(dupes)}")
        return self

    def get(self, service_id: str | None) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


# ------------------------------------------------------------------ ladder


class RungInfo(Model):
    id: Rung
    title: str
    description: str
    summary: str = Field(
        description="Strategy sentence; {service_name} and {method} are filled in."
    )


class Ladder(Model):
    schema_: Literal["mladvisor.ladder/1"] = Field(alias="schema")
    rungs: list[RungInfo]
    verdict_precedence: list[Verdict] = Field(
        description="Most decisive first: the first verdict any rule proposes wins."
    )
    default_verdict: Verdict
    fallback_rung: Rung = Field(description="The strategy when no option survives.")
    fallback_summary: str
    tie_break: dict[str, list[str]] = Field(
        description="Within a rung, offers are ordered by these offer fields, values in order."
    )
    severity_order: list[Severity]
    verdicts: dict[Verdict, str] = Field(description="Plain-language meaning of each verdict.")
    baseline_rungs: dict[str, Rung] = Field(
        default_factory=dict, description="Rung of each baseline `mladvisor benchmark` trains.")

    @model_validator(mode="after")
    def _complete(self) -> Ladder:
        if [r.id for r in self.rungs] != list(RUNGS):
            raise ValueError(f"rungs must be listed simplest first: {', '.join(RUNGS)}")
        if sorted(self.verdict_precedence) != sorted(VERDICTS):
            raise ValueError("verdict_precedence must list every verdict once")
        if sorted(self.severity_order) != sorted(SEVERITIES):
            raise ValueError("severity_order must list every severity once")
        return self

    def rank(self, rung: str) -> int:
        return RUNGS.index(rung)


# ------------------------------------------------------------------ questionnaire


class Question(Model):
    path: str
    question: str
    help: str
    ask_when: Any = Field(None, description="A condition over earlier answers (rule syntax).")
    personal: bool = False
    example: Any = None


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


class Knowledge(Model):
    guidance: Guidance
    catalog: Catalog
    ladder: Ladder
    questionnaire: Questionnaire

    def guidance_ids(self) -> dict[str, GuidanceItem]:
        return {g.id: g for p in self.guidance.phases for g in p.guidance}


FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "guidance": ("guidance.yaml", Guidance),
    "catalog": ("services.yaml", Catalog),
    "ladder": ("ladder.yaml", Ladder),
    "questionnaire": ("questionnaire.yaml", Questionnaire),
}


def load_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleBaseError(str(path), "", "file not found") from None
    except yaml.YAMLError as error:
        raise RuleBaseError(str(path), "", f"invalid YAML: {error}") from None


def validate(path: Path, model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise RuleBaseError(str(path), loc, first["msg"]) from None


def load_ladder(directory: Path | None = None) -> Ladder:
    """Only the ladder, for commands that need rung names but not the whole rule base."""
    from engine.paths import knowledge_dir

    path = (directory or knowledge_dir()) / FILES["ladder"][0]
    return validate(path, Ladder, load_yaml(path))


def load_knowledge(directory: Path) -> Knowledge:
    parts: dict[str, Any] = {}
    for key, (name, model) in FILES.items():
        path = directory / name
        parts[key] = validate(path, model, load_yaml(path))
    knowledge = Knowledge(**parts)
    _check_questionnaire(directory / FILES["questionnaire"][0], knowledge.questionnaire)
    return knowledge


def _check_questionnaire(path: Path, questionnaire: Questionnaire) -> None:
    from engine.model.answers import leaf_paths

    fields = set(leaf_paths())
    asked = [q.path for q in questionnaire.questions()]
    for q in asked:
        if q not in fields:
            raise RuleBaseError(str(path), q, "question for a field the answers file does not have")
    missing = sorted(fields - set(asked))
    if missing:
        raise RuleBaseError(str(path), missing[0], "answers field has no question")


def offer_facts(catalog: Catalog) -> list[dict[str, Any]]:
    """One fact per (service, offer, task): what rules match candidates against."""
    facts = []
    for order, service in enumerate(catalog.services):
        for index, offer in enumerate(service.offers, start=1):
            for task in offer.tasks:
                facts.append(
                    {
                        "offer": f"{service.id}#{index}",
                        "service": service.id,
                        "service_name": service.name,
                        "kind": service.kind,
                        "availability": service.availability,
                        "catalog_order": order,
                        "rung": offer.rung,
                        "task": task,
                        "method": offer.method,
                        "min_labeled_examples": offer.min_labeled_examples,
                        "hosted": offer.hosted,
                        "cost_tier": offer.cost_tier,
                        "effort": offer.effort,
                        "explainable": offer.explainable,
                    }
                )
    return facts
