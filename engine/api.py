"""The library API every front-end calls: assess an input and get a decision."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.ids import new_id
from engine.model.answers import LoadedAnswers, parse_answers, read_document
from engine.model.decision import Decision
from engine.rulebase.assemble import assemble_decision
from engine.rulebase.facts import FactSet, build_facts
from engine.rulebase.inference import Run, infer_case
from engine.rulebase.loading import RuleBase, default_rulebase
from engine.rulebase.resolve import Resolution, resolve_verdict
from engine.util.canonical import doc_sha256, pretty_bytes


@dataclass
class Assessment:
    model: Decision
    input_doc: dict[str, Any]
    rulebase: RuleBase
    loaded: LoadedAnswers
    run: Run
    resolution: Resolution

    @cached_property
    def decision(self) -> dict[str, Any]:
        """The model as its JSON document, dumped once: what the audit log records and
        `decision_json` writes (a test may edit it to record what the rules never said)."""
        return self.model.dump()

    @property
    def decision_json(self) -> bytes:
        return pretty_bytes(self.decision)

    @property
    def assessment_id(self) -> str:
        return str(self.model.assessment_id)


@dataclass
class Sources:
    """File names for error messages; an input document replayed from the log has none."""

    answers: str = "<answers>"
    benchmarks: str = "<benchmarks>"
    drift: str = "<drift>"


def assess_files(answers: str | Path, benchmarks: str | Path | None = None,
                 drift: str | Path | None = None, rulebase: RuleBase | None = None,
                 assessment_id: str | None = None) -> Assessment:
    """Read the answers and evidence files and assess them."""
    from engine.evidence.files import load_benchmarks, load_drift

    doc = {"answers": read_document(answers),
           "benchmarks": load_benchmarks(benchmarks) if benchmarks else None,
           "drift": load_drift(drift) if drift else None}
    sources = Sources(str(answers), str(benchmarks or "<benchmarks>"), str(drift or "<drift>"))
    return assess(doc, rulebase, sources, assessment_id)


def assess(input_doc: dict[str, Any], rulebase: RuleBase | None = None,
           sources: Sources | None = None, assessment_id: str | None = None) -> Assessment:
    """Assess an input document {answers, benchmarks, drift}: the same input, the same decision."""
    from engine.evidence.files import parse_benchmark_rows, parse_drift

    rb = rulebase or default_rulebase()
    sources = sources or Sources()
    loaded = parse_answers(input_doc.get("answers"), sources.answers)
    benchmarks = input_doc.get("benchmarks")
    if benchmarks is not None:
        benchmarks = parse_benchmark_rows(benchmarks, sources.benchmarks)
        _check_services(benchmarks, rb, sources.benchmarks)
    drift = input_doc.get("drift")
    if drift is not None:
        drift = parse_drift(drift, sources.drift)
    doc = {"answers": loaded.raw, "benchmarks": benchmarks, "drift": drift}

    case, facts = input_facts(loaded, benchmarks, drift, rb)
    run, resolution = infer_case(rb, case, facts)
    knowledge = rb.knowledge
    decision = assemble_decision(
        assessment_id=assessment_id or new_id(), verdict=resolve_verdict(run.derived, knowledge),
        run=run, resolution=resolution, facts=facts, rulebase=rb, loaded=loaded,
        input_sha256=doc_sha256(doc), benchmarks=benchmarks, drift=drift)
    return Assessment(decision, doc, rb, loaded, run, resolution)


def input_facts(loaded: LoadedAnswers, benchmarks: list[dict[str, Any]] | None,
                drift: dict[str, Any] | None, rb: RuleBase) -> tuple[dict[str, Any], FactSet]:
    """The facts inference starts from: the case (with what the knowledge says of its task and
    deployment target) and the evidence's facts."""
    case, facts = build_facts(loaded.answers, benchmarks, drift)
    case.update(rb.knowledge.tasks.case_facts(case.get("problem.task")))
    case.update(rb.knowledge.ladder.case_facts(case.get("problem.deployment_target")))
    return case, facts


def _check_services(rows: list[dict[str, Any]], rb: RuleBase, file: str) -> None:
    """A row's service and offer must be catalog ids: a misspelt one would measure nothing."""
    catalog = rb.knowledge.catalog
    known = {s.id for s in catalog.services}
    offers = {o.id for s in catalog.services for o in s.offers}
    for index, row in enumerate(rows, start=1):
        service, offer = row.get("service"), row.get("offer")
        if service and service not in known:
            raise InputError(file, f"row {index}.service",
                             "expected a service id from the catalog (mladvisor rules services)",
                             service)
        if offer and offer not in offers:
            raise InputError(file, f"row {index}.offer",
                             "expected an offer id from the catalog (knowledge/services.yaml)",
                             offer)
