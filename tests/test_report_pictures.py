"""The bundled examples' PDF reports, looked at as a reader would: every edition (executive,
architect, audit) has no nearly empty page but the last, no identifier cut mid-token, the
verdict on one line, no command-line flag in the sponsor's or the architect's text, and names
in other scripts drawn with real glyphs (issue 17)."""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

import engine.api as api
from engine.cli.assess import render
from engine.model.vocab import AUDIENCES
from tests.conftest import EXAMPLE_ANSWERS
from tests.pdf_look import missing_glyphs, page_fills, split_identifiers, text_lines
from tests.test_report_examples import evidence_for

pytestmark = pytest.mark.slow

MIN_FILL = 1 / 3
IDENTIFIER = re.compile(r"^[A-Za-z0-9]+(?:[_.\-/][A-Za-z0-9]+)+$")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@cache
def _assessment(answers: Path) -> Any:
    return api.assess_files(answers, benchmarks=evidence_for(answers, "bench"),
                            drift=evidence_for(answers, "drift"))


@cache
def _pdf(answers: Path, audience: str) -> bytes:
    return render(_assessment(answers), "pdf", audience=audience)


def identifiers(value: Any) -> set[str]:
    """Every id-like string of a decision (rule, guidance, service, answer path, metric,
    candidate), keys included."""
    found: set[str] = set()
    if isinstance(value, str):
        if 8 <= len(value) <= 80 and IDENTIFIER.match(value):
            found.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= identifiers(key) | identifiers(item)
    elif isinstance(value, list):
        for item in value:
            found |= identifiers(item)
    return found


@pytest.mark.parametrize("answers", EXAMPLE_ANSWERS, ids=[p.stem for p in EXAMPLE_ANSWERS])
def test_no_page_is_left_nearly_empty(answers: Path) -> None:
    for audience in AUDIENCES:
        fills = page_fills(_pdf(answers, audience))
        low = [f"page {n} is {fill:.0%} full" for n, fill in enumerate(fills[:-1], 1)
               if fill < MIN_FILL]
        assert not low, f"{answers.stem} ({audience}): {low}"


@pytest.mark.parametrize("answers", EXAMPLE_ANSWERS, ids=[p.stem for p in EXAMPLE_ANSWERS])
def test_identifiers_break_only_at_separators(answers: Path) -> None:
    ids = identifiers(_assessment(answers).decision)
    assert len(ids) > 20, "the decision should carry rule, service and answer ids"
    for audience in ("architect", "audit"):
        lines = text_lines(_pdf(answers, audience))
        whole = sum(1 for i in ids if any(i in line for line in lines))
        assert whole > 10, f"{answers.stem} ({audience}): ids not found in the text at all"
        assert split_identifiers(lines, ids) == [], f"{answers.stem} ({audience})"


@pytest.mark.parametrize("answers", EXAMPLE_ANSWERS, ids=[p.stem for p in EXAMPLE_ANSWERS])
def test_the_verdict_reads_on_one_line_and_no_flag_is_shown(answers: Path) -> None:
    from engine.report.context import VERDICT_LABELS

    label = VERDICT_LABELS[_assessment(answers).decision["verdict"]]
    for audience in AUDIENCES:
        pdf = _pdf(answers, audience)
        first_page = text_lines(pdf, 1, 1)
        assert any(label in line for line in first_page), (answers.stem, audience, label)
        if audience != "audit":  # the audit trace may quote anything an answer said
            text = "\n".join(text_lines(pdf))
            assert not FLAG.findall(text), (answers.stem, audience, FLAG.findall(text))


@pytest.mark.parametrize("answers", EXAMPLE_ANSWERS[:3], ids=[p.stem for p in
                                                              EXAMPLE_ANSWERS[:3]])
def test_every_edition_carries_the_same_decision_and_hashes(answers: Path) -> None:
    assessment = _assessment(answers)
    decision = assessment.decision
    pages = {}
    for audience in AUDIENCES:
        reader = PdfReader(io.BytesIO(_pdf(answers, audience)))
        (attached,) = reader.attachments["decision.json"]
        assert attached == assessment.decision_json, audience
        text = " ".join(" ".join(text_lines(_pdf(answers, audience))).split())
        for value in (decision["assessment_id"], decision["input_sha256"],
                      decision["rulebase"]["sha256"]):
            assert value in text, (audience, value)
        pages[audience] = len(reader.pages)
    assert pages["executive"] <= 2 < pages["architect"] <= pages["audit"]


NAMES = {
    "japanese": "顧客レビューの感情分析",
    "chinese": "客户评论情感分析",
    "korean": "고객 리뷰 감성 분석",
    "arabic": "تحليل مشاعر المراجعات",
    "hebrew": "ניתוח סנטימנט של ביקורות",
}


def _named(name: str, tmp_path: Path) -> bytes:
    example = next(p for p in EXAMPLE_ANSWERS if p.stem == "review-sentiment")
    doc = yaml.safe_load(example.read_text(encoding="utf-8"))
    doc["project"]["name"] = name
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return render(api.assess_files(answers), "pdf", audience="executive")


@pytest.mark.parametrize("script", list(NAMES))
def test_names_in_other_scripts_are_drawn(script: str, tmp_path: Path) -> None:
    pdf = _named(NAMES[script], tmp_path)
    assert missing_glyphs(pdf) == set()
    first = " ".join(text_lines(pdf, 1, 1))
    assert all(word in first for word in NAMES[script].split())


def test_the_empty_box_check_sees_characters_no_font_has(tmp_path: Path) -> None:
    """The check above can fail: private-use characters have no glyph in any font."""
    assert missing_glyphs(_named("Projekt \U000F0001\U000F0002", tmp_path)) == {
        "\U000F0001", "\U000F0002"}
