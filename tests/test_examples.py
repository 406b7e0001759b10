"""The bundled examples: each reaches the decision a careful architect would, and together they
reach every verdict and at least four rungs."""

from __future__ import annotations

import pytest

from engine.api import assess_files
from tests.conftest import EXAMPLES

# file -> (verdict, rung, service), written from the guidance, not from the engine's output.
EXPECTED = {
    "support-ticket-routing.yaml": (
        "proceed-with-conditions",
        "hosted-custom",
        "amazon-comprehend",
    ),
    "review-sentiment.yaml": ("proceed", "pre-built", "amazon-comprehend"),
    "invoice-approval-rules.yaml": ("ml-not-recommended", "no-ml", None),
    "churn-idea.yaml": ("not-ready", None, None),
    "factory-defects-edge.yaml": ("proceed", "pre-trained", "sagemaker-jumpstart"),
    "credit-risk-on-prem.yaml": ("proceed-with-conditions", "from-scratch", "amazon-sagemaker"),
    "policy-assistant.yaml": ("proceed", "hosted-custom", "amazon-bedrock"),
    # issue 11: a cost tier no longer rules Translate out; 20 requests a month cost cents
    "newsletter-translation.yaml": ("proceed-with-conditions", "pre-built", "amazon-translate"),
    "fraud-deployed.yaml": ("proceed-with-conditions", "hosted-custom", "sagemaker-canvas"),
}


def test_every_example_has_an_expectation() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_decision(name: str) -> None:
    verdict, rung, service = EXPECTED[name]
    decision = assess_files(EXAMPLES / name).decision
    assert decision["verdict"] == verdict
    strategy = decision["strategy"]
    if verdict == "not-ready":
        assert strategy is None
        assert not any(o["status"] == "selected" for o in decision["options"])
    else:
        assert (strategy["rung"], strategy["service"]) == (rung, service)


def test_examples_cover_every_verdict_and_four_rungs() -> None:
    verdicts = {v for v, _, _ in EXPECTED.values()}
    rungs = {r for _, r, _ in EXPECTED.values() if r}
    assert verdicts == {"proceed", "proceed-with-conditions", "not-ready", "ml-not-recommended"}
    assert len(rungs) >= 4


def test_benchmark_evidence_keeps_the_simplest_rung_that_meets_every_criterion() -> None:
    decision = assess_files(
        EXAMPLES / "support-ticket-routing.yaml",
        benchmarks=EXAMPLES / "evidence" / "ticket-benchmarks.csv",
    ).decision
    assert (decision["strategy"]["rung"], decision["strategy"]["service"]) == (
        "hosted-custom",
        "amazon-comprehend",
    )
    by_key = {(o["rung"], o["service"]): o for o in decision["options"]}
    # jumpstart also meets every criterion but sits on a higher rung: eligible, not selected
    assert by_key[("pre-trained", "sagemaker-jumpstart")]["status"] == "eligible"
    bedrock = by_key[("pre-built", "amazon-bedrock")]
    assert bedrock["status"] == "rejected"
    assert any("f1_macro" in r and "gap" in r for r in bedrock["reasons"])
    checks = bedrock["evidence"][0]["checks"]
    assert {c["metric"]: c["met"] for c in checks} == {"f1_macro": False, "latency_p95_ms": False}


def test_drift_evidence_calls_for_retraining_and_adjustment() -> None:
    decision = assess_files(
        EXAMPLES / "fraud-deployed.yaml", drift=EXAMPLES / "evidence" / "fraud-drift.json"
    ).decision
    rules = {f["rule"] for f in decision["findings"]}
    assert {
        "monitoring.dataset-drift",
        "monitoring.performance-retrain",
        "monitoring.bias-violation",
    } <= rules
    assert "monitoring.performance-rebuild" not in rules
    assert "monitoring.deployed-without-drift-check" not in rules
