"""`--format markdown`: the report as GitHub-flavoured Markdown for wikis and pull requests.

Checked as a reader (and a Markdown renderer) would: every table row has its header's cells,
every guidance link lands on a heading of the document, text from the answers cannot break a
table, and the CLI writes the same bytes as the library for `assess` and `report`.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.api import assess, assess_files
from engine.cli import cli
from engine.report import render_markdown
from tests.conftest import EXAMPLES

FILES = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "expected.yaml")


def cells(row: str) -> list[str]:
    """A table row's cells, an escaped pipe kept inside its cell."""
    return [c for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def tables(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            out.append(block)
            block = []
    return out


def anchor(heading: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_example_renders_well_formed_tables_and_live_links(path: Path) -> None:
    decision = assess_files(path).decision
    text = render_markdown(decision).decode("utf-8")
    assert text.startswith("# ") and f"`{decision['verdict']}`" in text.splitlines()[2]
    found = tables(text)
    assert found, "the ladder at least is a table"
    for block in found:
        width = len(cells(block[0]))
        assert re.fullmatch(r"\|(---\|)+", block[1])
        assert all(len(cells(row)) == width for row in block[2:]), block[0]
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in headings, target
    ladder = next(b for b in found if cells(b[0])[0].strip() == "Rung")
    assert len(ladder) - 2 == len(decision["options"])


def test_text_from_the_answers_cannot_break_a_table_or_a_heading() -> None:
    answers = yaml.safe_load((EXAMPLES / "support-ticket-routing.yaml").read_text())
    answers = copy.deepcopy(answers)
    answers["project"]["name"] = "Routing | tickets\n# not a heading"
    answers["business"]["kpi"] = "first | response *time* `x`"
    text = render_markdown(assess({"answers": answers}).decision).decode("utf-8")
    assert text.splitlines()[0] == r"# Routing \| tickets \# not a heading"
    for block in tables(text):
        width = len(cells(block[0]))
        assert all(len(cells(row)) == width for row in block[2:])


def test_counterfactuals_and_costs_appear_when_the_decision_has_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["assess", str(EXAMPLES / "newsletter-translation.yaml"),
                                      "--format", "markdown", "--no-record"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "## What would change this recommendation" in result.output
    assert re.search(r"\| [0-9.,]+(–[0-9.,]+)? \|", result.output)  # a USD a month cell


def test_report_renders_a_saved_decision_as_the_library_does(tmp_path: Path) -> None:
    decision: dict[str, Any] = assess_files(EXAMPLES / "review-sentiment.yaml").decision
    saved = tmp_path / "decision.json"
    saved.write_text(json.dumps(decision), encoding="utf-8")
    out = tmp_path / "report.md"
    result = CliRunner().invoke(cli, ["report", str(saved), "--format", "markdown",
                                      "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render_markdown(decision)


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_three_editions_share_the_decision_and_its_hashes(path: Path) -> None:
    decision = assess_files(path).decision
    texts = {a: render_markdown(decision, a).decode("utf-8")
             for a in ("executive", "architect", "audit")}
    for audience, text in texts.items():
        for value in (decision["assessment_id"], decision["input_sha256"],
                      decision["rulebase"]["sha256"]):
            assert f"`{value}`" in text, (audience, value)
        for block in tables(text):
            width = len(cells(block[0]))
            assert all(len(cells(row)) == width for row in block[2:]), (audience, block[0])
        if audience != "audit":
            assert not FLAG.findall(text), (audience, FLAG.findall(text))
    executive, architect, audit = texts["executive"], texts["architect"], texts["audit"]
    assert "## Blockers" in executive and "## Findings" not in executive
    assert "## Decision trace" not in executive
    assert len(executive) < len(architect) < len(audit)
    trace = next(b for b in tables(architect) if cells(b[0])[1].strip() == "Rule")
    assert len(trace) - 2 == len(decision["trace"]) and "Matched facts" not in trace[0]
    full = next(b for b in tables(audit) if cells(b[0])[1].strip() == "Rule")
    assert "Matched facts" in full[0]


def test_an_unknown_audience_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["assess", str(FILES[0]), "--format", "markdown",
                                      "--audience", "board", "--no-record"])
    assert result.exit_code == 2
    assert "'board' is not one of 'executive', 'architect', 'audit'" in result.output
    with pytest.raises(ValueError, match="audience must be one of"):
        render_markdown(assess_files(FILES[0]).decision, "board")


@pytest.mark.slow
def test_the_cli_writes_each_edition_of_the_pdf(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader

    pages = {}
    for audience in ("executive", "architect", "audit"):
        out = tmp_path / f"{audience}.pdf"
        result = CliRunner().invoke(cli, ["assess", str(EXAMPLES / "support-ticket-routing.yaml"),
                                          "--format", "pdf", "--audience", audience,
                                          "--out", str(out), "--no-record"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        reader = PdfReader(io.BytesIO(out.read_bytes()))
        pages[audience] = len(reader.pages)
        text = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
        assert ("matched facts" in text.lower()) == (audience == "audit"), audience
    assert pages["executive"] <= 2 < pages["architect"] <= pages["audit"]
