"""Explanations over levers: by default `explain` changes only the answers a team can change
(knowledge/questionnaire.yaml `lever`), alone or in pairs, only towards a better verdict or
another strategy, and states the recommended option's cost where it moves. Every outcome comes
from a real run of the engine."""

from __future__ import annotations

import copy
from typing import Any

from click.testing import CliRunner

from engine.api import assess
from engine.cli import cli
from engine.explain.why import explain
from engine.rulebase.loading import load_rulebase
from engine.util import dotted

LEVERS = load_rulebase().knowledge.questionnaire.levers()
PRECEDENCE = list(load_rulebase().knowledge.ladder.verdict_precedence)  # worst first

# Long claim notes summarised for adjusters, with a budget and a value too small for any model:
# the verdict is cost-driven, and only the budget and the value together lift it.
CLAIMS: dict[str, Any] = {
    "schema": "mladvisor.answers/1",
    "project": {"name": "Claim notes summaries", "respondent": "R", "stage": "experimentation"},
    "business": {"problem_statement": "Summarise long claim notes for adjusters",
                 "objective_measurable": True, "kpi": "adjuster minutes per claim",
                 "stakeholders_aligned": True, "expected_value_usd_per_month": 6,
                 "budget_usd_per_month": 5,
                 "success_criteria": [{"metric": "reviewer_score", "threshold": 4,
                                       "goal": "at-least"}]},
    "problem": {"task": "summarization", "rules_suffice": False,
                "domain_specificity": "generic", "requests_per_month": 30000,
                "input_chars_per_request": 20000, "output_chars_per_request": 2000},
    "data": {"available": True, "sources_identified": True, "labeled_examples": 200,
             "quality": "good", "inputs_outputs_defined": True},
    "team": {"ml_expertise": "basic"},
    "monitoring": {"plan_exists": True, "ground_truth_available": True},
}


def rerun(answers: dict[str, Any], changes: dict[str, Any]) -> tuple[str, Any]:
    doc = copy.deepcopy(answers)
    for path, value in changes.items():
        dotted.set(doc, path, value, replace=True)
    decision = assess({"answers": doc}).decision
    strategy = decision["strategy"]
    return decision["verdict"], strategy and {"rung": strategy["rung"],
                                              "service": strategy["service"]}


def test_the_levers_are_data_and_each_says_how() -> None:
    assert {"business.budget_usd_per_month", "business.expected_value_usd_per_month",
            "data.labeled_examples", "data.quality", "team.ml_expertise"} <= set(LEVERS)
    assert not {"problem.task", "problem.sector", "project.stage",
                "problem.requests_per_month"} & set(LEVERS)
    assert all(len(how) > 20 for how in LEVERS.values())


def test_a_cost_driven_verdict_is_lifted_by_the_budget_and_value_pair() -> None:
    assessment = assess({"answers": CLAIMS})
    assert assessment.decision["verdict"] == "ml-not-recommended"
    result = explain(assessment)
    pair = {"business.budget_usd_per_month", "business.expected_value_usd_per_month"}
    found = [cf for cf in result["counterfactuals"] if set(cf["changes"]) == pair]
    assert found, result["counterfactuals"]
    cf = found[0]
    assert rerun(CLAIMS, cf["changes"]) == (cf["verdict"], cf["strategy"])
    assert PRECEDENCE.index(cf["verdict"]) > PRECEDENCE.index("ml-not-recommended")
    # each moved no further than the outcome needs: the budget just covers the cheapest model
    assert cf["changes"]["business.budget_usd_per_month"] < 20
    assert cf["cost"]["low_usd_per_month"] <= cf["changes"]["business.budget_usd_per_month"]
    assert set(cf["levers"]) == pair


def test_only_levers_change_and_never_towards_a_worse_verdict() -> None:
    answers = copy.deepcopy(CLAIMS)
    answers["business"].update(expected_value_usd_per_month=20000, budget_usd_per_month=3000)
    assessment = assess({"answers": answers})
    base = assessment.decision["verdict"]
    result = explain(assessment)
    everything = explain(assessment, levers_only=False)
    for cf in result["counterfactuals"]:
        assert set(cf["changes"]) <= set(LEVERS)
        assert PRECEDENCE.index(cf["verdict"]) >= PRECEDENCE.index(base)
        assert rerun(answers, cf["changes"]) == (cf["verdict"], cf["strategy"])
    assert {s["path"] for s in result["sensitivity"]} <= set(LEVERS)
    # the exhaustive view of rule authors also shows what makes things worse
    worse = [cf for cf in everything["counterfactuals"]
             if PRECEDENCE.index(cf["verdict"]) < PRECEDENCE.index(base)]
    assert worse and len(everything["sensitivity"]) > len(result["sensitivity"])


def test_the_command_changes_levers_by_default_and_every_answer_with_all(tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(CLAIMS), encoding="utf-8")
    runner = CliRunner()
    levers = runner.invoke(cli, ["explain", str(path)], catch_exceptions=False)
    assert levers.exit_code == 0, levers.output
    assert "business.budget_usd_per_month were" in levers.output
    assert "A running budget is the sponsor's decision" in levers.output
    assert "USD a month)" in levers.output
    every = runner.invoke(cli, ["explain", str(path), "--all", "-f", "json"],
                          catch_exceptions=False)
    assert every.exit_code == 0
    assert '"problem.task"' in every.output  # sensitivity of every answer
