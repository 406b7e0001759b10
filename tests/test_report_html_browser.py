"""The HTML report in headless Chromium at a phone's width (390 px) and a desktop's (1,280 px):
no sideways scrolling of the page, the width used on a desktop, the contents as links, the
verdict badge on one line. Screenshots go to $MLADVISOR_SCREENSHOTS when set, to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import engine.api as api
from engine.cli.assess import render
from engine.model.vocab import AUDIENCES
from tests.conftest import EXAMPLE_ANSWERS
from tests.test_report_examples import evidence_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 1280)
# The richest examples: benchmarks and charts, drift and bias, a long ladder.
SHOWN = [p for p in EXAMPLE_ANSWERS if p.stem in (
    "support-ticket-routing", "fraud-deployed", "camera-trap-edge")]



def _html(answers: Path, audience: str, tmp: Path) -> Path:
    assessment = api.assess_files(answers, benchmarks=evidence_for(answers, "bench"),
                                  drift=evidence_for(answers, "drift"))
    page = tmp / f"{answers.stem}-{audience}.html"
    page.write_bytes(render(assessment, "html", audience=audience))
    return page


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("MLADVISOR_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("answers", SHOWN, ids=[p.stem for p in SHOWN])
def test_the_report_fits_a_phone_and_uses_a_desktop(answers: Path, browser: Any,
                                                    tmp_path: Path) -> None:
    for audience in AUDIENCES:
        report = _html(answers, audience, tmp_path)
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            try:
                page.goto(report.as_uri())
                _shot(page, f"report-{answers.stem}-{audience}-{width}")
                scroll, inner = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll <= inner, f"{audience} at {width} px scrolls sideways"
                main = page.evaluate("document.querySelector('main').clientWidth")
                assert main >= (900 if width == 1280 else width - 2), (audience, width, main)
                badge = page.locator(".verdict-box .badge")
                box = badge.bounding_box()
                line = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                                     "'.verdict-box .badge')).lineHeight)")
                assert box is not None and box["height"] < 2 * line, "the verdict wrapped"
            finally:
                page.close()


def test_the_contents_are_links(browser: Any, tmp_path: Path) -> None:
    report = _html(SHOWN[0], "architect", tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(report.as_uri())
        links = page.locator(".toc a")
        assert links.count() >= 5
        style = page.evaluate("(() => { const s = getComputedStyle("
                              "document.querySelector('.toc a')); "
                              "return [s.textDecorationLine, s.color]; })()")
        assert style[0] == "underline" and style[1] != "rgb(31, 41, 51)"  # not the ink colour
        links.first.click()
        assert page.evaluate("location.hash") == "#ladder"
    finally:
        page.close()
