"""Every rule failure points at `rules/x.yaml:LINE`: rule-base errors, lint, `rules test` (text
and JSON) and explanations; a rule base loads from {path: bytes}, so replay needs no folder."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.errors import InputError, RuleBaseError
from engine.rulebase.loading import (
    default_rulebase,
    fingerprint,
    load_rulebase,
    load_rulebase_files,
    read_rulebase,
)
from engine.util.load import parse_yaml, parse_yaml_lines
from tests.conftest import ROOT


def copy_rulebase(tmp_path: Path) -> Path:
    root = tmp_path / "rb"
    for folder in ("rules", "knowledge"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def line_of(path: Path, text: str, after: int = 0) -> int:
    """1-based number of the first line (past line `after`) that contains text."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if n > after and text in line)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# ---------------------------------------------------------------- the loader's lines


def test_yaml_lines_name_where_each_mapping_in_a_list_starts() -> None:
    text = "schema: x\nrules:\n  - id: a\n    examples:\n      - {name: one}\n\n  - id: b\n"
    value, lines = parse_yaml_lines(text, "f.yaml")
    assert value == parse_yaml(text, "f.yaml")
    assert lines["rules.0"] == 3 and lines["rules.1"] == 7
    assert lines["rules.0.examples.0"] == 5
    assert lines["rules.0.examples"] == 4  # a key's line, where an editor should land


@pytest.mark.parametrize(("text", "complaint"), [
    ("a: 1\na: 2\n", "duplicate key (lines 1 and 2)"),
    ("a: &x [1]\nb: *x\n", "no YAML aliases"),
    ("a: !!binary aGk=\n", "the tag !!binary"),
])
def test_yaml_lines_keep_the_loader_strict(text: str, complaint: str) -> None:
    with pytest.raises(InputError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        parse_yaml_lines(text, "f.yaml")


# ---------------------------------------------------------------- rule base errors


def test_a_bad_field_names_its_file_and_line(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    line = line_of(data, "severity: blocker")
    replace(data, "severity: blocker", "severity: dire")  # the first rule with a blocker
    with pytest.raises(RuleBaseError) as caught:
        load_rulebase(root)
    assert caught.value.file == str(data) and caught.value.line == line
    assert str(caught.value).startswith(f"{data}:{line}: rules.")
    assert ".severity: " in str(caught.value)


def test_a_condition_error_names_the_line_of_when(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    rule = line_of(data, "- id: data.too-few-labels")
    when = line_of(data, "when:", after=rule)
    replace(data, "data.labeled_examples: {lt: 100}", "data.labeled_examples: {below: 100}")
    with pytest.raises(RuleBaseError) as caught:
        load_rulebase(root)
    assert caught.value.line == when
    assert str(caught.value).startswith(f"{data}:{when}: rules[")
    assert "data.too-few-labels" in str(caught.value)


def test_a_duplicate_rule_id_names_both_places(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    first = line_of(data, "- id: data.too-few-labels")
    second = line_of(data, "- id: data.personal-data")
    replace(data, "- id: data.personal-data", "- id: data.too-few-labels")
    with pytest.raises(RuleBaseError, match="duplicate rule id") as caught:
        load_rulebase(root)
    assert str(caught.value).startswith(f"{data}:{second}: ")
    assert f"also at rules/data.yaml:{first}" in str(caught.value)


def test_a_knowledge_error_names_its_line(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    services = root / "knowledge" / "services.yaml"
    line = line_of(services, "cost_tier:")
    text = services.read_text().splitlines(keepends=True)
    text[line - 1] = text[line - 1].replace("cost_tier:", "cost_tier: priceless #")
    services.write_text("".join(text))
    with pytest.raises(RuleBaseError) as caught:
        load_rulebase(root)
    assert str(caught.value).startswith(f"{services}:{line}: services.")


def test_duplicate_keys_in_a_rule_file_are_refused_with_both_lines(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    rule = line_of(data, "- id: data.not-available")
    replace(data, "- id: data.not-available\n", "- id: data.not-available\n    id: again\n")
    with pytest.raises(RuleBaseError, match=rf"duplicate key \(lines {rule} and {rule + 1}\)"):
        load_rulebase(root)


# ---------------------------------------------------------------- lint and rules test


def test_locations_of_rules_and_examples() -> None:
    rb = default_rulebase()
    data = ROOT / "rules" / "data.yaml"
    rule = line_of(data, "- id: data.too-few-labels")
    location = rb.locations["data.too-few-labels"]
    assert str(location) == rb.where("data.too-few-labels") == f"rules/data.yaml:{rule}"
    first = line_of(data, "- {name: forty labels", after=rule)
    assert location.examples[0] == first
    assert rb.where("data.too-few-labels", 0) == f"rules/data.yaml:{first}"
    assert all(loc.line > 0 and all(loc.examples) for loc in rb.locations.values())
    assert set(rb.locations) == {r.id for r in rb.rules}


def test_lint_prefixes_each_problem_with_file_and_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    rule = line_of(data, "- id: data.too-few-labels")
    replace(data, "data.labeled_examples: {lt: 100}", "data.colour: {lt: 100}")
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(root))
    result = CliRunner().invoke(cli, ["rules", "lint", "--no-examples"])
    assert result.exit_code == 2
    assert (f"rules/data.yaml:{rule}: error: data.too-few-labels: unknown fact path "
            "'data.colour' in when") in result.stderr.splitlines()


@pytest.fixture
def failing_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A rule base whose data.too-few-labels second example wrongly claims the rule fires;
    the example's line."""
    root = copy_rulebase(tmp_path)
    data = root / "rules" / "data.yaml"
    line = line_of(data, "- {name: enough labels, answers: {}, fires: false}")
    replace(data, "- {name: enough labels, answers: {}, fires: false}",
            "- {name: enough labels, answers: {}, fires: true}")
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(root))
    return line


def test_rules_test_prints_failures_with_file_and_line(failing_example: int) -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "data.too-few"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == (
        f"rules/data.yaml:{failing_example}: data.too-few-labels: example 2 (enough labels): "
        "expected the rule to fire")
    assert "1 passed, 1 failed" in result.stdout


def test_rules_test_json_has_one_object_per_example(failing_example: int) -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "data.too-few", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 2
    results = json.loads(result.stdout)
    assert [(r["example"], r["passed"]) for r in results] == [("forty labels", True),
                                                              ("enough labels", False)]
    bad = results[1]
    assert bad == {"rule": "data.too-few-labels", "file": "rules/data.yaml",
                   "line": failing_example, "example": "enough labels", "index": 2,
                   "passed": False, "message": "expected the rule to fire"}
    assert results[0]["line"] < failing_example and results[0]["message"] == ""
    assert "1 passed, 1 failed" in result.stderr


def test_rules_test_json_passes_with_exit_0() -> None:
    result = CliRunner().invoke(cli, ["rules", "test", "data.", "-f", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    results = json.loads(result.stdout)
    rb = default_rulebase()
    expected = sum(len(r.examples) for r in rb.active() if r.id.startswith("data."))
    assert len(results) == expected and all(r["passed"] for r in results)
    for r in results:  # data.* rules live in rules/data.yaml and rules/supporting-data.yaml
        assert r["file"] in ("rules/data.yaml", "rules/supporting-data.yaml")
        assert f"{r['file']}:{r['line']}" == rb.where(r["rule"], r["index"] - 1)


def test_explain_names_where_each_rule_is_written() -> None:
    from engine.api import assess_files
    from engine.explain.text import render_text
    from engine.explain.why import explain

    assessment = assess_files(ROOT / "examples" / "support-ticket-routing.yaml")
    result = explain(assessment, limit=0)
    rb = assessment.rulebase
    assert result["why"] and result["why_not"]
    for entry in result["why"] + result["why_not"]:
        assert entry["source"] == rb.where(entry["rule"])
    text = render_text(assessment.decision, result)
    first = result["why"][0]
    assert f"  {first['rule']} - {first['finding']} [{first['source']}]" in text or \
        f"  {first['rule']} [{first['source']}]" in text
    assert "source" not in json.dumps(assessment.decision["trace"])  # the decision is unchanged


# ---------------------------------------------------------------- a rule base from bytes


def test_a_rule_base_loads_from_bytes_with_the_same_fingerprint() -> None:
    files = read_rulebase(ROOT)
    rb = load_rulebase_files(files)
    installed = default_rulebase()
    assert rb.sha256 == installed.sha256 == fingerprint(files)
    assert rb.root is None and rb.files == installed.files
    assert [r.id for r in rb.rules] == [r.id for r in installed.rules]
    assert rb.locations == installed.locations


def test_a_rule_base_from_bytes_names_relative_files() -> None:
    files = read_rulebase(ROOT)
    files["rules/data.yaml"] = files["rules/data.yaml"].replace(b"severity: blocker",
                                                                b"severity: dire", 1)
    with pytest.raises(RuleBaseError) as caught:
        load_rulebase_files(files)
    assert str(caught.value).startswith("rules/data.yaml:")
    files = read_rulebase(ROOT)
    del files["knowledge/ladder.yaml"]
    with pytest.raises(RuleBaseError, match="knowledge/ladder.yaml: file not found"):
        load_rulebase_files(files)


def test_stored_bytes_meet_the_loader_limits() -> None:
    files = read_rulebase(ROOT)
    files["rules/data.yaml"] = b"a: &x 1\nb: *x\n"
    with pytest.raises(RuleBaseError, match="rules/data.yaml: expected no YAML aliases"):
        load_rulebase_files(files)
    files["rules/data.yaml"] = b"a: 1\n\x00"
    with pytest.raises(RuleBaseError, match="binary data"):
        load_rulebase_files(files)


def test_replay_loads_the_recorded_rule_base_from_bytes_without_temp_files(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.audit.replay as replay
    from engine.api import assess
    from engine.audit import open_log

    root = copy_rulebase(tmp_path)
    replace(root / "rules" / "data.yaml", "data.labeled_examples: {lt: 100}",
            "data.labeled_examples: {lt: 20000}")
    recorded_rb = load_rulebase(root)
    assert recorded_rb.sha256 != default_rulebase().sha256
    answers = default_rulebase().baseline
    record_id = open_log().append(assess({"answers": answers}, recorded_rb))
    shutil.rmtree(root)  # the recorded rule base now exists only in the log
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(replay, "_LOADED", {})
    result = replay.replay(open_log(), [record_id])[0]
    assert result["reproduced"], result
    assert not result["current"]["same_rulebase"]
    assert list(scratch.iterdir()) == []
    loaded = replay._LOADED[recorded_rb_files_sha(record_id)]
    assert loaded.root is None and loaded.sha256 == recorded_rb.sha256
    assert loaded.where("data.too-few-labels") == recorded_rb.where("data.too-few-labels")


def recorded_rb_files_sha(record_id: str) -> str:
    from engine.audit import open_log

    record = open_log().get(record_id)
    assert record.rulebase is not None
    return str(record.rulebase.files_sha256)
