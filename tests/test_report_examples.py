"""Every answers file in examples/ goes through the engine and renders as HTML and PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.report import render_html, render_pdf
from engine.report.pdf import canonical_json
from tests.conftest import EXAMPLE_ANSWERS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ANSWERS = EXAMPLE_ANSWERS


def evidence_for(answers: Path, kind: str) -> Path | None:
    """Evidence for an example: examples/evidence/<word>-<kind>*.{csv,json} where <word> is
    part of the example's name (ticket-benchmarks.csv serves support-ticket-routing.yaml)."""
    for candidate in sorted((EXAMPLES / "evidence").glob(f"*{kind}*")):
        word = candidate.stem.split(f"-{kind}")[0]
        if candidate.suffix in (".csv", ".json") and word and word in answers.stem:
            return candidate
    return None


def test_examples_exist() -> None:
    assert ANSWERS, "examples/ has no answers files"
    assert all(p.stat().st_size > 0 for p in ANSWERS)


@pytest.mark.parametrize("answers", ANSWERS, ids=[p.stem for p in ANSWERS])
@pytest.mark.slow
def test_example_renders_html_and_pdf(answers: Path) -> None:
    import engine.api as api
    assessment = api.assess_files(answers, benchmarks=evidence_for(answers, "bench"),
                                  drift=evidence_for(answers, "drift"))
    decision = assessment.decision
    name = decision["project"]["name"]
    if evidence_for(answers, "bench"):
        assert decision["input"]["benchmarks"]
    if evidence_for(answers, "drift"):
        assert decision["input"]["drift"]

    html = render_html(decision).decode("utf-8")
    assert "<!DOCTYPE html>" in html and 'id="appendix"' in html
    assert decision["verdict"] in html

    reader = PdfReader(io.BytesIO(render_pdf(decision)))
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert " ".join(name.split())[:40] in first
    assert f"Page 1 of {len(reader.pages)}" in first
    (attached,) = reader.attachments["decision.json"]
    assert attached == canonical_json(decision) == assessment.decision_json
    strategy = decision.get("strategy") or {}
    if strategy.get("rung"):
        assert strategy["rung"] in first
    if decision["input"].get("benchmarks"):
        assert "Candidates against success criteria" in html
    if decision["input"].get("drift"):
        assert "Drift per feature" in html


HOSTILE = Path(__file__).parent / "fixtures" / "report" / "answers-hostile.yaml"


@pytest.fixture(scope="module")
def hostile_assessment():  # type: ignore[no-untyped-def]
    import engine.api as api
    return api.assess_files(HOSTILE)


@pytest.mark.slow
def test_hostile_answers_file_through_the_engine(hostile_assessment) -> None:  # type: ignore[no-untyped-def]
    decision = hostile_assessment.decision
    html = render_html(decision).decode("utf-8")
    assert "<img" not in html and "<link" not in html and "<iframe" not in html
    assert "<script" not in html and "<b>bold" not in html
    assert "&lt;img src=&#34;file:///etc/hostname&#34;&gt;" in html
    assert "{{ 7*7 }}" in html  # template syntax in answers is text, not evaluated
    pdf = render_pdf(decision)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert 'Routing <img src="file:///etc/hostname"> & <b>bold</b>' in text
    assert "169.254.169.254" in text
    assert list(reader.attachments) == ["decision.json"]
    assert all(not page.images for page in reader.pages)
    assert b"root:x:0:0" not in pdf
    assert reader.metadata.author == decision["project"]["respondent"]


@pytest.mark.slow
def test_assess_cli_pdf_attaches_the_same_json_it_prints(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import engine.cli.assess  # noqa: F401
    from engine.cli import cli

    monkeypatch.setenv("MLADVISOR_HOME", str(tmp_path / "home"))
    answers = EXAMPLES / "support-ticket-routing.yaml"
    if not answers.exists():
        answers = HOSTILE
    pdf, saved = tmp_path / "r.pdf", tmp_path / "d.json"
    runner = CliRunner()
    ids = "0192f7a0-0000-7000-8000-000000000000"
    monkeypatch.setattr("engine.ids.new_id", lambda now_ms=None: ids)
    monkeypatch.setattr("engine.api.new_id", lambda now_ms=None: ids)
    result = runner.invoke(cli, ["assess", str(answers), "--no-record", "-f", "json", "-o",
                                 str(saved)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["assess", str(answers), "--no-record", "-f", "pdf", "-o",
                                 str(pdf)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (attached,) = PdfReader(io.BytesIO(pdf.read_bytes())).attachments["decision.json"]
    assert attached == saved.read_bytes()
    # and `report` renders the saved JSON to the same PDF, minus the explanation section
    again = tmp_path / "again.pdf"
    result = runner.invoke(cli, ["report", str(saved), "-f", "pdf", "-o", str(again)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (attached_again,) = PdfReader(io.BytesIO(again.read_bytes())).attachments["decision.json"]
    assert attached_again == attached
