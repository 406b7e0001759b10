"""The rule base as data: every rule's examples pass, lint is clean, and the two evaluators
(durable_rules and the Python one used for explanations) agree."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from engine.errors import RuleBaseError
from engine.model.vocab import PHASES
from engine.rulebase.lint import lint
from engine.rulebase.loading import default_rulebase, load_rulebase
from engine.rulebase.testing import run_example
from tests.conftest import ROOT

RB = default_rulebase()
CASES = [(rule.id, example.name) for rule in RB.active() for example in rule.examples]


@pytest.mark.parametrize(("rule_id", "example"), CASES)
def test_rule_example(rule_id: str, example: str) -> None:
    rule = RB.rule(rule_id)
    result = run_example(RB, rule, next(e for e in rule.examples if e.name == example))
    assert result.passed, result.problems
    assert not result.disagreements


@pytest.mark.parametrize("rule_id", [r.id for r in RB.active()])
def test_every_rule_has_a_firing_example(rule_id: str) -> None:
    assert any(e.fires for e in RB.rule(rule_id).examples)


def test_rules_with_only_firing_examples_are_the_known_exceptions() -> None:
    # Candidate generation fires for every task by design: every task has catalog offers.
    lonely = sorted(r.id for r in RB.active() if all(e.fires for e in r.examples))
    assert lonely == ["solution-evaluation.candidates-from-catalog"]


def test_lint_is_clean() -> None:
    problems = [p for p in lint(RB) if p.level == "error"]
    assert problems == []


def test_rule_base_size_and_phases() -> None:
    assert len(RB.active()) >= 40
    assert {r.phase for r in RB.active()} == set(PHASES)
    for phase in PHASES:
        assert (ROOT / "rules" / f"{phase}.yaml").is_file()


def test_catalog_lists_every_contract_service_with_a_checked_date() -> None:
    ids = {s.id for s in RB.knowledge.catalog.services}
    assert {"amazon-comprehend", "amazon-bedrock", "amazon-sagemaker", "sagemaker-jumpstart",
            "amazon-rekognition", "amazon-textract", "amazon-translate", "amazon-transcribe",
            "amazon-polly", "amazon-lex", "amazon-personalize", "amazon-kendra",
            "sagemaker-canvas"} <= ids
    assert all(s.checked.year >= 2026 for s in RB.knowledge.catalog.services)


def copy_rulebase(tmp_path: Path) -> Path:
    for folder in ("rules", "knowledge"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit_rule(root: Path, file: str, change) -> None:
    path = root / "rules" / file
    doc = yaml.safe_load(path.read_text())
    change(doc["rules"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_lint_names_unknown_fact_paths_and_guidance(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)

    def break_it(rules: list) -> None:
        rules[0]["when"] = {"data.colour": "blue"}
        rules[1]["guidance"] = "data.nowhere"

    edit_rule(root, "data.yaml", break_it)
    problems = [str(p) for p in lint(load_rulebase(root), run_examples=False)]
    assert any("unknown fact path 'data.colour'" in p for p in problems)
    assert any("unknown guidance id 'data.nowhere'" in p for p in problems)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    edit_rule(root, "data.yaml", lambda rules: rules.append(copy.deepcopy(rules[0])))
    with pytest.raises(RuleBaseError, match="duplicate rule id"):
        load_rulebase(root)


def test_lint_finds_a_rule_no_example_reaches(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)

    def unreachable(rules: list) -> None:
        rule = next(r for r in rules if r["id"] == "data.fair-quality")
        rule["examples"] = [{"name": "claims to fire", "answers": {}, "fires": True}]

    edit_rule(root, "data.yaml", unreachable)
    problems = [str(p) for p in lint(load_rulebase(root))]
    assert any("data.fair-quality" in p and "never fires" in p for p in problems)
    assert any("data.fair-quality" in p and "expected the rule to fire" in p for p in problems)


def test_a_new_service_is_a_yaml_edit(tmp_path: Path) -> None:
    """Adding a catalog entry changes the decision with no code change."""
    root = copy_rulebase(tmp_path)
    path = root / "knowledge" / "services.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["services"].append({
        "id": "acme-sentiment", "name": "Acme Sentiment", "kind": "ai-service",
        "summary": "A test service.", "data_needs": "None.",
        "availability": "generally-available", "docs": "https://example.invalid/",
        "checked": "2026-11-27",
        "offers": [{"id": "acme-sentiment-api", "rung": "pre-built", "method": "api",
                    "runs": ["provider-api"], "tasks": ["sentiment-analysis"], "how": "call it",
                    "cost_tier": "low", "effort": "days", "explainable": True}],
    })
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    from engine.api import assess

    rb = load_rulebase(root)
    answers = copy.deepcopy(rb.baseline)
    answers["problem"]["explainability_required"] = True
    decision = assess({"answers": answers}, rb).decision
    assert decision["strategy"]["service"] == "acme-sentiment"
    selected = next(o for o in decision["options"] if o["status"] == "selected")
    assert (selected["offer"], selected["method"], selected["runs"]) == (
        "acme-sentiment-api", "api", "provider-api")
    assert decision["rulebase"]["sha256"] != RB.sha256
