"""Explanations: every counterfactual, applied and re-assessed, gives exactly the verdict and
strategy it states; every why-not names a condition that is really false on the facts."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.api import Assessment, assess, assess_files
from engine.cli import cli
from engine.errors import InputError
from engine.explain.why import describe_expected, domain, explain, facts_of, search
from engine.model.answers import leaf_paths
from engine.rulebase import conditions
from engine.rulebase.inference import plain
from engine.rulebase.loading import DERIVED_TYPES, default_rulebase
from engine.util import dotted
from tests.conftest import EXAMPLE_ANSWERS, EXAMPLES

EVIDENCE = EXAMPLES / "evidence"
EXAMPLE_FILES = EXAMPLE_ANSWERS
# examples with the evidence files they are meant to be read with
EVIDENCE_CASES = [
    ("support-ticket-routing.yaml", EVIDENCE / "ticket-benchmarks.csv", None),
    ("fraud-deployed.yaml", None, EVIDENCE / "fraud-drift.json"),
]


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    """Written independently of engine.explain.why.apply_changes, so the test checks it too."""
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = copy.deepcopy(value)


def _variants() -> dict[str, dict[str, Any]]:
    """The rule base's healthy baseline and variants built here, so the test never depends on
    examples/ alone."""
    base = default_rulebase().baseline
    out = {"baseline": copy.deepcopy(base)}
    two_blockers = copy.deepcopy(base)
    _set(two_blockers, "business.objective_measurable", False)
    _set(two_blockers, "business.stakeholders_aligned", False)
    out["two-blockers"] = two_blockers
    edge = copy.deepcopy(base)
    _set(edge, "problem.deployment_target", "edge")
    _set(edge, "data.labeled_examples", 40)
    out["edge-few-labels"] = edge
    warnings = copy.deepcopy(base)
    _set(warnings, "data.quality", "unknown")
    _set(warnings, "problem.latency_p95_ms", 100)
    out["two-warnings"] = warnings
    return out


VARIANTS = _variants()
CASES = ([p.name for p in EXAMPLE_FILES]
         + [f"{name}+evidence" for name, _, _ in EVIDENCE_CASES]
         + [f"variant:{name}" for name in VARIANTS])
_CACHE: dict[str, tuple[Assessment, dict[str, Any]]] = {}


def _case(name: str) -> tuple[Assessment, dict[str, Any]]:
    if name not in _CACHE:
        if name.startswith("variant:"):
            assessment = assess({"answers": VARIANTS[name.split(":", 1)[1]]})
        elif name.endswith("+evidence"):
            file = name.removesuffix("+evidence")
            _, bench, drift = next(c for c in EVIDENCE_CASES if c[0] == file)
            assessment = assess_files(EXAMPLES / file, benchmarks=bench, drift=drift)
        else:
            assessment = assess_files(EXAMPLES / name)
        # the exhaustive search (explain --all); tests/test_explain_levers.py covers levers
        _CACHE[name] = (assessment, explain(assessment, levers_only=False))
    return _CACHE[name]


def _outcome(decision: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    strategy = decision["strategy"]
    return decision["verdict"], (None if strategy is None else
                                 {"rung": strategy["rung"], "service": strategy["service"]})


def test_there_are_examples_to_explain() -> None:
    assert len(EXAMPLE_FILES) >= 8, "examples/ should hold at least eight answers files"


@pytest.mark.parametrize("name", CASES)
def test_shape(name: str) -> None:
    _, result = _case(name)
    assert set(result) == {"why", "why_not", "counterfactuals", "sensitivity"}
    for entry in result["why"]:
        assert set(entry) == {"rule", "finding", "facts", "source"}
    for entry in result["why_not"]:
        assert set(entry) == {"rule", "failed", "source"} and entry["failed"]
        for failed in entry["failed"]:
            assert set(failed) == {"path", "expected", "actual"}
    for cf in result["counterfactuals"]:
        assert {"changes", "verdict", "strategy"} <= set(cf) <= {
            "changes", "verdict", "strategy", "levers", "cost"}
        assert cf["strategy"] is None or set(cf["strategy"]) == {"rung", "service"}
    assert [s["path"] for s in result["sensitivity"]] == list(leaf_paths())
    json.dumps(result)  # JSON all the way down


@pytest.mark.parametrize("name", CASES)
def test_each_counterfactual_is_reproduced_by_the_engine(name: str) -> None:
    assessment, result = _case(name)
    original = _outcome(assessment.decision)
    assert len(result["counterfactuals"]) <= 10
    for cf in result["counterfactuals"]:
        assert 1 <= len(cf["changes"]) <= 2
        doc = dict(assessment.input_doc)
        doc["answers"] = copy.deepcopy(assessment.input_doc["answers"])
        for path, value in cf["changes"].items():
            assert path in leaf_paths() and path not in ("project.name", "project.respondent")
            _set(doc["answers"], path, value)
        again = _outcome(assess(doc).decision)
        assert again == (cf["verdict"], cf["strategy"]), cf
        # it flips the verdict or moves the strategy to another rung
        assert again[0] != original[0] or (again[1] or {}).get("rung") != \
            (original[1] or {}).get("rung")


@pytest.mark.parametrize("name", CASES)
def test_pairs_are_minimal(name: str) -> None:
    """A pair is listed only when neither of its changes alone gives its outcome."""
    assessment, result = _case(name)
    for cf in result["counterfactuals"]:
        if len(cf["changes"]) < 2:
            continue
        for path, value in cf["changes"].items():
            doc = dict(assessment.input_doc)
            doc["answers"] = copy.deepcopy(assessment.input_doc["answers"])
            _set(doc["answers"], path, value)
            verdict, strategy = _outcome(assess(doc).decision)
            assert (verdict, (strategy or {}).get("rung")) != \
                (cf["verdict"], (cf["strategy"] or {}).get("rung"))


def test_two_blockers_need_a_pair() -> None:
    """With two blockers no single answer helps; fixing both moves the verdict."""
    assessment, result = _case("variant:two-blockers")
    assert assessment.decision["verdict"] == "not-ready"
    pairs = [cf for cf in result["counterfactuals"] if len(cf["changes"]) == 2]
    assert {"business.objective_measurable": True, "business.stakeholders_aligned": True} in \
        [cf["changes"] for cf in pairs]
    assert all(cf["verdict"] != "not-ready" for cf in pairs)


@pytest.mark.parametrize("name", CASES)
def test_no_hypothesis_breaks_the_engine(name: str) -> None:
    """The search skips a change the engine fails on; none should exist."""
    assessment, result = _case(name)
    found = search(assessment, levers_only=False)
    assert found.errors == []
    assert found.runs >= found.candidates or found.runs >= 64
    assert found.counterfactuals == result["counterfactuals"]


def test_two_warnings_need_a_pair() -> None:
    """Two warnings hold the verdict at proceed-with-conditions; clearing both proceeds, and
    the pair lists its changes in questionnaire order."""
    assessment, result = _case("variant:two-warnings")
    assert assessment.decision["verdict"] == "proceed-with-conditions"
    pairs = [cf for cf in result["counterfactuals"] if len(cf["changes"]) == 2]
    proceed = [cf for cf in pairs if cf["verdict"] == "proceed"]
    assert proceed, pairs
    assert list(proceed[0]["changes"]) == ["problem.latency_p95_ms", "data.quality"]
    assert result["counterfactuals"][0] is proceed[0]  # a better verdict comes first


def test_counterfactuals_are_deterministic() -> None:
    assessment = assess_files(EXAMPLES / EXAMPLE_FILES[0].name)
    assert explain(assessment) == explain(assessment)


def _matching_leaf(rule: Any, failed: dict[str, Any], bindings: dict[str, Any]) -> bool:
    return any(leaf.path == failed["path"] and describe_expected(leaf, bindings) ==
               failed["expected"] for leaf in conditions.leaves(rule.condition))


@pytest.mark.parametrize("name", CASES)
def test_why_not_names_a_false_condition(name: str) -> None:
    assessment, result = _case(name)
    rb = assessment.rulebase
    facts = facts_of(assessment)
    case = facts["case"][0]
    fired = {f.rule.id for f in assessment.run.firings}
    listed = {entry["rule"] for entry in result["why_not"]}
    assert listed == {r.id for r in rb.active()} - fired
    for entry in result["why_not"]:
        rule = rb.rule(entry["rule"])
        for failed in entry["failed"]:
            path = failed["path"]
            if path in DERIVED_TYPES and "." not in path:
                assert not facts.get(path), f"{rule.id}: {path} facts exist"
                assert path in conditions.aliases(rule.condition, DERIVED_TYPES)
                continue
            alias, _ = conditions.split_path(path, DERIVED_TYPES)
            candidates = [leaf for leaf in conditions.leaves(rule.condition) if leaf.path == path]
            assert candidates, f"{rule.id}: no leaf on {path}"
            pools = facts.get(alias, []) if alias != conditions.CASE else [None]
            refs = {conditions.split_path(leaf.value.path, DERIVED_TYPES)[0]
                    for leaf in candidates if isinstance(leaf.value, conditions.Ref)}
            ok = False
            for fact in pools:
                bindings: dict[str, Any] = {conditions.CASE: case}
                if fact is not None:
                    bindings[alias] = fact
                for ref in refs - {alias, conditions.CASE}:
                    bindings[ref] = (facts.get(ref) or [{}])[0]
                if not _matching_leaf(rule, failed, bindings):
                    continue
                leaf = next(leaf for leaf in candidates
                            if describe_expected(leaf, bindings) == failed["expected"])
                if not conditions.eval_leaf(leaf, bindings, DERIVED_TYPES):
                    actual = conditions.lookup(bindings, path, DERIVED_TYPES)
                    actual = None if actual is conditions._MISSING else actual
                    ok = ok or actual == failed["actual"]
            assert ok, f"{rule.id}: {failed} is not a false leaf on the facts"


@pytest.mark.parametrize("name", CASES)
def test_why_lists_what_fired(name: str) -> None:
    assessment, result = _case(name)
    fired = [f.rule.id for f in assessment.run.firings]
    assert {e["rule"] for e in result["why"]} == set(fired)
    titles = {f["rule"]: f["title"] for f in assessment.decision["findings"]}
    for entry in result["why"]:
        assert entry["finding"] == titles.get(entry["rule"])
        firing = next(f for f in assessment.run.firings if f.rule.id == entry["rule"])
        assert set(entry["facts"]) == conditions.paths(firing.rule.condition)


@pytest.mark.parametrize("name", CASES)
def test_sensitivity_agrees_with_counterfactuals(name: str) -> None:
    _, result = _case(name)
    decisive = {s["path"] for s in result["sensitivity"] if s["decisive"]}
    for cf in result["counterfactuals"]:
        if len(cf["changes"]) == 1:
            assert set(cf["changes"]) <= decisive
    assert "project.name" not in decisive and "project.respondent" not in decisive


@pytest.mark.parametrize("name", ["support-ticket-routing.yaml", "variant:baseline"])
def test_fields_left_out_of_the_search_really_do_not_matter(name: str) -> None:
    """The search skips answers no decisive rule reads: flipping any of them, tried here by
    brute force, leaves the verdict and strategy as they are."""
    assessment, result = _case(name)
    original = _outcome(assessment.decision)
    searched = set(domain(assessment).values)

    tried = 0
    for path, info in leaf_paths().items():
        if path in searched or path in ("project.name", "project.respondent"):
            continue
        ann = info.annotation
        values: list[Any] = []
        if typing.get_origin(ann) is typing.Literal:
            values = list(typing.get_args(ann))
        elif ann is bool:
            values = [True, False]
        for value in values:
            doc = dict(assessment.input_doc)
            doc["answers"] = copy.deepcopy(assessment.input_doc["answers"])
            _set(doc["answers"], path, value)
            try:
                outcome = _outcome(assess(doc).decision)
            except InputError:  # refused in this context (a current solution before deployment)
                continue
            assert outcome == original, (path, value)
            tried += 1
        assert not next(s for s in result["sensitivity"] if s["path"] == path)["decisive"]
    assert tried > 0


@pytest.mark.parametrize("name", ["policy-assistant.yaml", "variant:edge-few-labels"])
def test_values_judged_alike_are_really_alike(name: str) -> None:
    """Of the choices of a searched field, the search tries one per way the conditions judge
    them; every choice it skips, tried here, ends like the current answer or a tried one."""
    assessment, _ = _case(name)
    dom = domain(assessment)
    answers = assessment.decision["input"]["answers"]
    checked = 0
    for path, kept in dom.values.items():
        ann = leaf_paths()[path].annotation
        if typing.get_origin(ann) is not typing.Literal:
            continue
        current = dotted.get(answers, path, None)  # a group absent as a whole reads as None

        def outcome(value: Any, path: str = path) -> Any:
            doc = dict(assessment.input_doc)
            doc["answers"] = copy.deepcopy(assessment.input_doc["answers"])
            _set(doc["answers"], path, value)
            try:
                return _outcome(assess(doc).decision)
            except InputError:  # refused in this context (a current solution before deployment)
                return None

        allowed = {json.dumps(outcome(v), sort_keys=True) for v in [current, *kept]}
        for value in typing.get_args(ann):
            if value not in kept and value != current:
                assert json.dumps(outcome(value), sort_keys=True) in allowed, (path, value)
                checked += 1
    assert checked > 0


def test_thresholds_come_from_rule_conditions() -> None:
    """Numeric candidates sit at and beside the thresholds the rules compare answers with."""
    assessment, _ = _case("variant:baseline")
    dom = domain(assessment)
    numbers = {leaf.value for r in assessment.rulebase.active()
               for leaf in conditions.leaves(r.condition)
               if leaf.path == "data.labeled_examples" and isinstance(leaf.value, int)}
    assert numbers, "the rule base compares data.labeled_examples with a number"
    for value in dom.values["data.labeled_examples"]:
        near_rule = any(abs(value - t) <= 1 for t in numbers)
        near_fact = any(abs(value - f.get("labels_needed", -10)) <= 1
                        for f in facts_of(assessment).get("option", []))
        assert near_rule or near_fact, value


def test_plain_fact_names_match_condition_paths() -> None:
    assessment, _ = _case("variant:baseline")
    case = plain(assessment.run.facts["case"][0])
    assert "data.labeled_examples" in case


# ---------------------------------------------------------------- the command

def test_cli_explain_json_matches_library(tmp_path: Path) -> None:
    runner = CliRunner()
    file = EXAMPLES / "review-sentiment.yaml"
    result = runner.invoke(cli, ["explain", str(file), "--format", "json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(json.dumps(explain(assess_files(file))))


def test_cli_explain_text_with_evidence() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["explain", str(EXAMPLES / "support-ticket-routing.yaml"),
                                 "--benchmarks", str(EVIDENCE / "ticket-benchmarks.csv")],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for heading in ("What would change this recommendation", "What the decision depends on",
                    "Why: rules that fired", "Why not: rules that did not fire"):
        assert heading in result.output
    assert "If " in result.output and "->" in result.output


def test_cli_explain_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: mladvisor.answers/1\nproject: {name: x, respondent: y}\n"
                   "business: {problem_statement: p}\ndata: {labeled_examples: -5}\n")
    result = CliRunner().invoke(cli, ["explain", str(bad)])
    assert result.exit_code == 2
    assert "data.labeled_examples" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_explain_writes_out_file(tmp_path: Path) -> None:
    out = tmp_path / "explain.json"
    result = CliRunner().invoke(cli, ["explain", str(EXAMPLES / "churn-idea.yaml"), "-f", "json",
                                      "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    data = json.loads(out.read_text())
    assert data["counterfactuals"] == [] or all(cf["verdict"] for cf in data["counterfactuals"])
    assert data["why_not"]


def test_text_lists_blockers_when_nothing_small_helps() -> None:
    from engine.explain.text import render_text

    answers = copy.deepcopy(default_rulebase().baseline)
    for path in ("business.objective_measurable", "business.stakeholders_aligned",
                 "data.available"):
        _set(answers, path, False)
    assessment = assess({"answers": answers})
    result = explain(assessment)
    assert assessment.decision["verdict"] == "not-ready"
    # three blockers: no one or two changes can lift not-ready
    assert result["counterfactuals"] == []
    text = render_text(assessment.decision, result)
    blockers = [f for f in assessment.decision["findings"] if f["severity"] == "blocker"]
    assert len(blockers) >= 3
    assert f"{len(blockers)} blockers stand in the way" in text
    assert all(f["rule"] in text for f in blockers)


def test_domain_follows_the_rule_base_not_the_code(tmp_path: Path) -> None:
    """Move a threshold in a copy of the rule base: the search moves with it."""
    import shutil

    from engine.rulebase.loading import load_rulebase

    root = default_rulebase().root
    for folder in ("rules", "knowledge"):
        shutil.copytree(root / folder, tmp_path / folder)
    data = tmp_path / "rules" / "data.yaml"
    text = data.read_text()
    assert "data.labeled_examples: {lt: 100}" in text
    data.write_text(text.replace("data.labeled_examples: {lt: 100}",
                                 "data.labeled_examples: {lt: 3333}"))
    rb = load_rulebase(tmp_path)
    assessment = assess({"answers": default_rulebase().baseline}, rb)
    assert assessment.decision["input"]["answers"]["data"]["labeled_examples"] < 3333
    values = domain(assessment, rb).values["data.labeled_examples"]
    assert 3333 in values
    assert 3333 not in domain(assess({"answers": default_rulebase().baseline})).values[
        "data.labeled_examples"]
    result = explain(assessment, rb)
    for cf in result["counterfactuals"]:
        doc = {"answers": copy.deepcopy(default_rulebase().baseline)}
        for path, value in cf["changes"].items():
            _set(doc["answers"], path, value)
        assert _outcome(assess(doc, rb).decision) == (cf["verdict"], cf["strategy"])


@pytest.mark.slow
def test_same_explanation_in_every_process() -> None:
    """Set and dict order must not leak into the output: two hash seeds, same bytes."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-m", "engine.cli", "explain",
                              str(EXAMPLES / "support-ticket-routing.yaml"), "-f", "json"],
                             capture_output=True, env=env, check=False)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["counterfactuals"]


def test_cli_limit() -> None:
    file = str(EXAMPLES / "support-ticket-routing.yaml")
    full = json.loads(CliRunner().invoke(cli, ["explain", file, "-f", "json"]).output)
    short = json.loads(CliRunner().invoke(cli, ["explain", file, "-f", "json", "-n", "3"]).output)
    assert len(full["counterfactuals"]) > 3
    assert short["counterfactuals"] == full["counterfactuals"][:3]
    assert CliRunner().invoke(cli, ["explain", file, "-n", "-1"]).exit_code == 2
