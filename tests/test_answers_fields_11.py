"""Issue 11 answers: problem.classes, problem.multi_label and project.current_solution.

Through the model (types, bounds, the deployed-only rule), the facts and rule lint, the
questionnaire (which tasks ask, the template), the terminal wizard, the web form and a browser.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import cli
from engine.errors import InputError
from engine.model.answers import answers_schema, leaf_paths, load_answers, parse_answers
from engine.model.vocab import RUNGS, TASKS
from engine.questionnaire.fields import (
    check_document,
    fields,
    is_asked,
    plain,
    questionnaire,
    template_text,
)
from engine.rulebase.facts import build_facts
from engine.rulebase.lint import known_case_paths, lint
from engine.rulebase.loading import load_rulebase
from engine.rulebase.testing import run_example
from tests.conftest import ROOT
from tests.test_wizard import BUSINESS, DATA, PROBLEM, REST, REVIEW, feed

# a deployed project is also asked whether the running solution meets its criteria today
REST_DEPLOYED = [*REST[:3], "", *REST[3:]]

BENCH = ROOT / "bench" / "architect"
ROUTING = BENCH / "01-support-ticket-routing.yaml"  # classes: 12, multi_label: false
TRANSCRIPTION = BENCH / "03-contact-centre-transcription.yaml"  # deployed, current_solution
NEW_PATHS = ("problem.classes", "problem.multi_label", "project.current_solution.rung",
             "project.current_solution.service", "project.current_solution.offer")
CLASSIFYING = ("sentiment-analysis", "text-classification", "image-classification",
               "object-detection", "tabular-classification")


def base() -> dict[str, Any]:
    return {"schema": "mladvisor.answers/1",
            "project": {"name": "P", "respondent": "R"},
            "business": {"problem_statement": "S"}}


def with_(**sections: dict[str, Any]) -> dict[str, Any]:
    doc = base()
    for name, values in sections.items():
        doc.setdefault(name, {}).update(values)
    return doc


DEPLOYED = {"stage": "deployed",
            "current_solution": {"rung": "pre-built", "service": "amazon-transcribe",
                                 "offer": "transcribe-batch"}}


# ---------------------------------------------------------------- the answers model

def test_the_bench_files_load_with_the_new_answers() -> None:
    routing = load_answers(ROUTING).answers
    assert routing.problem.classes == 12 and routing.problem.multi_label is False
    assert routing.project.current_solution is None
    running = load_answers(TRANSCRIPTION).answers.project.current_solution
    assert running is not None
    assert (running.rung, running.service, running.offer) == (
        "pre-built", "amazon-transcribe", "transcribe-batch")


def test_defaults_classes_unknown_multi_label_false_no_current_solution() -> None:
    loaded = parse_answers(base())
    assert loaded.answers.problem.classes is None
    assert loaded.answers.problem.multi_label is False
    assert loaded.answers.project.current_solution is None
    # an absent group is named once, as a whole, not field by field
    assert {"problem.classes", "problem.multi_label", "project.current_solution"} <= set(
        loaded.defaulted)
    assert not any(p.startswith("project.current_solution.") for p in loaded.defaulted)
    partial = parse_answers(with_(project={"stage": "deployed",
                                           "current_solution": {"rung": "no-ml"}}))
    assert "project.current_solution" not in partial.defaulted
    assert {"project.current_solution.service", "project.current_solution.offer"} <= set(
        partial.defaulted)
    assert "project.current_solution.rung" not in partial.defaulted


@pytest.mark.parametrize(("problem", "path", "words"), [
    ({"classes": 1}, "problem.classes", "greater than or equal to 2"),
    ({"classes": 100_001}, "problem.classes", "at most 100000"),
    ({"classes": "12"}, "problem.classes", "expected an integer"),
    ({"classes": 2.5}, "problem.classes", "expected an integer"),
    ({"classes": True}, "problem.classes", "expected an integer"),
    ({"multi_label": "no"}, "problem.multi_label", "expected a boolean"),
    ({"multi_label": 0}, "problem.multi_label", "expected a boolean"),
])
def test_bad_classes_and_multi_label_name_the_field(problem: dict[str, Any], path: str,
                                                     words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_answers(with_(problem=problem), "a.yaml")
    assert caught.value.path == path
    assert words in caught.value.message and "\n" not in caught.value.message


def test_classes_bounds_are_inclusive() -> None:
    assert parse_answers(with_(problem={"classes": 2})).answers.problem.classes == 2
    top = parse_answers(with_(problem={"classes": 100_000}))
    assert top.answers.problem.classes == 100_000


@pytest.mark.parametrize("stage", ["idea", "data-preparation", "experimentation"])
def test_current_solution_outside_deployed_is_one_line_error(stage: str) -> None:
    doc = with_(project=dict(DEPLOYED, stage=stage))
    with pytest.raises(InputError) as caught:
        parse_answers(doc, "a.yaml")
    assert caught.value.message == (
        "a.yaml: project.current_solution: only applies when project.stage is deployed "
        f"(the stage is {stage})")


def test_current_solution_without_a_stage_is_refused_too() -> None:
    doc = with_(project={"current_solution": {"rung": "pre-built"}})  # stage defaults to idea
    with pytest.raises(InputError, match=r"project\.current_solution: only applies when "
                       r"project\.stage is deployed \(the stage is idea\)"):
        parse_answers(doc)


@pytest.mark.parametrize(("solution", "path", "words"), [
    ({}, "project.current_solution.rung", "required field is missing"),
    ({"service": "amazon-sagemaker"}, "project.current_solution.rung", "required field"),
    ({"rung": "prebuilt"}, "project.current_solution.rung", "expected one of"),
    ({"rung": "pre-built", "service": "Amazon Transcribe"},
     "project.current_solution.service", "pattern"),
    ({"rung": "pre-built", "offer": "batch--x"}, "project.current_solution.offer", "pattern"),
    ({"rung": "pre-built", "offer": "a" * 65}, "project.current_solution.offer", "64"),
    ({"rung": "pre-built", "region": "eu"}, "project.current_solution.region", "unknown key"),
    ({"rung": "pre-built", "service": 3}, "project.current_solution.service", "text"),
])
def test_bad_current_solution_names_the_field(solution: dict[str, Any], path: str,
                                              words: str) -> None:
    doc = with_(project={"stage": "deployed", "current_solution": solution})
    with pytest.raises(InputError) as caught:
        parse_answers(doc, "a.yaml")
    assert caught.value.path == path
    assert words in caught.value.message


def test_current_solution_takes_every_rung_and_services_the_catalog_lacks() -> None:
    for rung in RUNGS:
        doc = with_(project={"stage": "deployed", "current_solution": {"rung": rung}})
        assert parse_answers(doc).answers.project.current_solution.rung == rung
    doc = with_(project={"stage": "deployed", "current_solution": {
        "rung": "hosted-custom", "service": "amazon-lookout-for-equipment", "offer": "model-1"}})
    assert parse_answers(doc).answers.project.current_solution.service == (
        "amazon-lookout-for-equipment")
    null = with_(project={"stage": "experimentation", "current_solution": None})
    assert parse_answers(null).answers.project.current_solution is None  # null: not stated


def test_assess_refuses_current_solution_before_deployment_exit_2(tmp_path: Path) -> None:
    doc = yaml.safe_load(TRANSCRIPTION.read_text())
    doc["project"]["stage"] = "experimentation"
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["assess", str(path), "--no-record"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: project.current_solution: only applies when project.stage is "
        "deployed (the stage is experimentation)"]
    assert result.stdout == ""


@pytest.mark.parametrize("path", [ROUTING, TRANSCRIPTION])
def test_assess_reads_the_bench_files_and_keeps_the_answers(path: Path) -> None:
    result = CliRunner().invoke(cli, ["assess", str(path), "--format", "json", "--no-record"])
    assert result.exit_code == 0, result.output
    decision = yaml.safe_load(result.stdout)  # JSON is YAML
    given = yaml.safe_load(path.read_text())
    answers = decision["input"]["answers"]
    assert answers["project"]["current_solution"] == given["project"].get("current_solution")
    assert answers["problem"]["classes"] == given["problem"].get("classes")
    assert answers["problem"]["multi_label"] == given["problem"].get("multi_label", False)


def test_json_schema_states_the_new_fields_and_bounds() -> None:
    schema = answers_schema()
    defs = schema["$defs"]
    problem = defs["Problem"]["properties"]
    number = next(b for b in problem["classes"]["anyOf"] if b.get("type") == "integer")
    assert number["minimum"] == 2 and problem["classes"]["maximum"] == 100_000
    assert problem["multi_label"] == {**problem["multi_label"], "type": "boolean",
                                      "default": False}
    solution = defs["CurrentSolution"]
    assert solution["required"] == ["rung"] and solution["additionalProperties"] is False
    assert solution["properties"]["rung"]["enum"] == list(RUNGS)
    service = next(b for b in solution["properties"]["service"]["anyOf"]
                   if b.get("type") == "string")
    assert service["pattern"] == r"^[a-z0-9]+(-[a-z0-9]+)*$" and service["maxLength"] == 64
    assert {"$ref": "#/$defs/CurrentSolution"} in (
        defs["Project"]["properties"]["current_solution"]["anyOf"])
    # pydantic's own names for bounds (ge, gt) are written as JSON Schema's everywhere
    text = repr(schema)
    assert "'ge':" not in text and "'gt':" not in text


def test_schema_command_prints_them() -> None:
    result = CliRunner().invoke(cli, ["schema", "answers"])
    assert result.exit_code == 0
    assert '"CurrentSolution"' in result.stdout and '"multi_label"' in result.stdout


# ---------------------------------------------------------------- facts and the rule base

def test_case_facts_carry_the_new_paths() -> None:
    case, _ = build_facts(load_answers(TRANSCRIPTION).answers, None, None)
    assert case["project.current_solution.rung"] == "pre-built"
    assert case["project.current_solution.service"] == "amazon-transcribe"
    assert case["project.current_solution.offer"] == "transcribe-batch"
    assert "problem.classes" not in case  # unknown is absent, as every unknown answer
    assert case["problem.multi_label"] is False
    routing, _ = build_facts(load_answers(ROUTING).answers, None, None)
    assert routing["problem.classes"] == 12
    assert not any(k.startswith("project.current_solution") for k in routing)


def test_lint_and_examples_know_the_new_paths() -> None:
    assert set(NEW_PATHS) <= known_case_paths()
    assert set(NEW_PATHS) <= set(leaf_paths())


RULE = {
    "id": "monitoring.running-solution-noted", "phase": "monitoring", "severity": "info",
    "title": "{project.current_solution.rung} on {project.current_solution.service} today",
    "when": {"all": [{"project.current_solution.rung": {"exists": True}},
                     {"problem.classes": {"ge": 3}}, {"problem.multi_label": False}]},
    "rationale": "It uses {project.current_solution.offer} for {problem.classes} classes.",
    "action": "Keep it in mind.", "guidance": "monitoring.performance",
    "examples": [
        {"name": "running", "fires": True,
         "answers": {"project.stage": "deployed", "project.current_solution.rung": "pre-built",
                     "project.current_solution.service": "amazon-comprehend",
                     "project.current_solution.offer": "comprehend-custom",
                     "problem.classes": 12}},
        {"name": "multi-label", "fires": False,
         "answers": {"project.stage": "deployed", "project.current_solution.rung": "pre-built",
                     "problem.classes": 12, "problem.multi_label": True}},
        {"name": "nothing running", "answers": {"problem.classes": 12}, "fires": False},
    ],
}


def test_a_rule_over_the_new_paths_lints_clean_and_its_examples_pass(tmp_path: Path) -> None:
    import shutil

    for folder in ("rules", "knowledge"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    path = tmp_path / "rules" / "monitoring.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["rules"].append(copy.deepcopy(RULE))
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    rb = load_rulebase(tmp_path)
    problems = [str(p) for p in lint(rb, run_examples=False) if p.level == "error"]
    assert problems == []
    rule = rb.rule(RULE["id"])
    results = [run_example(rb, rule, example) for example in rule.examples]
    assert [r.passed for r in results] == [True, True, True], [r.problems for r in results]
    # and a misspelt path is still caught
    doc["rules"][-1]["when"] = {"project.current_solution.rungs": {"exists": True}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    problems = [str(p) for p in lint(load_rulebase(tmp_path), run_examples=False)]
    assert any("unknown fact path 'project.current_solution.rungs'" in p for p in problems)


# ---------------------------------------------------------------- the questionnaire

def by_path(path: str) -> Any:
    return next(f for f in fields() if f.path == path)


def raw_ask_when(path: str) -> Any:
    return next(q.ask_when for q in questionnaire().questions() if q.path == path)


def test_the_classifying_tasks_are_data_in_the_questionnaire() -> None:
    asked = raw_ask_when("problem.classes")["problem.task"]["in"]
    assert tuple(asked) == CLASSIFYING
    multi = raw_ask_when("problem.multi_label")["problem.task"]["in"]
    assert set(multi) < set(asked) and set(asked) <= set(TASKS)


@pytest.mark.parametrize("task", TASKS)
def test_classes_are_asked_only_for_classifying_tasks(task: str) -> None:
    doc = with_(problem={"task": task})
    assert is_asked(by_path("problem.classes"), doc) == (task in CLASSIFYING)
    assert is_asked(by_path("problem.multi_label"), doc) == (
        task in raw_ask_when("problem.multi_label")["problem.task"]["in"])


def test_current_solution_is_asked_only_when_deployed_and_its_ids_after_the_rung() -> None:
    rung, service, offer = (by_path(f"project.current_solution.{k}")
                            for k in ("rung", "service", "offer"))
    for stage in ("idea", "data-preparation", "experimentation"):
        assert not is_asked(rung, with_(project={"stage": stage}))
    assert not is_asked(rung, base())  # the default stage, idea
    deployed = with_(project={"stage": "deployed"})
    assert is_asked(rung, deployed)
    assert not is_asked(service, deployed) and not is_asked(offer, deployed)
    running = with_(project={"stage": "deployed", "current_solution": {"rung": "no-ml"}})
    assert is_asked(service, running) and is_asked(offer, running)


def test_fields_inside_the_group_are_optional_questions() -> None:
    rung = by_path("project.current_solution.rung")
    assert not rung.required and rung.default is None and rung.nullable
    assert rung.kind == "choice" and rung.choices == RUNGS
    assert rung.parse("", "t") is None  # empty: no current solution, not an error
    assert rung.parse("2", "t") == "pre-built"  # a choice by its number
    with pytest.raises(InputError) as caught:
        by_path("project.current_solution.service").parse("Amazon Comprehend", "t")
    assert caught.value.path == "project.current_solution.service"
    assert plain(caught.value.expected) == (
        "lower-case letters and digits, words joined by single hyphens (like amazon-comprehend)")
    classes = by_path("problem.classes")
    assert classes.kind == "int" and classes.bounds == ">= 2" and classes.default is None


def test_template_nests_the_group_and_uncommented_it_is_valid() -> None:
    text = template_text()
    assert "  # current_solution:\n    # What kind of solution runs in production today?" in text
    assert "    # rung: null\n" in text and "  # classes: null\n" in text
    assert "  # multi_label: false\n" in text
    assert "Asked only when: {project.stage: deployed}" in text
    assert "Asked only when: {problem.task: {in: [sentiment-analysis, text-classification" in text
    assert "a whole number (>= 2), or null if unknown; default null" in text
    # a person uncomments the group, its rung and the stage: a valid deployed project
    lines = text.splitlines()
    edited = []
    for line in lines:
        if line in ("  # stage: idea", "  # current_solution:", "    # rung: null"):
            line = line.replace("# ", "", 1)
        edited.append(line.replace("stage: idea", "stage: deployed")
                      .replace("rung: null", "rung: from-scratch"))
    doc = yaml.safe_load("\n".join(edited))
    solution = parse_answers(doc, "template").answers.project.current_solution
    assert solution is not None and solution.rung == "from-scratch"
    assert "project.current_solution.service" in parse_answers(doc).defaulted


def test_resume_accepts_the_nested_group_and_refuses_unknown_keys_in_it() -> None:
    doc = yaml.safe_load(TRANSCRIPTION.read_text())
    checked = check_document(doc, "r.yaml")
    assert checked["project"]["current_solution"] == doc["project"]["current_solution"]
    doc["project"]["current_solution"]["region"] = "eu-west-1"
    with pytest.raises(InputError, match=r"project\.current_solution\.region: unknown key"):
        check_document(doc, "r.yaml")
    assert check_document(with_(project={"current_solution": None}), "r.yaml")


# ---------------------------------------------------------------- the terminal wizard

PROJECT_DEPLOYED = ["Call transcription", "", "Priya Raman, CC Tech Lead", "deployed",
                    "prebuilt", "2",                      # a rung not in the list, then by number
                    "Amazon Transcribe", "amazon-transcribe",  # not a catalog-style id, then one
                    ""]                                    # offer: unknown


def wizard(args: list[str], lines: list[str]) -> Any:
    return CliRunner().invoke(cli, ["questionnaire", *args], input=feed(lines),
                              catch_exceptions=False)


@pytest.fixture()
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_wizard_asks_the_current_solution_of_a_deployed_project(in_tmp: Path) -> None:
    session = PROJECT_DEPLOYED + BUSINESS + PROBLEM + DATA + REST_DEPLOYED + REVIEW
    result = wizard(["--out", "a.yaml"], session)
    assert result.exit_code == 0, result.output
    said = result.stderr
    assert "What kind of solution runs in production today?" in said
    assert "One of no-ml, pre-built, hosted-custom, pre-trained, from-scratch (or its number), " \
        "got prebuilt" in said
    assert "Lower-case letters and digits, words joined by single hyphens (like " \
        "amazon-comprehend), got Amazon Transcribe" in said
    doc = yaml.safe_load((in_tmp / "a.yaml").read_text())
    assert doc["project"]["current_solution"] == {"rung": "pre-built",
                                                  "service": "amazon-transcribe"}
    assert doc["problem"]["classes"] == 12 and doc["problem"]["multi_label"] is False
    loaded = parse_answers(doc)
    assert "project.current_solution.offer" in loaded.defaulted
    assert "project.current_solution.offer" in (in_tmp / "a.yaml").read_text()  # the note


def test_wizard_skips_the_group_ids_when_no_rung_is_given(in_tmp: Path) -> None:
    session = (["P", "", "R", "deployed", ""] + BUSINESS + PROBLEM + DATA + REST_DEPLOYED + REVIEW)
    result = wizard(["--out", "a.yaml"], session)
    assert result.exit_code == 0, result.output
    assert "What kind of solution runs in production today?" in result.stderr
    assert "Which service does it run on?" not in result.stderr
    doc = yaml.safe_load((in_tmp / "a.yaml").read_text())
    assert "current_solution" not in doc["project"]
    assert "project.current_solution" in parse_answers(doc).defaulted


def test_wizard_does_not_ask_any_of_them_for_an_early_translation(in_tmp: Path) -> None:
    problem = ["translation"] + PROBLEM[4:]  # no classes or multi-label questions
    session = ["P", "", "R", "experimentation"] + BUSINESS + problem + DATA + REST + REVIEW
    result = wizard(["--out", "a.yaml"], session)
    assert result.exit_code == 0, result.output
    for question in ("What kind of solution runs in production today?",
                     "How many classes (labels) must the model tell apart?",
                     "Can one input carry several of the classes at once?"):
        assert question not in result.stderr
    doc = yaml.safe_load((in_tmp / "a.yaml").read_text())
    assert doc["problem"]["task"] == "translation"
    assert "classes" not in doc["problem"] and "current_solution" not in doc["project"]


def test_review_moving_the_stage_back_drops_the_current_solution(in_tmp: Path) -> None:
    # review: question 4 is the stage; "1" is idea; then save
    session = PROJECT_DEPLOYED + BUSINESS + PROBLEM + DATA + REST_DEPLOYED + ["4", "1", ""]
    result = wizard(["--out", "a.yaml"], session)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((in_tmp / "a.yaml").read_text())
    assert doc["project"]["stage"] == "idea"
    assert "current_solution" not in doc["project"]  # no empty mapping left behind
    assert parse_answers(doc).answers.project.current_solution is None


def test_resuming_a_deployed_file_asks_nothing_new(in_tmp: Path) -> None:
    # the questions the file leaves unanswered (sizes, sector, ...) are asked; Enter keeps each
    saved = in_tmp / "t.yaml"
    saved.write_text(TRANSCRIPTION.read_text())
    result = wizard(["--resume", str(saved), "--out", "b.yaml"], [""] * 8)
    assert result.exit_code == 0, result.output
    assert "What kind of solution runs in production today?" not in result.stderr.split(
        "== Review ==")[0]
    assert "What kind of solution runs in production today? pre-built" in result.stderr
    doc = yaml.safe_load((in_tmp / "b.yaml").read_text())
    assert doc["project"]["current_solution"] == {"rung": "pre-built",
                                                  "service": "amazon-transcribe",
                                                  "offer": "transcribe-batch"}


# ---------------------------------------------------------------- the web form

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    from engine.web import Settings, create_app

    return TestClient(create_app(Settings(home=tmp_path / "home")), base_url="http://127.0.0.1")


def post(client: TestClient, data: dict[str, str]) -> Any:
    from tests.test_web import submit

    return submit(client, data)


def recorded_answers(client: TestClient, response: Any) -> dict[str, Any]:
    assert response.status_code == 303, response.text[:2000]
    record_id = response.headers["location"].rsplit("/", 1)[1]
    saved = client.get(f"/assessments/{record_id}/answers.yaml")
    return yaml.safe_load(saved.text)


def web_valid(**changes: str) -> dict[str, str]:
    from tests.test_web import VALID

    return {**VALID, **changes}


def test_form_shows_the_new_questions_with_their_conditions(client: TestClient) -> None:
    page = client.get("/").text
    assert "What kind of solution runs in production today?" in page
    assert ("Answer this only if you answered deployed to “Where is the project today?”."
            in page)
    assert ("Answer this only if you answered one of sentiment-analysis, text-classification, "
            "image-classification, object-detection, tabular-classification to “What kind of "
            "task is it?”." in page)
    assert ("and you answered “What kind of solution runs in production today?”." in page)
    assert re.search(r'<select id="q-project__current_solution__rung" '
                     r'name="project__current_solution__rung"', page)
    for rung in RUNGS:
        assert f'<option value="{rung}"' in page
    assert 'id="q-problem__classes"' in page and 'inputmode="numeric"' in page
    assert "The number must be 2 or more." in page


def test_form_records_the_new_answers_of_a_deployed_classifier(client: TestClient) -> None:
    data = web_valid(project__stage="deployed", project__current_solution__rung="hosted-custom",
                     project__current_solution__service="amazon-comprehend",
                     project__current_solution__offer="comprehend-custom-classifier",
                     problem__classes="12", problem__multi_label="yes")
    answers = recorded_answers(client, post(client, data))
    assert answers["project"]["current_solution"] == {
        "rung": "hosted-custom", "service": "amazon-comprehend",
        "offer": "comprehend-custom-classifier"}
    assert answers["problem"]["classes"] == 12 and answers["problem"]["multi_label"] is True


def test_form_drops_the_answers_that_do_not_apply(client: TestClient) -> None:
    data = web_valid(project__stage="experimentation",
                     project__current_solution__rung="pre-built",
                     project__current_solution__service="amazon-comprehend",
                     problem__task="translation", problem__classes="12",
                     problem__multi_label="yes")
    answers = recorded_answers(client, post(client, data))
    assert "current_solution" not in answers["project"]
    assert "classes" not in answers["problem"] and "multi_label" not in answers["problem"]
    # and the ids without a rung are not a current solution either
    data = web_valid(project__stage="deployed", project__current_solution__service="x-y")
    answers = recorded_answers(client, post(client, data))
    assert "current_solution" not in answers["project"]


def test_form_shows_bad_new_answers_beside_their_fields(client: TestClient) -> None:
    data = web_valid(project__stage="deployed", project__current_solution__rung="pre-built",
                     project__current_solution__service="Amazon Comprehend",
                     problem__classes="1")
    response = post(client, data)
    assert response.status_code == 422
    text = response.text
    assert "2 answers need attention" in text
    assert 'href="#q-project__current_solution__service"' in text
    assert "Lower-case letters and digits, words joined by single hyphens (like " \
        "amazon-comprehend) (you entered Amazon Comprehend)" in text
    assert 'href="#q-problem__classes"' in text
    assert "Must be 2 or more (you entered 1)" in text
    assert re.search(r'<option value="pre-built" selected>', text)  # kept as chosen
    too_many = post(client, web_valid(problem__classes="100001"))
    assert too_many.status_code == 422 and "at most 100000" in too_many.text


def test_form_refuses_a_rung_the_form_never_offers(client: TestClient) -> None:
    response = post(client, web_valid(project__stage="deployed",
                                      project__current_solution__rung="prebuilt"))
    assert response.status_code == 422
    assert "One of no-ml, pre-built, hosted-custom, pre-trained, from-scratch" in response.text


def test_editing_a_recorded_deployed_project_prefills_the_group(client: TestClient) -> None:
    from engine.web.forms import field_path, from_answers

    values = from_answers(yaml.safe_load(TRANSCRIPTION.read_text()))
    assert values["project__current_solution__rung"] == "pre-built"
    assert values["project__current_solution__offer"] == "transcribe-batch"
    routing = from_answers(yaml.safe_load(ROUTING.read_text()))
    assert routing["problem__classes"] == "12" and routing["problem__multi_label"] == "no"
    # a whole-group error lands on the group's first question
    assert field_path("project.current_solution") == "project.current_solution.rung"
    assert field_path("project.current_solution.offer") == "project.current_solution.offer"


# ---------------------------------------------------------------- in a browser

@pytest.fixture(scope="module")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home11")


@pytest.fixture(scope="module")
def web_server(web_home: Path) -> Iterator[str]:
    from engine.web import Settings
    from tests.test_browser_web import start_server

    srv, thread, url = start_server(Settings(home=web_home))
    yield url
    srv.should_exit = True
    thread.join(10)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_deployed_classifier_round_trip(browser: Any, web_server: str,
                                                web_home: Path) -> None:
    from playwright.sync_api import expect

    from engine.audit import open_log
    from tests.test_browser_web import fill_required

    context = browser.new_context(java_script_enabled=False,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(web_server + "/")
    fill_required(page, "Deployed ticket routing")
    page.get_by_label("Where is the project today?").select_option("deployed")
    rung = page.get_by_label("What kind of solution runs in production today?")
    expect(rung).to_have_value("")  # not answered until chosen
    rung.select_option("hosted-custom")
    page.get_by_label("Which service does it run on?").fill("Amazon Comprehend")
    page.get_by_label("What kind of task is it?").select_option("text-classification")
    page.get_by_label("How many classes (labels) must the model tell apart?").fill("12")
    page.get_by_role("group", name="Can one input carry several of the classes at once?") \
        .get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Assess the project").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("1 answer needs attention")
    expect(summary).to_contain_text("Which service does it run on?")
    service = page.get_by_label("Which service does it run on?")
    expect(service).to_have_attribute("aria-invalid", "true")
    expect(service).to_have_value("Amazon Comprehend")
    expect(page.get_by_label("What kind of solution runs in production today?")) \
        .to_have_value("hosted-custom")
    service.fill("amazon-comprehend")
    page.get_by_role("button", name="Assess the project").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Verdict: "))).to_be_visible()
    record_id = page.url.rsplit("/", 1)[1]
    with open_log(web_home) as log:
        answers = log.get(record_id).input["answers"]
    assert answers["project"]["current_solution"] == {"rung": "hosted-custom",
                                                      "service": "amazon-comprehend"}
    assert answers["problem"]["classes"] == 12 and answers["problem"]["multi_label"] is False
    context.close()
