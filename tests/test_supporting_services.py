"""Supporting services (issue 13): services that are not a rung but a part of the answer.

Each kind of project gets the supporting services an architect expects, named in its findings'
`services` and shown in the report; every monitoring plan item says where it runs; and no plan
item or finding recommends a service that is closed to new customers. All through the library
API with the real rule engine and the real knowledge files.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.api import Assessment, assess, assess_files
from engine.errors import RuleBaseError
from engine.model.answers import read_document
from engine.model.decision import Decision
from engine.report import render_html
from engine.rulebase.loading import default_rulebase, load_rulebase_files, read_rulebase
from tests.conftest import EXAMPLE_ANSWERS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CASES = ROOT / "bench" / "architect"  # the architect's open review set (never the hold-outs)
CATALOG = default_rulebase().knowledge.catalog
CLOSED = {s.id: s for s in CATALOG.services if s.availability != "generally-available"}
# How a finding says that a service it names is not open (it may name it to say so).
EXPLAINS_CLOSURE = re.compile(r"closed to new customers|not open to new customers|end-of-life|"
                              r"end of (life|support)|discontinued|retired|no longer",
                              re.IGNORECASE)
DRIFT = {"fraud-deployed": EXAMPLES / "evidence" / "fraud-drift.json",
         "claims-fasttrack-deployed": EXAMPLES / "evidence" / "claims-fasttrack-drift.json"}


def example(name: str) -> Assessment:
    return assess_files(EXAMPLES / f"{name}.yaml", drift=DRIFT.get(name))


def variant(name: str, **changes: Any) -> Assessment:
    """An example's answers with some dotted answers changed."""
    answers = copy.deepcopy(read_document(EXAMPLES / f"{name}.yaml"))
    for path, value in changes.items():
        section, field = path.split("__")
        answers.setdefault(section, {})[field] = value
    return assess({"answers": answers, "benchmarks": None, "drift": None})


def services_of(decision: Decision) -> dict[str, list[str]]:
    return {f.rule or "": list(f.services) for f in decision.findings if f.services}


def named(decision: Decision) -> set[str]:
    return {s for f in decision.findings for s in f.services}


def finding(decision: Decision, rule: str) -> Any:
    found = [f for f in decision.findings if f.rule == rule]
    assert found, f"{rule} did not fire: {[f.rule for f in decision.findings]}"
    return found[0]


def all_cases() -> list[tuple[str, Path, Path | None, Path | None]]:
    """Every example and every case of the architect's open review set, with its evidence."""
    cases = [(p.stem, p, None, DRIFT.get(p.stem)) for p in EXAMPLE_ANSWERS]
    for case in yaml.safe_load((CASES / "expected.yaml").read_text()):
        bench = CASES / case["benchmarks"] if case.get("benchmarks") else None
        drift = CASES / case["drift"] if case.get("drift") else None
        cases.append((f"architect/{case['file']}", CASES / case["file"], bench, drift))
    return cases


# ------------------------------------------------------------------ each kind of project


def test_a_document_project_names_data_automation_and_a_human_review_step() -> None:
    decision = variant("support-ticket-routing", problem__task="document-extraction",
                       problem__classes=None).model
    routes = finding(decision, "model-selection.document-extraction-routes")
    assert routes.services == ["bedrock-data-automation", "amazon-textract"]
    review = finding(decision, "deployment.review-uncertain-extractions")
    assert "review queue" in (review.action or "")
    # A2I is closed to new customers: the review step is the project's own, and says why
    assert "amazon-augmented-ai" not in named(decision)
    assert EXPLAINS_CLOSURE.search(review.rationale or "")


def test_the_architects_invoice_case_names_data_automation_and_review() -> None:
    decision = assess_files(CASES / "02-invoice-extraction.yaml").model
    assert "bedrock-data-automation" in named(decision)
    assert finding(decision, "deployment.review-uncertain-extractions")


def test_a_generative_project_names_guardrails() -> None:
    decision = example("policy-assistant").model
    guardrails = finding(decision, "deployment.guardrails")
    assert guardrails.services == ["bedrock-guardrails"]
    assert "grounding" in (guardrails.action or "")


def test_a_generative_project_on_its_own_servers_names_no_aws_service() -> None:
    decision = example("onprem-shift-handover").model
    assert named(decision) == set()
    assert all(not item.services for item in decision.monitoring_plan)


@pytest.mark.parametrize("name", ["credit-risk-on-prem", "lead-scoring-small"])
def test_a_regulated_tabular_project_names_the_explanations_route(name: str) -> None:
    decision = example(name).model
    route = finding(decision, "model-selection.explanations-route")
    assert "SHAP" in (route.action or "") and "shap" in (route.action or "")
    # Clarify is closed to new customers: named only to say so, never recommended
    assert "sagemaker-clarify" not in named(decision)
    assert "Clarify" in (route.rationale or "")
    assert EXPLAINS_CLOSURE.search(route.rationale or "")


@pytest.mark.parametrize("name", ["camera-trap-edge", "factory-defects-edge"])
def test_an_edge_project_names_neo_and_greengrass(name: str) -> None:
    decision = example(name).model
    assert services_of(decision)["deployment.compile-and-run-on-devices"] == [
        "sagemaker-neo", "aws-iot-greengrass"]


def test_clinical_text_and_speech_name_the_medical_services() -> None:
    text = variant("policy-assistant", problem__sector="healthcare",
                   problem__task="summarization").model
    assert "amazon-comprehend-medical" in named(text)
    speech = variant("newsletter-translation", problem__sector="healthcare",
                     problem__task="speech-to-text").model
    assert "amazon-transcribe-medical" in named(speech)
    general = variant("newsletter-translation", problem__task="speech-to-text").model
    assert not {"amazon-comprehend-medical", "amazon-transcribe-medical"} & named(general)


def test_contact_centre_audio_names_call_analytics_and_redaction() -> None:
    decision = assess_files(CASES / "03-contact-centre-transcription.yaml").model
    redact = finding(decision, "model-selection.speech-with-personal-data")
    assert redact.services == ["amazon-transcribe-call-analytics"]
    assert "PII redaction" in (redact.action or "")


def test_labels_short_says_how_to_get_them_without_a_closed_service() -> None:
    decision = variant("lead-scoring-small", data__labeled_examples=40).model
    labels = finding(decision, "data.how-to-get-labels")
    assert labels.severity == "recommendation"
    assert "sagemaker-ground-truth" not in named(decision)
    assert "Ground Truth" in (labels.rationale or "")
    assert EXPLAINS_CLOSURE.search(labels.rationale or "")
    assert any("annotation tool" in a for a in decision.actions)


def test_unlabelled_anomaly_detection_is_pointed_at_cloudwatch_without_moving_the_strategy(
) -> None:
    before = variant("lead-scoring-small", problem__task="anomaly-detection",
                     data__labeled_examples=0)
    decision = before.model
    assert services_of(decision)["model-selection.metric-anomalies-first"] == ["amazon-cloudwatch"]
    # the offer is in the catalog but a supporting service is never a general candidate
    assert all(o.offer != "cloudwatch-anomaly-detection" for o in decision.options)


def test_supporting_findings_never_block_or_warn() -> None:
    rulebase = default_rulebase()
    for rule in rulebase.active():
        if rule.services:
            assert rule.severity in ("recommendation", "info"), rule.id


# ------------------------------------------------------------------ monitoring plan


@pytest.mark.parametrize("name", ["fraud-deployed", "claims-fasttrack-deployed"])
def test_a_deployed_projects_plan_says_where_each_check_runs(name: str) -> None:
    decision = example(name).model
    assert decision.monitoring_plan
    for item in decision.monitoring_plan:
        assert item.runs_on and item.where, item
    drift = next(i for i in decision.monitoring_plan if i.signal == "data drift")
    assert "mladvisor drift" in drift.runs_on and "CloudWatch" in drift.runs_on
    assert drift.services == ["amazon-cloudwatch"]
    assert services_of(decision)["monitoring.checks-in-cloudwatch"] == ["amazon-cloudwatch"]


def test_where_a_check_runs_follows_where_the_model_runs() -> None:
    on_prem = example("credit-risk-on-prem").model
    assert on_prem.monitoring_plan
    for item in on_prem.monitoring_plan:
        assert "CloudWatch" not in str(item.runs_on) and item.services == []
    device = example("camera-trap-edge").model
    drift = next(i for i in device.monitoring_plan if i.signal == "data drift")
    assert "devices send a sample" in drift.runs_on


@pytest.mark.parametrize("name,answers,bench,drift", all_cases(), ids=lambda v: str(v))
def test_no_plan_item_or_finding_recommends_a_closed_service(
        name: str, answers: Path, bench: Path | None, drift: Path | None) -> None:
    decision = assess_files(answers, bench, drift).model
    for item in decision.monitoring_plan:
        assert item.runs_on, f"{name}: {item.signal} says nowhere it runs"
        assert not set(item.services or []) & set(CLOSED), item
        words = " ".join(str(v) for v in (item.how, item.runs_on, item.trigger, item.response))
        for service in CLOSED.values():
            assert service.name not in words, f"{name}: {item.signal} names {service.name}"
    for f in decision.findings:
        assert not set(f.services) & set(CLOSED), f"{name}: {f.rule} recommends {f.services}"
        words = " ".join(str(v) for v in (f.title, f.rationale, f.action))
        for service in CLOSED.values():
            if service.name in words:
                assert EXPLAINS_CLOSURE.search(words), (
                    f"{name}: {f.rule} names {service.name} without saying it is closed")


# ------------------------------------------------------------------ the catalog and load checks


def test_the_supporting_services_are_in_the_catalog_with_a_date_and_a_source() -> None:
    wanted = {"bedrock-data-automation", "bedrock-guardrails", "sagemaker-clarify",
              "sagemaker-ground-truth", "amazon-augmented-ai", "sagemaker-neo",
              "aws-iot-greengrass", "amazon-cloudwatch", "amazon-comprehend-medical",
              "amazon-transcribe-medical", "amazon-transcribe-call-analytics",
              "sagemaker-model-monitor"}
    for service_id in wanted:
        service = CATALOG.get(service_id)
        assert service is not None, service_id
        assert service.docs.startswith("https://docs.aws.amazon.com/"), service_id
        assert service.checked.isoformat() >= "2026-12-01", service_id
    for service_id in ("sagemaker-model-monitor", "sagemaker-clarify", "sagemaker-ground-truth",
                       "amazon-augmented-ai"):
        service = CLOSED[service_id]
        assert service.availability == "closed-to-new-customers"
        assert service.successor and "not stated" in service.availability_note
    assert "mladvisor drift" in CLOSED["sagemaker-model-monitor"].successor
    assert "SHAP" in CLOSED["sagemaker-clarify"].successor


def test_cloudwatch_anomaly_detection_is_an_offer_for_metric_anomalies() -> None:
    offer = CATALOG.offer("cloudwatch-anomaly-detection")
    assert offer.tasks == ["anomaly-detection"] and offer.labels.basis == "none"


def _files() -> dict[str, bytes]:
    return dict(read_rulebase(ROOT))


def _with_rule(files: dict[str, bytes], rule: dict[str, Any]) -> dict[str, bytes]:
    doc = {"schema": "mladvisor.rules/1", "phase": rule["phase"], "rules": [rule]}
    return {**files, "rules/zz-extra.yaml": yaml.safe_dump(doc, sort_keys=False).encode()}


RULE = {"id": "deployment.extra-service", "phase": "deployment", "severity": "info",
        "title": "Extra", "when": {"problem.task": "translation"}, "rationale": "Because.",
        "guidance": "deployment.target",
        "examples": [{"name": "fires", "answers": {"problem.task": "translation"},
                      "fires": True}]}


def test_a_rule_naming_an_unknown_service_does_not_load() -> None:
    files = _with_rule(_files(), {**RULE, "services": ["amazon-nothing"]})
    with pytest.raises(RuleBaseError) as raised:
        load_rulebase_files(files)
    assert "deployment.extra-service" in str(raised.value)
    assert "amazon-nothing" in str(raised.value)


def test_a_rule_naming_a_closed_service_does_not_load_and_is_told_what_replaces_it() -> None:
    files = _with_rule(_files(), {**RULE, "services": ["sagemaker-model-monitor"]})
    with pytest.raises(RuleBaseError) as raised:
        load_rulebase_files(files)
    message = str(raised.value)
    assert "deployment.extra-service" in message and "closed-to-new-customers" in message
    assert "mladvisor drift" in message


def test_a_monitor_item_must_say_where_it_runs() -> None:
    rule = {**RULE, "id": "monitoring.extra-signal", "phase": "monitoring",
            "then": {"finding": False, "monitor": {"signal": "extra", "how": "somehow"}}}
    with pytest.raises(RuleBaseError) as raised:
        load_rulebase_files(_with_rule(_files(), rule))
    assert "monitoring.extra-signal" in str(raised.value) and "where" in str(raised.value)


def test_a_monitoring_place_naming_a_closed_service_does_not_load() -> None:
    files = _files()
    places = yaml.safe_load(files["knowledge/monitoring.yaml"])
    places["places"]["scheduled-drift-check"]["default"]["services"] = ["sagemaker-model-monitor"]
    files["knowledge/monitoring.yaml"] = yaml.safe_dump(places).encode()
    with pytest.raises(RuleBaseError) as raised:
        load_rulebase_files(files)
    assert "sagemaker-model-monitor" in str(raised.value)


def test_a_rule_base_recorded_before_the_monitoring_places_still_loads() -> None:
    """The audit log replays decisions with the rule base they were made with."""
    files = {k: v for k, v in _files().items() if k != "knowledge/monitoring.yaml"}
    rulebase = load_rulebase_files(files)
    decision = assess({"answers": read_document(EXAMPLES / "review-sentiment.yaml"),
                       "benchmarks": None, "drift": None}, rulebase).model
    assert decision.monitoring_plan and all(i.runs_on is None for i in decision.monitoring_plan)


# ------------------------------------------------------------------ the report


def test_the_report_shows_supporting_services_and_where_checks_run() -> None:
    html = render_html(example("camera-trap-edge").model).decode()
    neo = CATALOG.get("sagemaker-neo")
    assert neo is not None
    assert "Amazon SageMaker Neo" in html and "AWS IoT Greengrass V2" in html
    assert " ".join(neo.supports[0].what.split())[:40] in " ".join(html.split())
    assert "Runs on" in html and "devices send a sample" in html
