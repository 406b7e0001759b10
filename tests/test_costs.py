"""Costs from volume, end to end: knowledge/pricing.yaml through the real engine into the
decision (CONTRACT section 9), the rules that compare estimates with the budget and the value,
and the report that shows them.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.api import assess, assess_files
from engine.rulebase.loading import load_rulebase
from tests.conftest import EXAMPLES

# A web shop writing 2,000 product descriptions a month: a foundation model prompted with the
# product's facts is the simple answer, and its tokens cost a few dollars a month at most.
SHOP: dict[str, Any] = {
    "schema": "mladvisor.answers/1",
    "project": {"name": "Product descriptions", "respondent": "R", "stage": "experimentation"},
    "business": {"problem_statement": "Draft product descriptions from the product facts",
                 "objective_measurable": True, "kpi": "editor minutes per description",
                 "stakeholders_aligned": True, "expected_value_usd_per_month": 800,
                 "budget_usd_per_month": 100,
                 "success_criteria": [{"metric": "accepted_share", "threshold": 0.8,
                                       "goal": "at-least"}]},
    "problem": {"task": "text-generation", "rules_suffice": False,
                "domain_specificity": "generic", "requests_per_month": 2000,
                "input_chars_per_request": 1500, "output_chars_per_request": 1500},
    "data": {"available": True, "sources_identified": True, "labeled_examples": 50,
             "quality": "good", "inputs_outputs_defined": True},
    "team": {"ml_expertise": "basic"},
    "monitoring": {"plan_exists": True, "ground_truth_available": True},
}


def decide(answers: dict[str, Any]) -> dict[str, Any]:
    return assess({"answers": answers}).decision


def shop(**problem: Any) -> dict[str, Any]:
    answers = copy.deepcopy(SHOP)
    answers["problem"].update(problem)
    return answers


def by_offer(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["offer"]: o for o in decision["options"]}


def test_a_small_generative_job_gets_prompting_for_a_few_dollars() -> None:
    got = decide(SHOP)
    assert got["verdict"] != "ml-not-recommended"
    assert (got["strategy"]["rung"], got["strategy"]["service"]) == ("pre-built",
                                                                      "amazon-bedrock")
    cost = by_offer(got)["bedrock-prompting"]["cost"]
    assert 0 < cost["low_usd_per_month"] < 1 and cost["high_usd_per_month"] < 100
    assert cost["measured"] is False and cost["assumed"] == []
    dt.date.fromisoformat(cost["priced_on"])
    assert any("2,000 requests x 1,500 characters / 4 = 750,000 tokens in" in line
               for line in cost["basis"])


# Descriptions drafted while the editor waits: a response time makes endpoints the route.
INTERACTIVE = {"latency_p95_ms": 5000}


def test_doubling_the_volume_raises_per_request_costs_not_an_idle_endpoint() -> None:
    one = by_offer(decide(shop(**INTERACTIVE)))
    two = by_offer(decide(shop(requests_per_month=4000, **INTERACTIVE)))
    per_request = one["bedrock-prompting"]["cost"], two["bedrock-prompting"]["cost"]
    assert per_request[1]["high_usd_per_month"] == pytest.approx(
        2 * per_request[0]["high_usd_per_month"], rel=0.01)
    endpoint = [offer for offer, o in one.items() if o.get("cost")
                and any("instance(s) x 730 hours" in b for b in o["cost"]["basis"])]
    assert endpoint, "some option of a generative task is served from an endpoint"
    for offer in endpoint:
        assert one[offer]["cost"]["low_usd_per_month"] == two[offer]["cost"]["low_usd_per_month"]


def test_an_estimate_over_the_budget_rules_an_option_out_with_its_figure() -> None:
    got = by_offer(decide(shop(requests_per_month=2000, **INTERACTIVE)))
    endpoint = got["jumpstart-foundation-model"]
    assert endpoint["status"] == "rejected"
    assert any("would cost at least" in r and "over the budget of 100" in r
               for r in endpoint["reasons"])


def test_work_that_can_wait_is_priced_as_jobs_sized_to_the_volume() -> None:
    """No response time stated: an architect runs batch jobs, not an endpoint all month."""
    one, two = by_offer(decide(SHOP)), by_offer(decide(shop(requests_per_month=4000)))
    always_on = by_offer(decide(shop(**INTERACTIVE)))["jumpstart-foundation-model"]["cost"]
    jobs = one["jumpstart-foundation-model"]["cost"]
    assert jobs["basis"][0].startswith("batch: no response time is required")
    assert any("job hours" in line for line in jobs["basis"])
    assert not any("instance(s) x 730 hours" in line for line in jobs["basis"])
    assert jobs["high_usd_per_month"] < always_on["low_usd_per_month"]
    assert one["jumpstart-foundation-model"]["status"] != "rejected"
    # jobs grow with the volume, unlike an endpoint that idles
    doubled = two["jumpstart-foundation-model"]["cost"]
    assert doubled["high_usd_per_month"] == pytest.approx(2 * jobs["high_usd_per_month"],
                                                          rel=0.01)


def test_a_response_time_of_hours_still_leaves_room_for_jobs() -> None:
    hours = by_offer(decide(shop(latency_p95_ms=4 * 3600 * 1000)))
    seconds = by_offer(decide(shop(latency_p95_ms=2000)))
    assert hours["jumpstart-foundation-model"]["cost"]["basis"][0].startswith("batch:")
    assert not seconds["jumpstart-foundation-model"]["cost"]["basis"][0].startswith("batch:")


def test_a_latency_success_criterion_counts_as_a_response_time() -> None:
    answers = shop()
    answers["business"]["success_criteria"].append(
        {"metric": "latency_p95_ms", "threshold": 3000, "goal": "at-most"})
    cost = by_offer(decide(answers))["jumpstart-foundation-model"]["cost"]
    assert any("instance(s) x 730 hours" in line for line in cost["basis"])


def test_an_unknown_volume_leaves_per_request_options_unpriced_and_says_why() -> None:
    answers = shop()
    del answers["problem"]["requests_per_month"]
    got = by_offer(decide(answers))
    assert got["bedrock-prompting"]["cost"] is None
    assert "problem.requests_per_month" in got["bedrock-prompting"]["cost_note"]


def test_sizes_left_out_are_the_tasks_defaults_and_are_listed() -> None:
    answers = shop()
    del answers["problem"]["input_chars_per_request"]
    cost = by_offer(decide(answers))["bedrock-prompting"]["cost"]
    assert cost["assumed"] == ["problem.input_chars_per_request = 2000"]


def test_a_deployed_project_is_not_overruled_by_an_estimate() -> None:
    answers = shop(requests_per_month=2000, **INTERACTIVE)
    answers["project"].update(stage="deployed", current_solution={
        "rung": "pre-trained", "service": "sagemaker-jumpstart",
        "offer": "jumpstart-foundation-model"})
    got = by_offer(decide(answers))["jumpstart-foundation-model"]
    assert not any("would cost at least" in r for r in got["reasons"])


def test_a_measured_cost_replaces_the_estimate() -> None:
    rows = [{"candidate": "nova-prompt", "rung": "pre-built", "service": "amazon-bedrock",
             "offer": "bedrock-prompting", "accepted_share": 0.9, "cost_usd_per_month": 3.5}]
    got = by_offer(assess({"answers": SHOP, "benchmarks": rows}).decision)
    cost = got["bedrock-prompting"]["cost"]
    assert cost["measured"] is True
    assert cost["low_usd_per_month"] == cost["high_usd_per_month"] == 3.5
    assert "measured in the benchmark of nova-prompt" in cost["basis"][0]


def test_a_measured_cost_settles_what_the_estimate_left_open() -> None:
    """The ticket example's estimate for Comprehend spans its 3,000 USD budget, so a finding
    asks the trial to measure the cheaper choices; once the benchmark measured 1,200 USD a
    month, the finding and its action would contradict the measured figure."""
    answers = EXAMPLES / "support-ticket-routing.yaml"
    straddles = "solution-evaluation.selected-cost-straddles-budget"
    estimated = assess_files(answers).decision
    assert straddles in {f["rule"] for f in estimated["findings"]}
    assert any("cheaper choices" in a for a in estimated["actions"])
    measured = assess_files(answers, EXAMPLES / "evidence" / "ticket-benchmarks.csv").decision
    selected = next(o for o in measured["options"] if o["status"] == "selected")
    assert selected["offer"] == next(o["offer"] for o in estimated["options"]
                                     if o["status"] == "selected")
    assert selected["cost"]["measured"] is True
    assert straddles not in {f["rule"] for f in measured["findings"]}
    assert not any("cheaper choices" in a for a in measured["actions"])


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml")
                                         if p.name != "expected.yaml"), ids=lambda p: p.stem)
def test_every_option_of_every_example_has_a_cost_or_says_why(path: Path) -> None:
    decision = assess_files(path).decision
    for option in decision["options"]:
        if option["cost"] is None:
            assert option["cost_note"], option["offer"]
        else:
            assert option["cost"]["low_usd_per_month"] <= option["cost"]["high_usd_per_month"]
            assert option["cost"]["basis"], option["offer"]


def test_every_open_offer_but_a_few_is_priced_and_each_price_is_dated() -> None:
    knowledge = load_rulebase().knowledge
    priced = {p.offer for p in knowledge.pricing.offers}
    open_offers = {o.id for s in knowledge.catalog.services
                   if s.availability == "generally-available" for o in s.offers}
    assert len(open_offers - priced) <= 2, sorted(open_offers - priced)
    for price in knowledge.pricing.offers:
        assert price.source.startswith("https://") and price.checked.year >= 2026


def test_a_model_on_own_devices_reads_as_unbilled_not_as_free() -> None:
    """Camera traps run their model on each station: no provider bills the running, and the
    summary must not read "0 USD a month" as if the devices and their upkeep were free."""
    from engine.report.text import render_text

    assessment = assess_files(EXAMPLES / "camera-trap-edge.yaml")
    decision = assessment.decision
    selected = next(o for o in decision["options"] if o["status"] == "selected")
    assert selected["runs"] == "edge-device"
    assert selected["cost"]["running_billed"] is False
    assert selected["cost"]["basis"][0].startswith("running: no provider price")
    assert all(o["cost"]["running_billed"] for o in decision["options"]
               if o["cost"] and o.get("runs") == "provider-api")
    summary = render_text(assessment.model)
    assert "no provider running cost" in summary
    assert "cost: 0 USD a month" not in summary
