"""The terminal questionnaire: template, scripted sessions with invalid answers, skips, resume."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import cli
from engine.model.answers import parse_answers
from engine.model.vocab import TASKS
from engine.questionnaire.fields import fields, is_asked, template_text
from engine.questionnaire.wizard import Wizard

# One line per prompt, in questionnaire order, for a complete session. Invalid answers are
# followed by the valid one the wizard re-asks for.
NAME = ["Ticket routing", "", "Dana Lee, Support Ops", ""]  # the project id: its default
BUSINESS = ["", "Route incoming tickets",        # empty statement is refused, then answered
            "maybe", "yes",                        # not yes/no, then yes
            "median time to first response",      # kpi: asked because the objective is measurable
            "y", "-5", "20000", "3000",           # negative value refused
            "F1", "f1_macro", "abc", "0.85", "",  # bad metric name, bad threshold, goal default
            "latency_p95_ms", "500", "at-most", ""]
# task 2 (text-classification) asks for classes (1 is refused), multi-label and standard
# classes; ? explains;
# the characters per request and the sector are left at their defaults
PROBLEM = ["2", "1", "12", "no", "no", "no", "specialized", "no", "?", "cloud", "200,000", "", "",
           ""]
DATA = ["yes", "yes", "12.5", "12000", "good", "yes", "yes"]
REST = ["basic", "no", "yes", "region, age band"]
REVIEW = [""]
SESSION = NAME + BUSINESS + PROBLEM + DATA + REST + REVIEW


def feed(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def run(args: list[str], lines: list[str] | str) -> object:
    runner = CliRunner()
    text = lines if isinstance(lines, str) else feed(lines)
    return runner.invoke(cli, ["questionnaire", *args], input=text, catch_exceptions=False)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLADVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def test_template_is_a_valid_commented_answers_file() -> None:
    text = template_text()
    loaded = parse_answers(yaml.safe_load(text), "template")
    # Only the required answers are live; everything else is left to its default.
    assert "business.kpi" in loaded.defaulted and "project.stage" in loaded.defaulted
    assert loaded.answers.project.name == "Support ticket routing"
    for f in fields():
        assert f.question in text, f.path
    for task in TASKS:
        assert task in text
    assert "Asked only when: {business.objective_measurable: true}" in text
    assert "a number (>= 0), or null if unknown; default null" in text


def test_template_command_prints_and_writes(tmp_path: Path) -> None:
    result = run(["--template"], "")
    assert result.exit_code == 0
    assert result.stdout == template_text()
    out = tmp_path / "t.yaml"
    result = run(["--template", "--out", str(out)], "")
    assert result.exit_code == 0 and out.read_text() == template_text()
    result = run(["--template", "--assess"], "")
    assert result.exit_code == 2


def test_scripted_session_validates_skips_and_writes_answers(tmp_path: Path) -> None:
    out = tmp_path / "answers.yaml"
    result = run(["--out", str(out)], SESSION)
    assert result.exit_code == 0, result.output
    said = result.stderr
    # every invalid answer was refused with its reason and asked again
    assert "An answer is required. Please try again." in said
    assert "Yes or no, got maybe" in said
    assert "Must be 0 or more, got -5" in said
    assert "Lower-case letters, digits and _ only" in said and "got F1" in said
    assert "A number, got abc" in said
    assert "A whole number, got 12.5" in said
    assert "Must be 2 or more, got 1" in said  # classes
    assert "  Where the model must run.\n  Expected: one of: cloud | edge | on-premises; " \
        "default cloud." in said  # what ? shows: the model's description and type
    assert "== Phase 1 of 6: The project ==" in said and "== Review ==" in said
    doc = yaml.safe_load(out.read_text())
    assert doc["schema"] == "mladvisor.answers/1"
    loaded = parse_answers(doc, str(out))
    a = loaded.answers
    assert a.business.kpi == "median time to first response"
    assert [c.model_dump() for c in a.business.success_criteria] == [
        {"metric": "f1_macro", "threshold": 0.85, "goal": "at-least"},
        {"metric": "latency_p95_ms", "threshold": 500.0, "goal": "at-most"}]
    assert a.problem.task == "text-classification"  # chosen by its number
    assert a.problem.classes == 12 and a.problem.multi_label is False
    assert "multi_label: false" in out.read_text()  # answered "no", not left to the default
    assert a.problem.requests_per_month == 200000
    assert a.data.labeled_examples == 12000
    assert a.monitoring.sensitive_attributes == ["region", "age band"]
    # Enter took the default: the answer is left out so the report lists it as defaulted
    assert "stage" not in doc["project"] and "project.stage" in loaded.defaulted
    assert "problem.latency_p95_ms" in loaded.defaulted
    # the project id left empty is noted too (so --resume does not ask it again); the report
    # does not list it (the id is then the slug of the name, not a default answer)
    assert ("# Left at their default (the report lists them as defaulted):\n"
            "#   project.id, project.stage, problem.latency_p95_ms, "
            "problem.input_chars_per_request,\n#   problem.sector\n") in out.read_text()
    assert "project.id" not in loaded.defaulted
    assert "Where is the project today? idea (default)" in said
    assert not (tmp_path / "answers.yaml.partial").exists()
    assert result.stdout == ""  # the answers went to the file, questions to stderr


def test_conditional_questions_are_skipped(tmp_path: Path) -> None:
    lines = (NAME + ["Route tickets", "no", "no", "", "", ""]
             + ["", "", "", "", "", "", "", ""] + ["no", "0", "", ""] + ["", "", "", ""] + REVIEW)
    out = tmp_path / "a.yaml"
    result = run(["--out", str(out)], lines)
    assert result.exit_code == 0, result.output
    assert "Which KPI should the project move?" not in result.stderr
    assert "Are the data sources identified" not in result.stderr
    assert "How good is the data?" not in result.stderr
    doc = yaml.safe_load(out.read_text())
    assert "kpi" not in doc["business"]
    assert "sources_identified" not in doc["data"] and "quality" not in doc["data"]
    loaded = parse_answers(doc)
    assert "business.kpi" in loaded.defaulted


def test_answers_go_to_stdout_without_out() -> None:
    result = run([], SESSION)
    assert result.exit_code == 0
    doc = yaml.safe_load(result.stdout)
    assert doc["project"]["name"] == "Ticket routing"
    assert "What is the project called?" not in result.stdout


def test_interrupted_session_resumes_where_it_stopped(tmp_path: Path) -> None:
    out = tmp_path / "answers.yaml"
    first = NAME + BUSINESS[:5]  # stops after the KPI
    result = run(["--out", str(out)], first)
    assert result.exit_code == 2
    partial = tmp_path / "answers.yaml.partial"
    assert f"--resume {partial}" in result.stderr
    assert not out.exists()
    saved = yaml.safe_load(partial.read_text())
    assert saved["project"]["name"] == "Ticket routing"
    assert saved["business"]["kpi"] == "median time to first response"
    assert "stakeholders_aligned" not in saved["business"]

    second = BUSINESS[5:] + PROBLEM + DATA + REST + REVIEW
    result = run(["--resume", str(partial), "--out", str(out)], second)
    assert result.exit_code == 0, result.output
    # answered questions are not asked again (a question's help shows only when it is asked)
    assert "The name used on the report" not in result.stderr
    assert "For example median time to first response" not in result.stderr
    assert "Sponsors, the team that builds it" in result.stderr
    complete = run(["--out", str(tmp_path / "direct.yaml")], SESSION)
    assert complete.exit_code == 0
    assert out.read_text() == (tmp_path / "direct.yaml").read_text()
    assert not partial.exists()


def test_resume_reasks_an_invalid_saved_answer(tmp_path: Path) -> None:
    saved = tmp_path / "p.yaml"
    saved.write_text("schema: mladvisor.answers/1\nproject:\n  name: X\n  respondent: Y\n"
                     "  stage: someday\n")
    result = run(["--resume", str(saved)],
                 ["", "2"] + BUSINESS + PROBLEM + DATA + REST + REVIEW)  # id, then the stage
    assert result.exit_code == 0, result.output
    assert "project.stage: the saved answer is not valid" in result.stderr
    assert yaml.safe_load(result.stdout)["project"]["stage"] == "data-preparation"
    # without --out, progress goes back to the resumed file
    assert yaml.safe_load(saved.read_text())["project"]["stage"] == "data-preparation"


def test_resume_with_unknown_key_is_a_one_line_input_error(tmp_path: Path) -> None:
    saved = tmp_path / "p.yaml"
    saved.write_text("schema: mladvisor.answers/1\nproject:\n  nmae: X\n")
    result = run(["--resume", str(saved)], "")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: {saved}: project.nmae: unknown key (not part of the format)"]
    missing = run(["--resume", str(tmp_path / "nope.yaml")], "")
    assert missing.exit_code == 2 and "file not found" in missing.stderr


def test_review_can_change_an_answer_and_asks_what_now_applies(tmp_path: Path) -> None:
    lines = (NAME + ["Route tickets", "no", "no", "", "", ""]
             + ["", "", "", "", "", "", "", ""] + ["no", "0", "", ""] + ["", "", "", ""]
             + ["99", "6", "yes", "tickets answered per day", ""])
    out = tmp_path / "a.yaml"
    result = run(["--out", str(out)], lines)
    assert result.exit_code == 0, result.output
    assert "expected a number from 1 to" in result.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["business"]["objective_measurable"] is True
    assert doc["business"]["kpi"] == "tickets answered per day"
    assert result.stderr.count("== Review ==") == 3  # shown again after the bad number


def test_assess_prints_the_decision_and_records_it(tmp_path: Path, home: Path) -> None:
    out = tmp_path / "a.yaml"
    result = run(["--out", str(out), "--assess"], SESSION)
    assert result.exit_code == 0, result.output
    assert "Verdict: " in result.stdout and "Strategy: " in result.stdout
    from engine.api import assess
    from engine.audit import open_log

    expected = assess({"answers": yaml.safe_load(out.read_text()), "benchmarks": None,
                       "drift": None}).decision
    assert f"Verdict: {expected['verdict']}" in result.stdout
    assert expected["strategy"], "this session leads to a strategy; the check below needs one"
    assert expected["strategy"]["rung"] in result.stdout
    with open_log(home) as log:
        listed = log.list()
    assert len(listed) == 1 and listed[0].project == "Ticket routing"
    assert listed[0].record_id in result.stdout


def test_assess_no_record_leaves_the_log_alone(tmp_path: Path, home: Path) -> None:
    result = run(["--out", str(tmp_path / "a.yaml"), "--assess", "--no-record"], SESSION)
    assert result.exit_code == 0
    assert "Verdict: " in result.stdout
    assert not (home / "audit.sqlite").exists()


def test_wizard_runs_on_injected_streams() -> None:
    progress: list[dict] = []
    out = io.StringIO()
    wizard = Wizard(stdin=io.StringIO(feed(SESSION)), out=out,
                    on_progress=lambda doc, left: progress.append(doc))
    doc = wizard.run()
    assert parse_answers(doc).answers.business.kpi == "median time to first response"
    # progress is reported after each answer, growing one answer at a time
    assert progress[0]["project"] == {"name": "Ticket routing"}
    # one report per question the session asks (those whose ask_when holds for its answers)
    asked = [f for f in fields() if is_asked(f, doc)]
    assert len(asked) < len(fields()) and len(progress) >= len(asked)
    assert "project.stage" in wizard.defaulted and "stage" not in doc["project"]
    assert "Which business problem should this solve?" in out.getvalue()
    assert "One or two sentences, in business terms" in out.getvalue()  # help is shown


def test_resuming_a_finished_file_asks_nothing_but_the_review(tmp_path: Path) -> None:
    out = tmp_path / "a.yaml"
    assert run(["--out", str(out)], SESSION).exit_code == 0
    again = tmp_path / "b.yaml"
    result = run(["--resume", str(out), "--out", str(again)], REVIEW)
    assert result.exit_code == 0, result.output
    assert "== Phase" not in result.stderr and "== Review ==" in result.stderr
    assert again.read_text() == out.read_text()
    assert out.read_text().count("# Left at their default") == 1


def test_no_input_at_all_leaves_no_partial_file(tmp_path: Path) -> None:
    result = run([], "")
    assert result.exit_code == 2
    assert "no answer was given" in result.stderr
    assert list(tmp_path.iterdir()) == [] or not any(
        p.name.endswith(".partial") for p in tmp_path.iterdir())


@pytest.mark.parametrize("digit", ["²", "٣", "１"])
def test_a_non_ascii_digit_is_refused_not_a_crash(digit: str) -> None:
    """str.isdigit() is true for '²', '٣' and a full-width '１'; int() of the first two fails."""
    problem = [digit, *PROBLEM]  # refused as the task's number, then "2" is taken
    session = NAME + BUSINESS + problem + DATA + REST + [digit, ""]  # and as a review number
    result = run(["--out", "answers.yaml"], session)
    assert result.exit_code == 0, result.output
    assert f"got {digit}" in result.output
    assert yaml.safe_load(Path("answers.yaml").read_text())["problem"]["task"] == TASKS[1]


def test_resumed_answers_are_shown_with_control_characters_escaped() -> None:
    run(["--out", "answers.yaml"], SESSION)
    doc = yaml.safe_load(Path("answers.yaml").read_text())
    doc["project"]["name"] = "Routing\x1b]8;;http://evil.example\x07click\x1b[2J"
    Path("answers.yaml").write_text(yaml.safe_dump(doc))
    result = run(["--resume", "answers.yaml", "--out", "answers.yaml"], [""] * 40)
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]8;;http://evil.example\\x07" in result.output
