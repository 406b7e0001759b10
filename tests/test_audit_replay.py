"""Replay real assessments: the recorded rule base reproduces them, a changed one is explained."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine.audit import open_log
from engine.audit.replay import replay
from engine.cli import cli
from engine.paths import data_root
from tests.conftest import EXAMPLE_ANSWERS

ROOT = Path(__file__).resolve().parents[1]

ANSWERS = yaml.safe_load("""
schema: mladvisor.answers/1
project: {name: Support ticket routing, respondent: "Dana Lee, Support Ops", stage: idea}
business:
  problem_statement: Route incoming tickets to the right team
  objective_measurable: true
  kpi: median time to first response
  stakeholders_aligned: true
  expected_value_usd_per_month: 20000
  budget_usd_per_month: 3000
  success_criteria:
    - {metric: f1_macro, threshold: 0.85, goal: at-least}
    - {metric: latency_p95_ms, threshold: 500, goal: at-most}
problem: {task: text-classification, rules_suffice: false, domain_specificity: specialized,
          explainability_required: false, deployment_target: cloud, requests_per_month: 200000}
data: {available: true, sources_identified: true, labeled_examples: 12000, quality: good,
       inputs_outputs_defined: true, contains_personal_data: true}
team: {ml_expertise: basic}
monitoring: {plan_exists: false, ground_truth_available: true, sensitive_attributes: [region]}
""")


def variants() -> list[dict]:
    """The contract's example, a few variations of it, and every examples/*.yaml there is."""
    out = [{"answers": ANSWERS, "benchmarks": None, "drift": None}]
    for path, value in (("data.labeled_examples", 40), ("data.available", False),
                        ("problem.rules_suffice", True), ("data.quality", "poor")):
        answers = copy.deepcopy(ANSWERS)
        section, key = path.split(".")
        answers[section][key] = value
        out.append({"answers": answers, "benchmarks": None, "drift": None})
    for path in EXAMPLE_ANSWERS:
        out.append({"answers": yaml.safe_load(path.read_text()), "benchmarks": None,
                    "drift": None})
    return out


def record_all() -> list[str]:
    from engine.api import assess
    from engine.errors import InputError

    log = open_log()
    ids = []
    for index, doc in enumerate(variants()):
        try:
            assessment = assess(doc)
        except InputError:
            if index < 5:
                raise
            continue  # an examples/ file written for another answers version is not ours
        ids.append(log.append(assessment))
    return ids


def changed_rulebase(tmp_path: Path) -> Path:
    """A copy of the rule base after a rule change: one threshold raised, one rule retired."""
    target = tmp_path / "changed"
    for folder in ("rules", "knowledge"):
        shutil.copytree(data_root() / folder, target / folder)
    data = target / "rules" / "data.yaml"
    text = data.read_text()
    assert "data.labeled_examples: {lt: 100}" in text
    text = text.replace("data.labeled_examples: {lt: 100}", "data.labeled_examples: {lt: 20000}")
    marker = "Personal data brings obligations"
    assert marker in text  # a wording change: the same finding, said differently
    text = text.replace(marker, "Personal data always brings obligations")
    data.write_text(text)
    manifest = target / "rules" / "rulebase.yaml"
    manifest.write_text(re.sub(r"(?m)^version: .*$", "version: replay-test",
                               manifest.read_text()))
    return target


def test_recorded_rule_base_reproduces_every_decision(home: Path, backend: str) -> None:
    ids = record_all()
    results = replay(open_log())
    assert [r["record_id"] for r in results] == ids
    for result in results:
        assert result["reproduced"], result
        assert result["current"]["unchanged"] and result["current"]["same_rulebase"]
    verdicts = {open_log().get(i).decision["verdict"] for i in ids}
    assert len(verdicts) >= 2  # the variants really differ


def test_replay_after_a_rule_change(home: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ids = record_all()
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(changed_rulebase(tmp_path)))
    results = replay(open_log(), [ids[0]])
    result = results[0]
    assert result["reproduced"]  # the recorded rules are still used for the recorded decision
    current = result["current"]
    assert current["rulebase"] == "replay-test" and not current["same_rulebase"]
    added = [c for c in current["changes"] if c["what"] == "finding added"]
    assert [c["rule"] for c in added if c["rule"] == "data.too-few-labels"]
    why = next(c for c in added if c["rule"] == "data.too-few-labels")["why"]
    assert why == ["rule data.too-few-labels was modified in the current rule base"]
    reworded = [c for c in current["changes"] if c["what"] == "finding changed"]
    assert {"rule": "data.personal-data", "fields": ["rationale"]}.items() <= \
        next(c for c in reworded if c["rule"] == "data.personal-data").items()
    # the variant with 40 labels already had that finding: unaffected by this change
    forty = replay(open_log(), [ids[1]])[0]["current"]["changes"]
    assert not [c for c in forty if c.get("rule") == "data.too-few-labels"]


def test_cli_replay_all_text_and_json(home: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    ids = record_all()
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "replay", "--all"], catch_exceptions=False)
    assert result.exit_code == 0
    assert f"{len(ids)} replayed, {len(ids)} reproduced, 0 would change" in result.stdout
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(changed_rulebase(tmp_path)))
    result = runner.invoke(cli, ["audit", "replay", ids[0]], catch_exceptions=False)
    assert result.exit_code == 0
    assert "would change" in result.stdout and "data.too-few-labels" in result.stdout
    assert "because rule data.too-few-labels was modified" in result.stdout
    data = json.loads(runner.invoke(cli, ["audit", "replay", ids[0], "--format", "json"],
                                    catch_exceptions=False).stdout)
    assert data[0]["reproduced"] and data[0]["current"]["changes"]


def test_a_decision_that_does_not_reproduce_exits_3(home: Path) -> None:
    from engine.api import assess

    assessment = assess(variants()[0])
    assessment.decision["verdict"] = "proceed"  # recorded as something the rules never said
    log = open_log()
    rid = log.append(assessment)
    result = replay(log, [rid])[0]
    assert not result["reproduced"] and result["differences"] == ["verdict"]
    cli_result = CliRunner().invoke(cli, ["audit", "replay", rid], catch_exceptions=False)
    assert cli_result.exit_code == 3
    assert f"record 1 ({rid})" in cli_result.stderr and "verdict" in cli_result.stderr


def test_the_stored_rule_base_is_complete(home: Path) -> None:
    from engine.rulebase.loading import default_rulebase

    rid = record_all()[0]
    log = open_log()
    record = log.get(rid)
    files = log.rulebase_files(record.rulebase.files_sha256)
    assert files == default_rulebase().files
    assert record.rulebase.sha256 == default_rulebase().sha256
    assert record.input_sha256 == record.decision["input_sha256"]


def test_assess_records_and_audit_report_appends_an_event(
        home: Path, tmp_path: Path, backend: str) -> None:
    import hashlib

    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ANSWERS))
    html = tmp_path / "report.html"
    runner = CliRunner()
    result = runner.invoke(cli, ["assess", str(answers), "--format", "html", "--out", str(html)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    log = open_log()
    [summary] = log.list()
    record = log.get(summary.record_id)
    assert record.reports == {"html": hashlib.sha256(html.read_bytes()).hexdigest()}
    assert record.respondent == "Dana Lee, Support Ops"
    again = tmp_path / "again.html"
    result = runner.invoke(cli, ["audit", "report", summary.record_id[:12], "--out",
                                 str(again)], catch_exceptions=False)
    assert result.exit_code == 0 and again.stat().st_size > 1000
    [event] = log.reports_for(summary.record_id)
    assert event.format == "html"
    assert event.sha256 == hashlib.sha256(again.read_bytes()).hexdigest()
    assert runner.invoke(cli, ["assess", str(answers), "--no-record"],
                         catch_exceptions=False).exit_code == 0
    assert log.count() == 2  # the assessment and its report event, nothing for --no-record
    assert log.verify()["records"] == 2


def test_a_newer_engine_version_alone_is_not_a_different_decision(home: Path) -> None:
    from engine.api import assess

    assessment = assess(variants()[0])
    assessment.decision["engine_version"] = "0.0.1"
    log = open_log()
    rid = log.append(assessment)
    result = replay(log, [rid], current=False)[0]
    assert result["reproduced"]
    assert result["engine"]["recorded"] == "0.0.1" and result["engine"]["replayed"] != "0.0.1"


def test_a_broken_current_rule_base_still_replays_the_recorded_one(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = record_all()
    broken = changed_rulebase(tmp_path)
    (broken / "rules" / "data.yaml").write_text("schema: mladvisor.rules/1\nphase: data\n"
                                                "rules: [{id: nope}]\n")
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(broken))
    result = replay(open_log(), [ids[0]])[0]
    assert result["reproduced"]
    assert "current rule base" in result["current"]["error"]
    text = CliRunner().invoke(cli, ["audit", "replay", ids[0]], catch_exceptions=False)
    assert text.exit_code == 0 and "reproduced" in text.stdout


def test_a_rule_base_format_this_engine_no_longer_reads_says_which_version_to_use(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record made before the catalog format changed (as mladvisor.services/1 did in 0.2.0)
    cannot be rebuilt by a newer engine: replay says so in one line, naming the version that
    recorded it, instead of failing somewhere inside the loader."""
    from typing import Literal

    from pydantic import Field

    from engine.api import assess
    from engine.audit import replay as replay_module
    from engine.rulebase import knowledge, loading

    log = open_log()
    rid = log.append(assess(variants()[0]))

    class NewerCatalog(knowledge.Catalog):  # the engine of a later catalog format
        schema_: Literal["mladvisor.services/99"] = Field(alias="schema")  # type: ignore[assignment]

    monkeypatch.setitem(knowledge.FILES, "catalog", ("services.yaml", NewerCatalog))
    monkeypatch.setattr(loading, "_CACHE", {})  # the newer engine has loaded nothing yet
    monkeypatch.setattr(replay_module, "_LOADED", {})
    result = replay(log, [rid], current=False)[0]
    assert not result["reproduced"]
    assert "services.yaml" in result["error"] and "schema" in result["error"]
    assert "recorded with mladvisor 0.2.0" in result["error"]
