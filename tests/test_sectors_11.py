"""Services purpose-built for a sector, and the answer that says which sector a project is in.

An AWS ML architect in 2026 reaches for the service built for the project's sector before a
general one on the same rung (Comprehend Medical for clinical text, IoT SiteWise anomaly
detection for equipment sensors), never proposes one built for another sector, and knows the
newer general services (Entity Resolution for matching records, Bedrock Data Automation for
documents). Each scenario's docstring is the architect's expected answer, written before the
engine was made to agree; the asserts hold the parts the rule base decides.
"""

from __future__ import annotations

import copy
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.api import assess
from engine.cli import cli
from engine.errors import RuleBaseError
from engine.model.answers import parse_answers
from engine.model.vocab import SECTORS, TASKS, UNSPECIFIC_SECTORS
from engine.questionnaire.fields import fields, template_text
from engine.rulebase.loading import default_rulebase, load_rulebase
from engine.rulebase.testing import run_example
from tests.test_rulebase import copy_rulebase

RB = default_rulebase()
CATALOG = RB.knowledge.catalog
SECTOR_RULES = [r for r in RB.rules if RB.sources[r.id] == "sector-services.yaml"]
NEW_SERVICES = ("amazon-comprehend-medical", "amazon-transcribe-medical", "aws-healthscribe",
                "amazon-connect-health", "aws-iot-sitewise", "aws-entity-resolution",
                "bedrock-data-automation")


def project(**sections: dict[str, Any]) -> dict[str, Any]:
    """A healthy, realistic answers file: each keyword replaces keys of one section."""
    answers: dict[str, Any] = {
        "schema": "mladvisor.answers/1",
        "project": {"name": "Scenario", "respondent": "Architect review", "stage": "idea"},
        "business": {
            "problem_statement": "A realistic scenario for the sector review",
            "objective_measurable": True, "kpi": "hours of manual work per month",
            "stakeholders_aligned": True, "expected_value_usd_per_month": 25000,
            "budget_usd_per_month": 4000,
            "success_criteria": [{"metric": "f1_macro", "threshold": 0.85, "goal": "at-least"}]},
        "problem": {"task": "other", "rules_suffice": False, "domain_specificity": "moderate",
                    "explainability_required": False, "deployment_target": "cloud",
                    "requests_per_month": 20000},
        "data": {"available": True, "sources_identified": True, "labeled_examples": 0,
                 "quality": "good", "inputs_outputs_defined": True,
                 "contains_personal_data": False},
        "team": {"ml_expertise": "basic"},
    }
    for section, values in sections.items():
        answers[section] = {**answers[section], **values}
    return answers


def decide(answers: dict[str, Any]) -> dict[str, Any]:
    return assess({"answers": answers, "benchmarks": None, "drift": None}).decision


def option(decision: dict[str, Any], offer: str) -> dict[str, Any] | None:
    """The option of an offer, also when it is one of the services shown in one line because
    they take no new projects (its entry keeps the option under `members`)."""
    rows = [m for o in decision["options"] for m in [o, *(o.get("members") or [])]]
    return next((o for o in rows if o.get("offer") == offer), None)


def fired(decision: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in decision["findings"]}


def clinical_notes(sector: str = "healthcare") -> dict[str, Any]:
    return project(
        business={"problem_statement": "Pull diagnoses, medications and dosages out of the "
                  "English discharge summaries of a US hospital for the coding team"},
        problem={"task": "entity-extraction", "domain_specificity": "specialized",
                 "sector": sector},
        data={"contains_personal_data": True})


# ------------------------------------------------------------------------------- healthcare


def test_clinical_notes_in_healthcare_get_comprehend_medical() -> None:
    """Architect: a US hospital's English discharge summaries, medications and diagnoses to
    extract, no annotated notes yet. Use Amazon Comprehend Medical as it is (pre-built, api):
    its entity types are clinical and it links them to ICD-10-CM and RxNorm, which the general
    Comprehend entity API and a prompted foundation model do not. Proceed with conditions:
    annotate a sample of notes to measure it against the F1 target, and confirm the notes are
    in US English, the only language it reads. Generic Comprehend stays a viable, less
    preferred option on the same rung."""
    decision = decide(clinical_notes())
    assert decision["verdict"] == "proceed-with-conditions"
    assert decision["strategy"]["service"] == "amazon-comprehend-medical"
    assert decision["strategy"]["rung"] == "pre-built"
    selected = option(decision, "comprehend-medical-apis")
    assert selected and (selected["status"], selected["method"]) == ("selected", "api")
    assert option(decision, "comprehend-apis")["status"] == "eligible"
    assert "solution-evaluation.medical-language-us-english" in fired(decision)
    english = next(f for f in decision["findings"]
                   if f["rule"] == "solution-evaluation.medical-language-us-english")
    assert "US English" in english["title"] + english["rationale"]


def test_a_general_project_never_gets_the_clinical_service() -> None:
    """Architect: entities in product reviews (brands, places, people) for a retailer. Use the
    general Amazon Comprehend entity API; Comprehend Medical is built for clinical text and is
    not a candidate, let alone the choice."""
    answers = project(problem={"task": "entity-extraction", "sector": "retail-ecommerce",
                               "standard_classes": True})  # brands, places, people: generic
    decision = decide(answers)
    assert decision["strategy"]["service"] == "amazon-comprehend"
    medical = option(decision, "comprehend-medical-apis")
    assert medical is None or medical["status"] == "rejected"
    assert "solution-evaluation.medical-language-us-english" not in fired(decision)
    # the default sector is general, with the same answer
    del answers["problem"]["sector"]
    assert decide(answers)["strategy"]["service"] == "amazon-comprehend"


def test_clinical_dictation_gets_transcribe_medical_and_not_a_service_of_another_sector() -> None:
    """Architect: physicians' dictated notes to transcribe, in a hospital. Use Amazon Transcribe
    Medical as it is; AWS HealthScribe and Amazon Connect Health (both healthcare only) are the
    alternatives when the notes should be drafted from the consultation itself. For a
    life-sciences project (drug safety calls) Transcribe Medical still fits, but the two
    healthcare-only services are not candidates."""
    # 20,000 dictated notes of about two minutes a month fit the 4,000 USD budget
    dictation = project(problem={"task": "speech-to-text", "sector": "healthcare",
                                 "audio_minutes_per_request": 2})
    decision = decide(dictation)
    assert decision["strategy"]["service"] == "amazon-transcribe-medical"
    assert option(decision, "healthscribe-api")["status"] == "eligible"
    assert option(decision, "transcribe-api")["status"] == "eligible"

    pharma = decide(project(problem={"task": "speech-to-text", "sector": "life-sciences",
                                     "audio_minutes_per_request": 2}))
    assert pharma["strategy"]["service"] == "amazon-transcribe-medical"
    for offer in ("healthscribe-api", "connect-health-ambient"):
        found = option(pharma, offer)
        assert found is None or found["status"] == "rejected", offer


# ------------------------------------------------------------------------------- industrial


def pump_sensors(**problem: Any) -> dict[str, Any]:
    return project(
        business={"problem_statement": "Warn maintenance before a pump fails, from the "
                  "vibration, pressure and temperature sensors already streamed to the cloud"},
        problem={"task": "anomaly-detection", "sector": "industrial", **problem})


def test_industrial_sensor_anomalies_get_iot_sitewise_anomaly_detection() -> None:
    """Architect: 60 pumps with years of sensor history, no labelled failures. Lookout for
    Equipment ended on 7 Oct 2026; the AWS path is AWS IoT SiteWise anomaly detection, which
    trains on the assets' sensor history (hosted-custom, no ML code) and schedules inference.
    Proceed with conditions: collect confirmed failure periods from maintenance records to
    judge the alerts. Canvas (a supervised 2-category model) needs labels the project lacks."""
    decision = decide(pump_sensors())
    assert decision["verdict"] == "proceed-with-conditions"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "hosted-custom", "aws-iot-sitewise")
    selected = option(decision, "sitewise-anomaly-detection")
    assert (selected["method"], selected["runs"]) == ("automl", "provider-api")
    assert option(decision, "lookout-equipment-model")["status"] == "rejected"
    assert "SiteWise" in decision["strategy"]["summary"]


def test_sitewise_does_not_fit_a_device_or_another_sector() -> None:
    """Architect: the same pumps scored on an offline edge gateway cannot use the cloud
    service; and card-fraud anomalies in a bank are no job for an industrial-equipment
    service."""
    edge = decide(pump_sensors(deployment_target="edge"))
    assert edge["strategy"] is None or edge["strategy"]["service"] != "aws-iot-sitewise"
    assert option(edge, "sitewise-anomaly-detection")["status"] == "rejected"

    fraud = decide(project(problem={"task": "anomaly-detection",
                                    "sector": "financial-services"},
                           data={"labeled_examples": 20000}))
    assert (fraud["strategy"] or {}).get("service") != "aws-iot-sitewise"
    found = option(fraud, "sitewise-anomaly-detection")
    assert found is None or found["status"] == "rejected"


# --------------------------------------------------------------------------- record matching


def supplier_duplicates(**problem: Any) -> dict[str, Any]:
    return project(
        business={"problem_statement": "Find the supplier records in three ERP systems that "
                  "describe the same company, to merge the master data"},
        problem={"task": "record-matching", **problem})


def test_supplier_deduplication_gets_entity_resolution() -> None:
    """Architect: 400,000 supplier records with misspelt names and differently formatted
    addresses; exact-match rules already miss too many. Use AWS Entity Resolution's ML-based
    matching as it is (pre-built, nothing to train); measure precision and recall on a sample
    of pairs the data stewards judge first. A model of your own is the last resort."""
    decision = decide(supplier_duplicates())
    assert decision["verdict"] == "proceed-with-conditions"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "pre-built", "aws-entity-resolution")
    assert option(decision, "entity-resolution-ml-matching")["method"] == "api"
    assert option(decision, "entity-resolution-rule-matching")["status"] == "rejected"
    assert option(decision, "sagemaker-tabular-training")["status"] == "eligible"


def test_matching_rules_that_suffice_need_no_ml() -> None:
    """Architects: when the team's exact and fuzzy rules already find the duplicates, keep
    them: no ML and no new service (hold-out 5, case 13: a membership charity's rules catch
    99.3%). Entity Resolution's rule-based matching workflow stays open as a managed place to
    run such rules."""
    decision = decide(supplier_duplicates(rules_suffice=True))
    assert decision["verdict"] == "ml-not-recommended"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == ("no-ml", None)
    rules_service = option(decision, "entity-resolution-rule-matching")
    assert rules_service["method"] == "rule" and rules_service["status"] == "eligible"


def test_record_matching_is_a_task_everywhere_a_task_list_lives() -> None:
    assert "record-matching" in TASKS
    assert RB.knowledge.tasks.tasks["record-matching"].outputs == "fixed"
    assert "record-matching" in next(f for f in fields() if f.path == "problem.task").choices


# ---------------------------------------------------------------------------- the rule file


def test_every_sector_rule_has_passing_examples_both_ways() -> None:
    assert len(SECTOR_RULES) >= 2
    for rule in SECTOR_RULES:
        assert any(e.fires for e in rule.examples), rule.id
        assert any(not e.fires for e in rule.examples), rule.id
        for example in rule.examples:
            result = run_example(RB, rule, example)
            assert result.passed, str(result)


# ------------------------------------------------------------------------------ the catalog


@pytest.mark.parametrize("service_id", NEW_SERVICES)
def test_new_services_say_when_and_where_their_facts_were_checked(service_id: str) -> None:
    service = CATALOG.get(service_id)
    assert service is not None
    assert service.checked.isoformat() == "2026-12-01"
    assert service.docs.startswith("https://docs.aws.amazon.com/")
    for offer in service.offers:
        assert set(offer.sectors) <= set(SECTORS) - set(UNSPECIFIC_SECTORS)


def test_only_truly_sector_specific_services_carry_sectors() -> None:
    sectors = {o.id: o.sectors for s in CATALOG.services for o in s.offers}
    assert sectors["comprehend-medical-apis"] == ["healthcare", "life-sciences"]
    assert sectors["sitewise-anomaly-detection"] == ["industrial", "energy-utilities"]
    for general in ("bda-standard-output", "bda-custom-blueprints",
                    "entity-resolution-ml-matching", "entity-resolution-rule-matching",
                    "comprehend-apis", "transcribe-api"):
        assert sectors[general] == [], general
    unconfirmed = CATALOG.get("amazon-connect-health").availability_note
    assert "not confirmed" in unconfirmed and "March 2026" in unconfirmed


def test_purpose_built_comes_first_in_the_ladder_tie_break() -> None:
    first, order = next(iter(RB.knowledge.ladder.tie_break.items()))
    assert (first, order) == ("sector_fit", ["purpose-built", "general-purpose", "other-sector"])


def edit(tmp_path: Path, name: str, change: Any) -> Path:
    root = tmp_path / "rb"
    root.mkdir()
    copy_rulebase(root)
    path = root / "knowledge" / name
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def test_a_catalog_offer_cannot_claim_the_general_sector(tmp_path: Path) -> None:
    def vague(doc: dict[str, Any]) -> None:
        doc["services"][0]["offers"][0]["sectors"] = ["general"]

    with pytest.raises(RuleBaseError) as caught:
        load_rulebase(edit(tmp_path, "services.yaml", vague))
    message = str(caught.value)
    assert "services.0.offers.0" in message and "general" in message
    assert "\n" not in message


def test_a_tie_break_on_a_field_options_lack_is_refused(tmp_path: Path) -> None:
    def typo(doc: dict[str, Any]) -> None:
        doc["tie_break"] = {"sector": ["purpose-built"], **doc["tie_break"]}

    with pytest.raises(RuleBaseError) as caught:
        load_rulebase(edit(tmp_path, "ladder.yaml", typo))
    assert "tie_break.sector" in str(caught.value) and "offer field" in str(caught.value)


# -------------------------------------------------------------------- questionnaire and web


def test_sector_is_an_optional_answer_defaulting_to_general() -> None:
    loaded = parse_answers(project())
    assert loaded.answers.problem.sector == "general"
    assert "problem.sector" in loaded.defaulted
    field = next(f for f in fields() if f.path == "problem.sector")
    assert field.kind == "choice" and field.choices == SECTORS and field.ask_when is None


def test_the_template_command_offers_every_sector() -> None:
    result = CliRunner().invoke(cli, ["questionnaire", "--template"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout == template_text()
    assert "Which sector (industry) does the project serve?" in result.stdout
    assert "# sector: general" in result.stdout
    listed = re.search(r"one of: (general \|[^;]+); default general", result.stdout)
    assert listed and tuple(listed.group(1).split(" | ")) == SECTORS


def test_the_web_form_asks_the_sector_and_assesses_with_it(tmp_path: Path) -> None:
    from engine.audit import open_log
    from engine.web import Settings, create_app
    from tests.test_web import BASE, VALID, submit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    home = tmp_path / "home"
    client = TestClient(create_app(Settings(home=home)), base_url=BASE)
    page = client.get("/").text
    assert 'name="problem__sector"' in page
    for sector in SECTORS:
        assert f'value="{sector}"' in page, sector
    form = copy.deepcopy(VALID)
    form.update(problem__task="entity-extraction", problem__sector="healthcare",
                problem__domain_specificity="moderate")
    response = submit(client, form)
    assert response.status_code == 303
    with open_log(home) as log:
        record = log.get(response.headers["location"].rsplit("/", 1)[1])
    assert record.input["answers"]["problem"]["sector"] == "healthcare"
    assert record.decision["strategy"]["service"] == "amazon-comprehend-medical"


def test_the_sector_question_lists_every_sector_a_file_may_name() -> None:
    """Someone writing an answers file by hand reads the questionnaire, not the code."""
    from typing import get_args

    from engine.model.vocab import Sector

    question = next(q for q in RB.knowledge.questionnaire.questions()
                    if q.path == "problem.sector")
    assert all(sector in question.help for sector in get_args(Sector))
