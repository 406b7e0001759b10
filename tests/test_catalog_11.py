"""The catalog as an architect reads it (issue 11, sections 1 and 2): each offer says what the
team does for each of its tasks and only that task, where it can run, and what data it needs,
with a documented minimum only where the provider documents one."""

from __future__ import annotations

import re

import pytest
import yaml

from engine.errors import RuleBaseError
from engine.rulebase.knowledge import FILES, KNOWLEDGE, Offer, load_knowledge
from engine.rulebase.loading import default_rulebase
from tests.conftest import ROOT

KNOW = default_rulebase().knowledge
OFFERS = [(service, offer) for service in KNOW.catalog.services for offer in service.offers]
BY_ID = {offer.id: offer for _, offer in OFFERS}

# The words a reader recognises a task by, as case-insensitive word starts. A text about one
# task must not use the words of another task of the same offer, unless both tasks share them
# ("speech" for speech-to-text and text-to-speech, "image" for the two vision tasks).
TASK_WORDS: dict[str, set[str]] = {
    "sentiment-analysis": {"sentiment"},
    "text-classification": {"classif", "categor"},
    "entity-extraction": {"entit", "extract"},
    "document-extraction": {"extract", "key-value", "invoice"},
    "translation": {"translat"},
    "speech-to-text": {"speech", "transcri"},
    "text-to-speech": {"speech", "synthes"},
    "text-generation": {"generat"},
    "summarization": {"summar"},
    "question-answering": {"question", "answer"},
    "conversational-agent": {"conversation", "chat"},
    "image-classification": {"image", "classif"},
    "object-detection": {"image", "object", "detect", "bounding"},
    "recommendation": {"recommend"},
    "forecasting": {"forecast", "time series"},
    "tabular-classification": {"tabular", "classif"},
    "tabular-regression": {"tabular", "regress"},
    "anomaly-detection": {"anomal", "outlier"},
    "record-matching": {"match", "duplicat"},
    "other": set(),
}

# Offer ids are an interface: decisions, answers files (project.current_solution.offer) and
# audit logs carry them. Renaming one is a deliberate change to this list. (jumpstart-tabular
# was removed on 2026-12-01: it duplicated sagemaker-tabular-training's built-in algorithms; an
# answers file naming it as its current offer is served like the service's other offers.)
STABLE_IDS = {
    "comprehend-apis", "comprehend-custom-classifier", "comprehend-custom-entities",
    "comprehend-language-detection", "rekognition-labels",
    "bedrock-prompting", "bedrock-fine-tuning", "bedrock-knowledge-bases",
    "sagemaker-open-model", "sagemaker-open-model-fine-tuning", "sagemaker-tabular-training",
    "sagemaker-custom-model", "sagemaker-custom-compact-model", "sagemaker-anomaly-training",
    "jumpstart-task-model", "jumpstart-foundation-model", "jumpstart-fine-tuning",
    "jumpstart-foundation-model-fine-tuning", "jumpstart-chronos-forecasting",
    "jumpstart-embeddings-recommender", "rekognition-custom-labels", "textract-apis",
    "textract-adapters", "translate-api", "translate-custom-terminology", "transcribe-api",
    "transcribe-custom-vocabulary", "polly-api", "lex-bot", "kendra-index", "personalize-recipes",
    "canvas-ready-to-use-text", "canvas-ready-to-use-documents", "canvas-tabular-automl",
    "canvas-text-image-automl", "forecast-automl", "fraud-detector-model",
    "lookout-equipment-model", "lookout-metrics-detector", "lookout-vision-model",
    # purpose-built and newer services (sector work, 2026-12-01)
    "comprehend-medical-apis", "transcribe-medical-api", "transcribe-medical-custom-vocabulary",
    "healthscribe-api", "connect-health-ambient", "sitewise-anomaly-detection",
    "entity-resolution-rule-matching", "entity-resolution-ml-matching", "bda-standard-output",
    "bda-custom-blueprints",
    # supporting services (issue 13, 2026-12-02)
    "cloudwatch-anomaly-detection",
}


def foreign_words(text: str, task: str, others: list[str]) -> list[str]:
    """The words of the other tasks (not shared with `task`) that `text` uses."""
    found = []
    for other in others:
        for word in sorted(TASK_WORDS[other] - TASK_WORDS[task]):
            if re.search(r"\b" + re.escape(word), text, re.IGNORECASE):
                found.append(f"{word!r} ({other})")
    return found


def test_the_task_words_cover_the_vocabulary() -> None:
    assert set(TASK_WORDS) == set(KNOW.tasks.tasks)


@pytest.mark.parametrize(("text", "task", "other"), [
    ("Anomaly detection only as a supervised 2-category prediction on labelled history.",
     "tabular-classification", "anomaly-detection"),
    ("Domain-specific sentiment can be framed as a custom class set.",
     "text-classification", "sentiment-analysis"),
    ("Use pre-trained embeddings (item or text similarity for content-based recommendation).",
     "forecasting", "recommendation"),
])
def test_the_check_catches_the_texts_issue_11_quotes(text: str, task: str, other: str) -> None:
    """Strategy texts a reviewer found speaking of another task are caught by the check."""
    assert foreign_words(text, task, [other])


@pytest.mark.parametrize("offer", [o for _, o in OFFERS], ids=lambda o: o.id)
def test_an_offer_with_several_tasks_has_a_text_per_task(offer: Offer) -> None:
    if len(offer.tasks) > 1:
        assert isinstance(offer.how, dict)
        assert sorted(offer.how) == sorted(offer.tasks)
    for task in offer.tasks:
        assert len(offer.how_for(task).split()) >= 8, f"{offer.id}/{task}: too short to guide"


CASES = [(o, t) for _, o in OFFERS for t in o.tasks if len(o.tasks) > 1]


@pytest.mark.parametrize(("offer", "task"), CASES, ids=[f"{o.id}/{t}" for o, t in CASES])
def test_a_task_text_speaks_only_of_its_task(offer: Offer, task: str) -> None:
    others = [t for t in offer.tasks if t != task]
    assert foreign_words(offer.how_for(task), task, others) == []


def test_offer_ids_are_unique_and_stable() -> None:
    ids = [offer.id for _, offer in OFFERS]
    assert len(ids) == len(set(ids))
    assert set(ids) == STABLE_IDS


@pytest.mark.parametrize("offer", [o for _, o in OFFERS], ids=lambda o: o.id)
def test_an_offer_used_as_it_is_serves_only_fixed_or_open_outputs(offer: Offer) -> None:
    if offer.method in KNOW.tasks.as_is_methods and not offer.standard_classes:
        assert {KNOW.tasks.tasks[t].outputs for t in offer.tasks} <= {"fixed", "open"}


def test_own_class_tasks_still_have_a_customisable_offer() -> None:
    """Removing own-class tasks from as-is offers must not leave a task without candidates."""
    for task, info in KNOW.tasks.tasks.items():
        if info.outputs == "own-classes":
            methods = {o.method for _, o in OFFERS if task in o.tasks}
            assert methods - set(KNOW.tasks.as_is_methods), task


@pytest.mark.parametrize("service_offer", OFFERS, ids=lambda so: so[1].id)
def test_a_documented_minimum_names_its_source(service_offer) -> None:
    service, offer = service_offer
    if offer.labels.basis == "documented":
        assert "docs.aws.amazon.com/" in offer.note
        assert "checked 2026-12-01" in offer.note
        assert service.checked.isoformat() >= "2026-12-01"
    if offer.labels.basis == "planning":
        assert "planning floor" in offer.note


def test_documented_minimums_are_the_ones_aws_documents() -> None:
    """The values checked on 2026-12-01; a planning floor never poses as a documented one."""
    documented = {o.id: o.labels for _, o in OFFERS if o.labels.basis == "documented"}
    assert {k: (v.minimum, v.per_class, v.per_label) for k, v in documented.items()} == {
        "comprehend-custom-classifier": (0, 50, 10),
        "comprehend-custom-entities": (0, 25, None),
        "rekognition-custom-labels": (0, 1, None),
        "textract-adapters": (10, None, None),
        "personalize-recipes": (1000, None, None),
    }
    assert BY_ID["comprehend-custom-classifier"].labels.needed(12, False) == 600
    assert BY_ID["comprehend-custom-classifier"].labels.needed(12, True) == 120


@pytest.mark.parametrize("offer", [o for _, o in OFFERS], ids=lambda o: o.id)
def test_every_runs_value_is_documented_in_the_ladder(offer: Offer) -> None:
    for runs in offer.runs:
        assert runs in KNOW.ladder.runs
        assert KNOW.ladder.runs[runs].meaning.strip()
        if runs in ("edge-device", "own-hardware"):
            assert KNOW.ladder.runs[runs].route.strip()


@pytest.mark.parametrize("offer", [o for _, o in OFFERS
                                   if {"edge-device", "own-hardware"} & set(o.runs)],
                         ids=lambda o: o.id)
def test_an_offer_that_runs_off_the_cloud_names_no_endpoint(offer: Offer) -> None:
    """The route is the ladder's sentence for where it runs; `how` says what the team does."""
    for task in offer.tasks:
        assert "endpoint" not in offer.how_for(task).lower(), task


def test_foundation_models_never_run_on_a_device() -> None:
    for _, offer in OFFERS:
        if {"text-generation", "conversational-agent"} & set(offer.tasks):
            assert "edge-device" not in offer.runs, offer.id


def test_canvas_models_run_in_the_customer_account_and_ready_to_use_calls_the_services() -> None:
    canvas = next(s for s in KNOW.catalog.services if s.id == "sagemaker-canvas")
    for offer in canvas.offers:
        expected = ["provider-api"] if offer.method == "api" else ["customer-endpoint"]
        assert offer.runs == expected, offer.id


def path(offer_id: str) -> str:
    offer = BY_ID[offer_id]
    return offer.serving_path or offer.id


@pytest.mark.parametrize(("one", "other"), [
    ("jumpstart-task-model", "sagemaker-open-model"),
    ("jumpstart-fine-tuning", "sagemaker-open-model-fine-tuning"),
    ("canvas-ready-to-use-text", "comprehend-apis"),
    ("canvas-ready-to-use-documents", "textract-apis"),
])
def test_offers_serving_the_same_model_share_a_serving_path(one: str, other: str) -> None:
    assert path(one) == path(other)


def test_a_fine_tuned_model_is_not_the_model_it_started_from() -> None:
    assert path("jumpstart-fine-tuning") != path("jumpstart-task-model")
    assert path("jumpstart-foundation-model") != path("jumpstart-task-model")
    assert path("jumpstart-foundation-model-fine-tuning") != path("jumpstart-foundation-model")


def test_corrected_facts_are_stated() -> None:
    """Issue 13 overlap: the facts an architect corrected, each with its source."""
    bedrock = BY_ID["bedrock-fine-tuning"]
    assert "on-demand" in bedrock.note and "Nova" in bedrock.note
    assert "reinforcement fine-tuning" in bedrock.note and "distillation" in bedrock.note
    lex = BY_ID["lex-bot"].how_for("conversational-agent")
    assert "QnAIntent" in lex and "Bedrock knowledge base" in lex
    assert "English (US)" in BY_ID["lex-bot"].note
    chronos = BY_ID["jumpstart-chronos-forecasting"]
    assert "Chronos-Bolt" in chronos.how_for("forecasting")
    assert "zero-shot" in chronos.how_for("forecasting")
    assert "trained on your history" in chronos.how_for("forecasting")


def knowledge_files(edit) -> dict[str, bytes]:
    files = {f"{KNOWLEDGE}/{name}": (ROOT / KNOWLEDGE / name).read_bytes()
             for name, _ in FILES.values()}
    doc = yaml.safe_load(files[f"{KNOWLEDGE}/services.yaml"])
    edit(doc)
    files[f"{KNOWLEDGE}/services.yaml"] = yaml.safe_dump(doc, sort_keys=False).encode()
    return files


def offer_doc(doc: dict, offer_id: str) -> dict:
    return next(o for s in doc["services"] for o in s["offers"] if o["id"] == offer_id)


def test_one_text_for_several_tasks_is_refused_at_load() -> None:
    def edit(doc: dict) -> None:
        offer_doc(doc, "comprehend-apis")["how"] = "Call the ready-made APIs."

    with pytest.raises(RuleBaseError) as caught:
        load_knowledge(knowledge_files(edit))
    message = str(caught.value)
    assert "services.yaml" in message and "services.0.offers.0" in message
    assert "more than one task" in message
    assert "\n" not in message


def test_an_own_class_task_on_an_as_is_offer_is_refused_at_load() -> None:
    def edit(doc: dict) -> None:
        offer = offer_doc(doc, "jumpstart-task-model")
        offer["tasks"].append("image-classification")
        offer["how"]["image-classification"] = "Use an ImageNet classifier as it is on photos."

    with pytest.raises(RuleBaseError, match="image-classification"):
        load_knowledge(knowledge_files(edit))


def test_the_catalog_file_is_what_the_rule_base_loaded() -> None:
    """The module-level catalog is the repository's file, not a stale bundled copy."""
    doc = yaml.safe_load((ROOT / KNOWLEDGE / "services.yaml").read_text())
    ids = {o["id"] for s in doc["services"] for o in s["offers"]}
    assert ids == set(BY_ID)
