"""problem.input_kind: inputs no public pre-trained model takes leave only a model trained on them.

Asked only for the image tasks (data in the questionnaire), defaulted to `standard` and listed
as defaulted, and read by the real engine: `unusual` rules out every rung that adapts a
pre-trained model, so a project with plenty of labels gets a model of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.api import assess
from engine.errors import InputError
from engine.model.answers import parse_answers
from engine.model.vocab import TASKS
from engine.questionnaire.fields import fields, is_asked, questionnaire

ADAPTING = {"pre-built", "pre-trained", "hosted-custom"}


def answers(**problem: Any) -> dict[str, Any]:
    return {"schema": "mladvisor.answers/1",
            "project": {"name": "Flake sorting", "respondent": "R", "stage": "experimentation"},
            "business": {"problem_statement": "Sort plastic flakes by polymer",
                         "objective_measurable": True, "stakeholders_aligned": True,
                         "success_criteria": [{"metric": "accuracy", "threshold": 0.97,
                                               "goal": "at-least"}]},
            "problem": {"task": "image-classification", "classes": 9, **problem},
            "data": {"available": True, "sources_identified": True, "quality": "good",
                     "labeled_examples": 3_100_000, "inputs_outputs_defined": True},
            "team": {"ml_expertise": "advanced"}}


def decision(**problem: Any) -> dict[str, Any]:
    return assess({"answers": answers(**problem)}).decision


def test_asked_only_for_the_tasks_the_questionnaire_lists() -> None:
    question = next(q for q in questionnaire().questions() if q.path == "problem.input_kind")
    listed = set(question.ask_when["problem.task"]["in"])
    assert listed and listed <= set(TASKS)
    field = next(f for f in fields() if f.path == "problem.input_kind")
    for task in TASKS:
        doc = answers()
        doc["problem"]["task"] = task
        assert is_asked(field, doc) == (task in listed), task


def test_defaults_to_standard_and_is_listed_as_defaulted() -> None:
    loaded = parse_answers(answers())
    assert loaded.answers.problem.input_kind == "standard"
    assert "problem.input_kind" in loaded.defaulted


def test_a_bad_value_names_the_field() -> None:
    with pytest.raises(InputError, match=r"problem\.input_kind"):
        parse_answers(answers(input_kind="hyperspectral"))


def test_unusual_inputs_reject_every_option_that_adapts_a_pretrained_model() -> None:
    got = decision(input_kind="unusual")
    assert got["strategy"]["rung"] == "from-scratch"
    adapting = [o for o in got["options"] if o["rung"] in ADAPTING]
    assert adapting and all(o["status"] == "rejected" for o in adapting)
    # the options open to the same project with photographs are closed by this reason
    open_with_photos = {o["offer"] for o in decision()["options"]
                        if o["rung"] in ADAPTING and o["status"] != "rejected"}
    assert len(open_with_photos) >= 3
    for option in adapting:
        if option["offer"] in open_with_photos:
            assert any("unusual inputs" in r for r in option["reasons"]), option
    assert "model-selection.inputs-no-pretrained-model-takes" in {t["rule"] for t in got["trace"]}


def test_standard_inputs_of_the_same_project_keep_the_simpler_rungs() -> None:
    got = decision()
    assert got["strategy"]["rung"] in ADAPTING
    assert not any("unusual inputs" in r for o in got["options"] for r in o["reasons"])
