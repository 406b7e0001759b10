"""The sponsor's summary says why about each option and names proposed changes as people do."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from engine.cli import cli
from engine.rulebase.loading import load_rulebase
from tests.conftest import EXAMPLES


def _executive(tmp_path: Path, fmt: str, example: str) -> str:
    out = tmp_path / f"summary.{fmt}"
    result = CliRunner().invoke(cli, ["assess", str(EXAMPLES / example), "--format", fmt,
                                      "--audience", "executive", "--out", str(out),
                                      "--no-record"])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_every_option_has_a_one_line_why(tmp_path: Path) -> None:
    page = _executive(tmp_path, "html", "churn-idea.yaml")
    whys = re.findall(r'<td class="why">([^<]*)</td>', page)
    assert whys and all(whys), whys  # each row says something
    assert "no fixed rule or heuristic is known to meet the objective" in whys
    assert all(len(w) <= 130 for w in whys)
    markdown = _executive(tmp_path, "markdown", "support-ticket-routing.yaml")
    header = next(line for line in markdown.splitlines() if line.startswith("| Approach"))
    assert header.endswith("| Why |")
    assert re.search(r"\| `selected` \|[^|]*\| recommended \|", markdown)


def test_proposed_changes_are_named_by_the_levers_label(tmp_path: Path) -> None:
    page = _executive(tmp_path, "html", "support-ticket-routing.yaml")
    section = page[page.index('id="what-would-change"'):page.index("</ul>",
                                                                   page.index('id="what-would-change"'))]
    labels = {q.label for q in load_rulebase().knowledge.questionnaire.questions() if q.label}
    assert any(label in section for label in labels)
    assert not re.search(r"\b(business|problem|data|team|monitoring)\.[a-z_]+", section)
