"""Bad answers files: one InputError naming the file and the field, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import cli
from engine.errors import InputError
from engine.model.answers import load_answers, parse_answers
from engine.rulebase.loading import default_rulebase
from engine.util import dotted

BASE = default_rulebase().baseline


def write(tmp_path: Path, doc: object, name: str = "answers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return path


def changed(path: str, value: object) -> dict:
    import copy

    doc = copy.deepcopy(BASE)
    dotted.set(doc, path, value)
    return doc


@pytest.mark.parametrize(("path", "value", "field", "expected"), [
    ("data.labeled_examples", -5, "data.labeled_examples", "greater than or equal to 0"),
    ("data.labeled_examples", "many", "data.labeled_examples", "integer"),
    ("problem.task", "telepathy", "problem.task", "expected one of"),
    ("data.quality", "great", "data.quality", "expected one of"),
    ("business.budget_usd_per_month", -1, "business.budget_usd_per_month", "greater than"),
    ("business.stakeholders_aligned", "perhaps", "business.stakeholders_aligned", "boolean"),
    ("business.problem_statement", "", "business.problem_statement", "must not be empty"),
    ("business.success_criteria", [{"metric": "f1", "threshold": 0.8, "goal": "more"}],
     "business.success_criteria.0.goal", "expected one of"),
])
def test_field_errors_name_file_and_path(tmp_path: Path, path: str, value: object, field: str,
                                         expected: str) -> None:
    file = write(tmp_path, changed(path, value))
    with pytest.raises(InputError) as info:
        load_answers(file)
    assert info.value.file == str(file)
    assert info.value.path == field
    assert expected in info.value.message


def test_unknown_key_is_named(tmp_path: Path) -> None:
    doc = changed("data.colour", "blue")
    with pytest.raises(InputError) as info:
        load_answers(write(tmp_path, doc))
    assert info.value.path == "data.colour"
    assert "unknown key" in info.value.expected


def test_missing_required_project_field(tmp_path: Path) -> None:
    doc = changed("project", {"name": "x"})
    with pytest.raises(InputError) as info:
        load_answers(write(tmp_path, doc))
    assert info.value.path == "project.respondent"


@pytest.mark.parametrize(("content", "expected"), [
    ("schema: [unclosed", "valid YAML"),
    ("- just\n- a list\n", "mapping of answers"),
    ("", "mapping of answers"),
    ("\x00\x01binary", "binary"),
])
def test_unparseable_documents(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_answers(path)
    assert expected in info.value.message


def test_missing_fields_take_defaults_and_are_reported() -> None:
    loaded = parse_answers({"schema": "mladvisor.answers/1",
                            "project": {"name": "x", "respondent": "y"},
                            "business": {"problem_statement": "z"}})
    assert "data.labeled_examples" in loaded.defaulted
    assert "project.stage" in loaded.defaulted
    assert "business.problem_statement" not in loaded.defaulted
    assert loaded.answers.data.labeled_examples == 0


@pytest.mark.parametrize(("doc", "field"), [
    ({"schema": "mladvisor.answers/1", "project": {"name": "x", "respondent": "y"},
      "business": {"problem_statement": "z"}, "data": {"labeled_examples": -5}},
     "data.labeled_examples"),
    ("not: [valid", ""),
])
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, doc: object,
                                                             field: str) -> None:
    answers = write(tmp_path, doc)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["assess", str(answers), "--format", "json", "--out",
                                      str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert str(answers) in lines[0] and field in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".report.json*"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                      children, max_size=4),
    max_leaves=20,
)


def _mutations() -> st.SearchStrategy[dict]:
    paths = ["project.name", "project.stage", "business.objective_measurable",
             "business.success_criteria", "problem.task", "problem.requests_per_month",
             "data.labeled_examples", "data.quality", "team.ml_expertise",
             "monitoring.sensitive_attributes", "data.extra_key"]
    return st.dictionaries(st.sampled_from(paths), json_values, min_size=1, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_random_documents_never_escape_as_raw_exceptions(mutations: dict) -> None:
    import copy

    doc = copy.deepcopy(BASE)
    for path, value in mutations.items():
        dotted.set(doc, path, value)
    try:
        parse_answers(doc, "fuzz.yaml")
    except InputError as error:
        assert error.file == "fuzz.yaml"
        assert "\n" not in error.message


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_arbitrary_top_level_values(value: object) -> None:
    try:
        parse_answers(value, "any.yaml")
    except InputError as error:
        assert error.message.startswith("any.yaml")


def test_front_ends_convert_typed_text_before_the_strict_model() -> None:
    """The answers model is strict ("12000" is not 12000); the web form and the wizard turn
    what a person types into typed values first, so their answers still validate."""
    from engine.questionnaire.fields import fields
    from engine.web.forms import read_form

    sub = read_form({"project__name": "x", "project__respondent": "y",
                     "business__problem_statement": "z", "data__labeled_examples": "12,000",
                     "data__contains_personal_data": "yes",
                     "business__budget_usd_per_month": "3000"})
    assert sub.errors == {}
    answers = parse_answers(sub.doc, "form").answers
    assert answers.data.labeled_examples == 12000
    assert answers.data.contains_personal_data is True
    assert answers.business.budget_usd_per_month == 3000.0
    by_path = {f.path: f for f in fields()}
    assert by_path["data.labeled_examples"].parse("40") == 40
    assert by_path["data.available"].parse("no") is False


@pytest.mark.parametrize(("path", "value"), [
    ("data.labeled_examples", "12000"), ("data.available", "yes"), ("data.available", 1),
    ("data.labeled_examples", True), ("project.name", ["a", "b"]),
])
def test_documents_are_not_coerced(path: str, value: object) -> None:
    with pytest.raises(InputError) as info:
        parse_answers(changed(path, value), "doc.yaml")
    assert info.value.path == path
