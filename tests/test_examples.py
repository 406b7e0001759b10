"""The bundled examples: each reaches the decision a careful architect would, and together they
reach every verdict and at least four rungs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from engine.api import assess_files
from tests.conftest import EXAMPLE_ANSWERS, EXAMPLES

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
    # a basic team would fine-tune, compile and ship the model to devices itself (issue 11, E4)
    "factory-defects-edge.yaml": ("proceed-with-conditions", "pre-trained", "sagemaker-jumpstart"),
    # served on the bank's own servers: the strategy names no AWS service (knowledge/ladder.yaml)
    "credit-risk-on-prem.yaml": ("proceed-with-conditions", "from-scratch", None),
    "policy-assistant.yaml": ("proceed-with-conditions", "hosted-custom", "amazon-bedrock"),
    # issue 11: a cost tier no longer rules Translate out; 20 requests a month cost cents
    "newsletter-translation.yaml": ("proceed-with-conditions", "pre-built", "amazon-translate"),
    "fraud-deployed.yaml": ("proceed-with-conditions", "from-scratch", "amazon-sagemaker"),
}


# The examples added for issue 11: the architect's answers in examples/expected.yaml, written
# before mladvisor was run on them (verdict, rung, service and the alternatives also signed).
ARCHITECT: list[dict[str, Any]] = yaml.safe_load((EXAMPLES / "expected.yaml").read_text())
# Where the rule base does not give the architect's answer yet. Strict: when a change makes
# one agree, its test fails until the entry is removed here.
def test_every_example_has_an_expectation() -> None:
    architect = [entry["file"] for entry in ARCHITECT]
    assert not set(architect) & set(EXPECTED)
    assert sorted(p.name for p in EXAMPLE_ANSWERS) == sorted([*EXPECTED, *architect])


def _architect_case(entry: dict[str, Any]) -> Any:
    return pytest.param(entry, id=entry["file"])


@pytest.mark.parametrize("entry", [_architect_case(e) for e in ARCHITECT])
def test_example_decision_an_architect_signs(entry: dict[str, Any]) -> None:
    evidence = {key: EXAMPLES / entry[key] for key in ("benchmarks", "drift") if entry.get(key)}
    decision = assess_files(EXAMPLES / entry["file"], **evidence).decision
    assert decision["verdict"] == entry["verdict"]
    strategy = decision["strategy"] or {}
    signed = {(entry["rung"], entry["service"])}
    signed |= {(alt["rung"], alt["service"]) for alt in entry["acceptable_alternatives"]}
    assert (strategy.get("rung"), strategy.get("service")) in signed


def test_architect_answers_name_known_evidence_and_vocabulary() -> None:
    verdicts = {"proceed", "proceed-with-conditions", "not-ready", "ml-not-recommended"}
    for entry in ARCHITECT:
        assert entry["verdict"] in verdicts
        assert entry["must_mention"] and "checked: 2026-12-01" in entry["why"]
        for key in ("benchmarks", "drift"):
            assert not entry.get(key) or (EXAMPLES / entry[key]).is_file()


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
