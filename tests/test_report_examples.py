"""Every answers file in examples/ goes through the engine and renders as HTML and PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.report import render_html, render_pdf
from engine.report.pdf import canonical_json

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ANSWERS = sorted(p for p in EXAMPLES.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def evidence_for(answers: Path, kind: str) -> Path | None:
    """Evidence files beside an example share its stem: x.yaml, x.benchmarks.csv, x.drift.json."""
    for candidate in sorted(EXAMPLES.glob(f"{answers.stem}*")):
        if candidate != answers and kind in candidate.name and candidate.suffix in (
                ".csv", ".json"):
            return candidate
    return None


def test_examples_exist() -> None:
    if not ANSWERS:
        pytest.skip("examples/ has no answers files yet")
    assert all(p.stat().st_size > 0 for p in ANSWERS)


@pytest.mark.parametrize("answers", ANSWERS, ids=[p.stem for p in ANSWERS])
def test_example_renders_html_and_pdf(answers: Path) -> None:
    api = pytest.importorskip("engine.api")
    assessment = api.assess_files(answers, benchmarks=evidence_for(answers, "bench"),
                                  drift=evidence_for(answers, "drift"))
    decision = assessment.decision
    name = decision["project"]["name"]

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
