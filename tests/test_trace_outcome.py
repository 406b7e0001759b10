"""The decision trace ends with which proposed verdict won: several rules propose verdicts,
and without that line a reader sees not-ready and proceed-with-conditions side by side."""

from __future__ import annotations

from engine.api import assess_files
from engine.report import render_html, render_markdown
from tests.conftest import EXAMPLES


def test_the_trace_names_the_winning_verdict_and_why_in_every_edition() -> None:
    decision = assess_files(EXAMPLES / "churn-idea.yaml").model
    proposed = {a for step in decision.trace for a in step.asserted if a.startswith("verdict ")}
    assert len(proposed) > 1, "the example proposes several verdicts"
    for audience in ("architect", "audit"):
        for page in (render_html(decision, audience=audience).decode(),
                     render_markdown(decision, audience=audience).decode()):
            assert "Outcome: not-ready." in page
            assert "the most cautious wins" in page


def test_a_single_proposal_says_the_outcome_and_the_selection() -> None:
    decision = assess_files(EXAMPLES / "support-ticket-routing.yaml").model
    page = render_markdown(decision).decode()
    line = next(line for line in page.splitlines() if line.startswith("Outcome:"))
    assert decision.verdict in line and "most cautious" not in line
    assert "Selected: hosted-custom / amazon-comprehend" in line
