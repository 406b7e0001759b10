"""Resolution that respects "simplest first" and the evidence (issue 11, section 3).

Each test below holds what an experienced AWS ML architect recommends for one realistic project,
written down before the engine was changed to agree. The rule base's own examples
(rules/solution-evaluation.yaml, rules/model-selection.yaml) hold the shorter cases.

1. The team jumped to fine-tuning. Product-review sentiment in a generic domain; the team
   fine-tuned a foundation model in Amazon Bedrock and measured macro-F1 0.86 against a 0.80
   target. Nobody tried Amazon Comprehend's ready-made sentiment API, a day's work with no model
   to look after. The architect: "Run Comprehend on the same test set first; if it reaches 0.80,
   use it; if not, the fine-tuned model you measured is the fallback." -> proceed-with-conditions,
   pre-built / amazon-comprehend, the fine-tuned Bedrock model named as the fallback in the
   strategy, the selection facts and the options' reasons; the condition is a warning.
2. ... unless the simpler one cannot work. Same project in a specialised domain with 2,000
   labelled reviews: a general-purpose model is unlikely to know the domain. The architect keeps
   the fine-tuned model that was measured, and says why the ready-made ones were passed over:
   -> proceed, hosted-custom / amazon-bedrock; the pre-built options say "not preferred: ...
   specialised domain" and that the fine-tuned model "is proven by measurement".
3. Everything measured fell short. Comprehend's sentiment API measured macro-F1 0.70 against
   0.80; nothing else was measured. The architect: "Comprehend is 0.10 short; prompting a
   foundation model is the next simplest thing to try, but it is unproven: measure it against
   the same criteria before committing." -> proceed-with-conditions (never a bare proceed),
   pre-built / amazon-bedrock, and a warning saying Comprehend fell short with its gap (-0.1).
4. The same model is no escape. An edge weld-defect classifier: a JumpStart image model was
   fine-tuned and missed the recall target. Serving the same open model from a SageMaker
   endpoint of one's own is the same model: it misses too. -> the SageMaker open-model option
   is rejected with the JumpStart measurement's reason; the same holds for a measured cost over
   budget. (Run on a copy of the rule base whose two offers share a serving path, the way
   knowledge/services.yaml marks them.)
5. The benchmark's own baselines are a simple in-house model. A 5,000-row tabular churn table;
   Canvas AutoML measured F1 0.70 (target 0.80); `mladvisor benchmark`'s gradient boosting
   reached 0.85. The architect: "Your gradient-boosted model is a simple in-house model: days of
   work, cheap, explained by its feature importances, within a basic team's reach. Keep it; this
   is not a from-scratch deep-learning build." -> from-scratch / amazon-sagemaker, offer
   in-house-simple-model, selection method custom-training with effort days (training rules
   gate the heavy-build findings on that); JumpStart's packaged tabular algorithms, though on a
   lower rung, take more effort than the model already proven and are not pushed first.
6. 350 rows and a proven baseline. The SMB churn project (350 customers, explanations
   required) whose gradient boosting met recall and precision: Canvas is below the rows we
   would plan for, the in-house model is proven -> the in-house model, and Canvas's reasons say
   why it was passed over.
7. 350 rows, nothing measured yet (issue 11, section 2). The architect: "a quick Canvas AutoML
   build, or a simple in-house model; measure under cross-validation before trusting it" ->
   proceed-with-conditions, hosted-custom / sagemaker-canvas, not not-ready; the condition is the
   planning-floor reservation, a warning.
8. A static cost tier never rejects. Summaries of 2,000 short chats a month with a Bedrock
   model cost well under a dollar a month; a 100 USD budget is no reason to rule Bedrock out.
   The architect: "estimate the cost at your volume" -> pre-built / amazon-bedrock,
   proceed-with-conditions, the demotion saying "estimate its cost at your volume".
9. ...but measured cost does, and so does a value no build can pay back. A benchmark row that
   costs 9,000 USD a month against a 5,000 budget rules its option out; the bookshop whose
   photo categorising is worth 60 USD a month cannot pay back even days of work ->
   ml-not-recommended, no-ml.
10. Words. An eligible option never reads "viable, but X is simpler" with X itself, nor calls an
    option that won by measurement "simpler".
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.api import Assessment, assess
from engine.errors import InputError
from engine.rulebase.loading import RuleBase, default_rulebase, load_rulebase
from engine.util import dotted
from tests.conftest import ROOT

RB = default_rulebase()


def decide(answers: dict[str, Any] | None = None, benchmarks: list[dict[str, Any]] | None = None,
           rulebase: RuleBase | None = None) -> Assessment:
    """The rule base's healthy baseline project with `answers` (dotted paths) changed."""
    rb = rulebase or RB
    doc = copy.deepcopy(rb.baseline)
    for path, value in (answers or {}).items():
        dotted.set(doc, path, copy.deepcopy(value), none_drops=True)
    return assess({"answers": doc, "benchmarks": benchmarks, "drift": None}, rb)


def options(assessment: Assessment) -> dict[str, dict[str, Any]]:
    return {o["offer"]: o for o in assessment.decision["options"]}


def rules_fired(assessment: Assessment) -> set[str]:
    return {f["rule"] for f in assessment.decision["findings"]}


def selection_fact(assessment: Assessment) -> dict[str, Any]:
    from engine.rulebase.resolve import selection_fact as fact

    assert assessment.resolution.selected is not None
    return fact(assessment.resolution.selected)


FINE_TUNED = {"candidate": "bedrock-fine-tuned", "rung": "hosted-custom",
              "service": "amazon-bedrock", "f1_macro": 0.86}


# ---------------------------------------------------------------- 1, 2: measure the simpler first

def test_a_measured_pass_higher_up_does_not_skip_the_unmeasured_api_below() -> None:
    result = decide(benchmarks=[FINE_TUNED])
    decision = result.decision
    assert decision["verdict"] == "proceed-with-conditions"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "pre-built", "amazon-comprehend")
    assert decision["strategy"]["fallback"] == {
        "rung": "hosted-custom", "service": "amazon-bedrock", "offer": "bedrock-fine-tuning"}
    assert "Amazon Bedrock (fine-tune)" in decision["strategy"]["summary"]
    assert "bedrock-fine-tuned" in decision["strategy"]["summary"]
    fact = selection_fact(result)
    assert fact["measured"] is False
    assert (fact["fallback"], fact["fallback_rung"], fact["fallback_service"]) == (
        "bedrock-fine-tuning", "hosted-custom", "amazon-bedrock")
    assert "solution-evaluation.measure-simpler-first" in rules_fired(result)
    by_offer = options(result)
    assert any("measure it before committing" in r
               for r in by_offer["comprehend-apis"]["reasons"])
    assert any("fallback" in r for r in by_offer["bedrock-fine-tuning"]["reasons"])


def test_the_simpler_option_that_cannot_work_says_why_and_the_proven_one_stays() -> None:
    result = decide({"problem.domain_specificity": "specialized"}, [FINE_TUNED])
    decision = result.decision
    assert decision["verdict"] == "proceed"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "hosted-custom", "amazon-bedrock")
    assert "fallback" not in decision["strategy"]
    assert "solution-evaluation.measure-simpler-first" not in rules_fired(result)
    api = options(result)["comprehend-apis"]
    assert api["status"] == "eligible"
    assert any("specialised domain" in r for r in api["reasons"])
    assert any("proven by measurement" in r for r in api["reasons"])
    assert not any("simpler or preferred" in r for r in api["reasons"])


# ---------------------------------------------------------------- 3: everything measured fell short

def test_when_every_measured_option_misses_the_unmeasured_one_comes_with_conditions() -> None:
    result = decide(benchmarks=[{"candidate": "comprehend-sentiment", "rung": "pre-built",
                                 "service": "amazon-comprehend", "f1_macro": 0.70}])
    decision = result.decision
    assert decision["verdict"] == "proceed-with-conditions"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "pre-built", "amazon-bedrock")
    finding = next(f for f in decision["findings"]
                   if f["rule"] == "solution-evaluation.measured-options-fell-short")
    assert finding["severity"] == "warning"
    assert "comprehend-sentiment" in finding["rationale"]
    assert "gap -0.1" in finding["rationale"]
    assert "comprehend-sentiment" in decision["strategy"]["summary"]
    assert selection_fact(result)["fell_short"] >= 1


# ---------------------------------------------------------------- 4: a shared serving path

def _open_model_offer(catalog: dict[str, Any]) -> str:
    """SageMaker's own offer to fine-tune an open model for images (its id varies by catalog)."""
    return next(o["id"] for svc in catalog["services"] if svc["id"] == "amazon-sagemaker"
                for o in svc["offers"] if o["rung"] == "pre-trained"
                and o["method"] == "fine-tune" and "image-classification" in o["tasks"])


def _rulebase(tmp_path: Path, shared: bool) -> tuple[RuleBase, str]:
    """A copy of the rule base in which JumpStart's fine-tuning offer and SageMaker's open-model
    fine-tuning offer serve the same model (shared), as knowledge/services.yaml marks such
    pairs, or each its own; and the SageMaker offer's id."""
    root = tmp_path / ("shared" if shared else "apart")
    shutil.copytree(ROOT / "rules", root / "rules")
    shutil.copytree(ROOT / "knowledge", root / "knowledge")
    catalog_file = root / "knowledge" / "services.yaml"
    catalog = yaml.safe_load(catalog_file.read_text())
    peer = _open_model_offer(catalog)
    for service in catalog["services"]:
        for offer in service["offers"]:
            if offer["id"] in ("jumpstart-fine-tuning", peer):
                offer["serving_path"] = "open-model-fine-tuned" if shared else offer["id"]
    catalog_file.write_text(yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True))
    return load_rulebase(root), peer


EDGE_WELDS = {"problem.task": "image-classification", "problem.deployment_target": "edge",
              "team.ml_expertise": "advanced", "data.labeled_examples": 4200,
              "business.success_criteria": [{"metric": "recall", "threshold": 0.9,
                                             "goal": "at-least"}]}


def test_a_miss_measured_on_one_option_applies_to_the_same_model_served_another_way(
        tmp_path: Path) -> None:
    rb, peer = _rulebase(tmp_path, shared=True)
    jumpstart = {"candidate": "jumpstart-resnet", "rung": "pre-trained",
                 "service": "sagemaker-jumpstart", "offer": "jumpstart-fine-tuning",
                 "recall": 0.8}
    result = decide(EDGE_WELDS, [jumpstart], rb)
    open_model = options(result)[peer]
    assert open_model["status"] == "rejected"
    assert any("jumpstart-resnet" in r and "serving path" in r for r in open_model["reasons"])
    assert [e["candidate"] for e in open_model["evidence"]] == ["jumpstart-resnet"]
    assert result.decision["strategy"]["rung"] != "pre-trained"


def test_without_a_shared_path_the_other_offer_is_not_judged_by_the_measurement(
        tmp_path: Path) -> None:
    rb, peer = _rulebase(tmp_path, shared=False)
    jumpstart = {"candidate": "jumpstart-resnet", "rung": "pre-trained",
                 "service": "sagemaker-jumpstart", "offer": "jumpstart-fine-tuning",
                 "recall": 0.8}
    result = decide(EDGE_WELDS, [jumpstart], rb)
    assert options(result)["jumpstart-fine-tuning"]["status"] == "rejected"
    assert options(result)[peer]["status"] != "rejected"


def test_a_measured_cost_over_budget_applies_to_the_same_model_too(tmp_path: Path) -> None:
    rb, peer = _rulebase(tmp_path, shared=True)
    jumpstart = {"candidate": "jumpstart-resnet", "rung": "pre-trained",
                 "service": "sagemaker-jumpstart", "offer": "jumpstart-fine-tuning",
                 "recall": 0.95, "cost_usd_per_month": 9000}
    result = decide(EDGE_WELDS, [jumpstart], rb)
    open_model = options(result)[peer]
    assert open_model["status"] == "rejected"
    assert any("over the budget" in r for r in open_model["reasons"])


# ---------------------------------------------------------------- 5, 6, 7: tabular churn

CHURN = {"problem.task": "tabular-classification", "data.labeled_examples": 5000}
BASELINES = [
    {"candidate": "linear-model", "rung": "from-scratch", "service": "", "f1_macro": 0.75},
    {"candidate": "gradient-boosting", "rung": "from-scratch", "service": "", "f1_macro": 0.85},
]


def test_the_benchmarks_own_baselines_stand_for_a_simple_in_house_model() -> None:
    canvas = {"candidate": "canvas-quick", "rung": "hosted-custom",
              "service": "sagemaker-canvas", "f1_macro": 0.70}
    result = decide(CHURN, [canvas, *BASELINES])
    strategy = result.decision["strategy"]
    assert (strategy["rung"], strategy["service"]) == ("from-scratch", "amazon-sagemaker")
    fact = selection_fact(result)
    assert (fact["offer"], fact["method"], fact["effort"]) == (
        "in-house-simple-model", "custom-training", "days")
    assert fact["measured"] is True
    by_offer = options(result)
    assert by_offer["in-house-simple-model"]["status"] == "selected"
    assert by_offer["sagemaker-tabular-training"]["status"] == "eligible"
    assert any("proven by measurement" in r
               for r in by_offer["sagemaker-tabular-training"]["reasons"])
    assert by_offer["canvas-tabular-automl"]["status"] == "rejected"


SMB_CHURN = {"problem.task": "tabular-classification", "data.labeled_examples": 350,
             "problem.explainability_required": True,
             "business.expected_value_usd_per_month": 6000, "business.budget_usd_per_month": 400,
             "business.success_criteria": [
                 {"metric": "recall", "threshold": 0.7, "goal": "at-least"},
                 {"metric": "precision", "threshold": 0.4, "goal": "at-least"}]}


def test_a_small_table_with_a_proven_baseline_keeps_the_simple_in_house_model() -> None:
    rows = [{"candidate": "linear-model", "rung": "from-scratch", "recall": 0.6,
             "precision": 0.35},
            {"candidate": "gradient-boosting", "rung": "from-scratch", "recall": 0.74,
             "precision": 0.45}]
    result = decide(SMB_CHURN, rows)
    assert selection_fact(result)["offer"] == "in-house-simple-model"
    canvas = options(result)["canvas-tabular-automl"]
    assert any("500" in r for r in canvas["reasons"])
    assert any("proven by measurement" in r for r in canvas["reasons"])


def test_a_small_table_without_measurements_is_a_quick_automl_build_with_conditions() -> None:
    result = decide(SMB_CHURN)
    decision = result.decision
    assert decision["verdict"] == "proceed-with-conditions"
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "hosted-custom", "sagemaker-canvas")
    finding = next(f for f in decision["findings"]
                   if f["rule"] == "solution-evaluation.selected-with-reservations")
    assert finding["severity"] == "warning"
    assert "learning curve" in finding["rationale"]
    blockers = [f["rule"] for f in decision["findings"] if f["severity"] == "blocker"]
    assert blockers == []


# ---------------------------------------------------------------- 8, 9: cost and value

def test_a_small_summarising_job_keeps_prompting_and_only_estimates_over_budget_reject() -> None:
    """2,000 summaries a month on a 100 USD budget: prompting a foundation model costs a few
    dollars; only options whose cheapest estimate exceeds the budget are ruled out for cost."""
    result = decide({"problem.task": "summarization", "business.budget_usd_per_month": 100,
                     "business.expected_value_usd_per_month": 800,
                     "problem.requests_per_month": 2000})
    decision = result.decision
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "pre-built", "amazon-bedrock")
    prompting = options(result)["bedrock-prompting"]
    assert prompting["status"] == "selected" and prompting["cost"]["low_usd_per_month"] < 100
    for option in decision["options"]:
        over = [r for r in option["reasons"] if "over the budget of 100" in r]
        if option.get("cost") and option["cost"]["low_usd_per_month"] > 100:
            assert option["status"] == "rejected" and over, option["offer"]
        else:
            assert not over, option["offer"]


def test_a_measured_cost_over_budget_still_rejects() -> None:
    row = {"candidate": "comprehend", "rung": "pre-built", "service": "amazon-comprehend",
           "f1_macro": 0.9, "cost_usd_per_month": 9000}
    result = decide(benchmarks=[row])
    assert options(result)["comprehend-apis"]["status"] == "rejected"
    assert result.decision["strategy"]["service"] != "amazon-comprehend"


def test_a_value_no_build_can_pay_back_is_not_worth_ml() -> None:
    result = decide({"problem.task": "image-classification", "team.ml_expertise": "none",
                     "business.expected_value_usd_per_month": 60,
                     "business.budget_usd_per_month": 50, "data.labeled_examples": 240})
    decision = result.decision
    assert decision["verdict"] == "ml-not-recommended"
    assert decision["strategy"]["rung"] == "no-ml"
    assert "solution-evaluation.nothing-viable" in rules_fired(result)


# ---------------------------------------------------------------- 10: words

def _comparisons(assessment: Assessment) -> list[tuple[dict[str, Any], str]]:
    return [(o, r) for o in assessment.decision["options"] if o["status"] == "eligible"
            for r in o["reasons"] if "but " in r]


def test_no_option_is_told_it_loses_to_itself() -> None:
    for answers, rows in ((CHURN, BASELINES), ({}, [FINE_TUNED]), ({}, None),
                          ({"problem.task": "summarization"}, None)):
        result = decide(answers, rows)
        chosen = result.resolution.selected
        assert chosen is not None
        for option, reason in _comparisons(result):
            if "simpler" in reason or "preferred" in reason:
                named = reason.split("but ", 1)[1]
                assert not named.startswith(f"{option['service']}"), reason
                assert option["offer"] != chosen.offer or option["service"] != chosen.service


def test_an_option_that_won_by_measurement_is_never_called_simpler() -> None:
    result = decide({"problem.domain_specificity": "specialized"}, [FINE_TUNED])
    for _option, reason in _comparisons(result):
        if "Amazon Bedrock (fine-tune)" in reason:
            assert "proven by measurement" in reason
            assert "simpler" not in reason.split("Amazon Bedrock (fine-tune)", 1)[1]


# ---------------------------------------------------------------- a row may name its offer

def test_a_benchmark_row_may_name_the_offer_it_measured(tmp_path: Path) -> None:
    """A miss measured on JumpStart's self-hosted foundation model says nothing about the task
    models JumpStart also offers; a row that names no offer judges every JumpStart option."""
    from engine.evidence.files import load_benchmarks

    csv = tmp_path / "rows.csv"
    csv.write_text("candidate,rung,service,offer,f1_macro\n"
                   "llama,pre-trained,sagemaker-jumpstart,jumpstart-foundation-model,0.6\n"
                   "plain,pre-built,amazon-comprehend,,0.7\n")
    rows = load_benchmarks(csv)
    assert rows[0]["offer"] == "jumpstart-foundation-model"
    assert "offer" not in rows[1]
    named = options(decide({"problem.task": "summarization"}, rows))
    assert named["jumpstart-foundation-model"]["status"] == "rejected"
    assert named["jumpstart-task-model"]["status"] != "rejected"
    assert "evidence" not in named["jumpstart-task-model"]
    del rows[0]["offer"]
    unnamed = options(decide({"problem.task": "summarization"}, rows))
    assert unnamed["jumpstart-task-model"]["status"] == "rejected"


def test_a_row_naming_an_offer_the_catalog_lacks_is_refused() -> None:
    row = {"candidate": "x", "rung": "pre-built", "service": "amazon-comprehend",
           "offer": "comprehend-apis-typo", "f1_macro": 0.9}
    with pytest.raises(InputError) as error:
        decide(benchmarks=[row])
    assert "row 1.offer" in str(error.value)


def test_a_row_proving_a_service_proves_its_offer_with_the_fewest_reservations() -> None:
    """A retailer's pilot of a knowledge base over its product sheets is benchmarked as
    hosted-custom Bedrock, which names both of the service's offers on that rung. The fine-tune
    carries the grounding reservation, the knowledge base none: the knowledge base is the one
    proven, and a simpler option with a reservation the proven one lacks is not tried first."""
    row = {"candidate": "kb-pilot", "rung": "hosted-custom", "service": "amazon-bedrock",
           "f1_macro": 0.91}
    result = decide({"problem.task": "conversational-agent",
                     "problem.answers_from": "documents",
                     "problem.domain_specificity": "moderate"}, benchmarks=[row])
    chosen = next(o for o in result.decision["options"] if o["status"] == "selected")
    assert chosen["offer"] == "bedrock-knowledge-bases"
    assert options(result)["bedrock-fine-tuning"]["status"] == "eligible"
    assert result.resolution.selected is not None
    assert result.resolution.selected.fallback is None
