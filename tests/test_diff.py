"""`mladvisor diff`: two answers files, two saved decisions, or one of each."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.api import assess
from engine.cli import cli
from engine.explain.diff import diff, load_side
from engine.rulebase.loading import default_rulebase
from tests.conftest import EXAMPLES


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def milestones(tmp_path: Path) -> tuple[Path, Path]:
    """The same project at two milestones: the second has lost stakeholder agreement, knows
    its data's quality less well, and has more labels."""
    before = copy.deepcopy(default_rulebase().baseline)
    after = copy.deepcopy(before)
    after["business"]["stakeholders_aligned"] = False
    after["data"]["quality"] = "unknown"
    after["data"]["labeled_examples"] = 5000
    return _write(tmp_path / "before.yaml", before), _write(tmp_path / "after.yaml", after)


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["diff", *args], catch_exceptions=False)


def test_two_answers_files_json(milestones: tuple[Path, Path]) -> None:
    before, after = milestones
    result = _run(str(before), str(after), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answers"] == [
        {"path": "business.stakeholders_aligned", "from": True, "to": False},
        {"path": "data.labeled_examples", "from": 2000, "to": 5000},
        {"path": "data.quality", "from": "good", "to": "unknown"},
    ]
    added = {f["rule"] for f in data["findings"]["added"]}
    assert {"business-goal.stakeholders-not-aligned", "data.quality-unknown"} <= added
    assert not {f["rule"] for f in data["findings"]["removed"]} & added
    assert data["verdict"] == {"from": "proceed", "to": "not-ready", "changed": True}
    assert data["strategy"]["changed"] is True
    assert data["strategy"]["to"] is None
    assert data["strategy"]["from"]["rung"] == "pre-built"


def test_findings_raised_on_other_facts(tmp_path: Path) -> None:
    """A finding present at both milestones but on different facts is 'changed', with the
    facts that moved."""
    before = copy.deepcopy(default_rulebase().baseline)
    before["data"]["labeled_examples"] = 40
    before["problem"]["domain_specificity"] = "moderate"  # generic sentiment only spot-checks
    after = copy.deepcopy(before)
    after["data"]["labeled_examples"] = 60
    a, b = _write(tmp_path / "a.yaml", before), _write(tmp_path / "b.yaml", after)
    data = json.loads(_run(str(a), str(b), "-f", "json").output)
    changed = {f["rule"]: f for f in data["findings"]["changed"]}
    assert "data.too-few-labels" in changed
    facts = changed["data.too-few-labels"]["facts"]
    assert facts["from"]["data.labeled_examples"] == 40
    assert facts["to"]["data.labeled_examples"] == 60
    assert "data.too-few-labels" not in {f["rule"] for f in data["findings"]["added"]}
    assert "\n      data.labeled_examples: 40 -> 60\n" in _run(str(a), str(b)).output


def test_same_file_has_no_changes() -> None:
    file = str(EXAMPLES / "review-sentiment.yaml")
    data = json.loads(_run(file, file, "-f", "json").output)
    assert data["answers"] == []
    assert data["findings"] == {"added": [], "removed": [], "changed": []}
    assert data["verdict"]["changed"] is False and data["strategy"]["changed"] is False


def test_text_names_the_changes(milestones: tuple[Path, Path]) -> None:
    before, after = milestones
    result = _run(str(before), str(after))
    assert result.exit_code == 0
    out = result.output
    assert "Verdict:  proceed -> not-ready" in out
    assert "data.labeled_examples: 2000 -> 5000" in out
    assert "business.stakeholders_aligned: yes -> no" in out
    assert "+ [blocker] Stakeholders do not agree on the goal " \
           "(business-goal.stakeholders-not-aligned)" in out


def test_saved_decisions_and_mixed(tmp_path: Path, milestones: tuple[Path, Path]) -> None:
    before, after = milestones
    saved = tmp_path / "before-decision.json"
    saved.write_bytes(assess({"answers": yaml.safe_load(before.read_text())}).decision_json)
    from_answers = diff(load_side(before), load_side(after))
    mixed = json.loads(_run(str(saved), str(after), "-f", "json").output)
    assert mixed == json.loads(json.dumps(from_answers))
    saved_after = tmp_path / "after-decision.json"
    saved_after.write_bytes(assess({"answers": yaml.safe_load(after.read_text())}).decision_json)
    both = json.loads(_run(str(saved), str(saved_after), "-f", "json").output)
    assert both == mixed


def test_decision_without_input_answers(tmp_path: Path, milestones: tuple[Path, Path]) -> None:
    before, after = milestones
    decision = json.loads(assess({"answers": yaml.safe_load(before.read_text())}).decision_json)
    del decision["input"]
    saved = tmp_path / "minimal.json"
    saved.write_text(json.dumps(decision))
    data = json.loads(_run(str(saved), str(after), "-f", "json").output)
    assert data["answers"] is None
    assert data["verdict"]["to"] == "not-ready"
    assert "Answers: not compared" in _run(str(saved), str(after)).output


@pytest.mark.parametrize("content, path", [
    ({"schema": "mladvisor.drift/1", "dataset_drift": False}, "schema"),
    ({"verdict": "proceed"}, "schema"),
    ({"schema": "mladvisor.decision/1", "verdict": "proceed"}, "findings"),
])
def test_bad_side_is_one_line_exit_2(tmp_path: Path, content: dict[str, Any],
                                     path: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(content))
    result = CliRunner().invoke(cli, ["diff", str(bad), str(EXAMPLES / "churn-idea.yaml")])
    assert result.exit_code == 2
    assert f"{bad}: {path}:" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["diff", str(tmp_path / "nope.yaml"),
                                      str(EXAMPLES / "churn-idea.yaml")])
    assert result.exit_code == 2
    assert "file not found" in result.output
