"""Every web page at a 390 px phone and a 1,280 px desktop in headless Chromium: no sideways
scrolling, the icon resolves, past-assessment dates stay on one line, filter and paging work
without JavaScript (issue 17). Screenshots go to $MLADVISOR_SCREENSHOTS when set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_ANSWERS
from tests.test_browser_web import fill_required, start_server
from tests.test_web_pages import fill

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"phone": 390, "desktop": 1280}
LONG = "Quarterly demand forecasting for the north-western distribution centres"
NAMES = [f"Queue triage {n}" for n in range(5)] + ["Fraud alerts", LONG, "Straße Prüfung"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    from engine.api import assess_files
    from engine.audit import open_log
    from engine.web import Settings

    home = tmp_path_factory.mktemp("pages-home")
    with open_log(home) as log:  # the bundled examples first: real strategies and service ids
        for answers in EXAMPLE_ANSWERS:
            log.append(assess_files(answers), None)
    ids = fill(home, NAMES)
    srv, thread, url = start_server(Settings(home=home, page_size=3))
    yield url, ids
    srv.should_exit = True
    thread.join(10)




def open_page(browser: Any, width: int, javascript: bool = False) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript,
                                  is_mobile=width < 600, has_touch=width < 600)
    return context, context.new_page()


def check_fits(page: Any, width: int, what: str) -> None:
    """No sideways scrolling, and on a desktop the content uses the width."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert inner == width and scroll <= inner, (what, scroll, inner)
    main = page.locator("main").bounding_box()
    assert main is not None
    if width >= 1280:
        assert main["width"] >= 1100, (what, main)  # no narrow print column on a desktop


def check_icon(page: Any, base: str) -> None:
    href = page.locator('link[rel="icon"]').get_attribute("href")
    response = page.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"].startswith(
        "image/svg+xml")
    assert page.request.get(base + "/favicon.ico").status == 200


def one_line_dates(page: Any) -> list[int]:
    """How many lines each date in the past-assessments table takes."""
    return list(page.evaluate("""() => [...document.querySelectorAll('table.past time')].map(
        t => { const r = document.createRange(); r.selectNodeContents(t);
               return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size; })"""))


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_every_page_fits_the_screen(browser: Any, site: tuple[str, list[str]], device: str,
                                    shots: Path) -> None:
    base, ids = site
    width = WIDTHS[device]
    context, page = open_page(browser, width)
    page.goto(base + "/")
    check_fits(page, width, "form")
    check_icon(page, base)
    page.screenshot(path=str(shots / f"pages-form-{device}.png"))
    page.get_by_role("button", name="Assess the project").click()  # nothing filled in
    assert page.get_by_role("alert").is_visible()
    check_fits(page, width, "form with errors")
    page.screenshot(path=str(shots / f"pages-form-errors-{device}.png"))

    page.goto(f"{base}/assessments/{ids[-2]}")
    check_fits(page, width, "result")
    assert page.get_by_role("heading", level=1).inner_text() == LONG
    page.screenshot(path=str(shots / f"pages-result-{device}.png"), full_page=True)

    page.goto(base + "/assessments")
    check_fits(page, width, "past assessments")
    assert one_line_dates(page) == [1, 1, 1]
    page.screenshot(path=str(shots / f"pages-past-{device}.png"), full_page=True)
    # the bundled examples: rungs and hyphenated service ids, verdict badges
    page.goto(base + "/assessments?q=proceed+with+conditions")
    check_fits(page, width, "examples")
    assert one_line_dates(page) == [1, 1, 1]
    assert page.locator("table.past .id").count() >= 4
    for n in range(page.locator("table.past .id, table.past .badge").count()):
        cell = page.locator("table.past .id, table.past .badge").nth(n)
        lines = cell.evaluate("""e => { const r = document.createRange();
            r.selectNodeContents(e);
            return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size; }""")
        assert lines == 1, cell.inner_text()  # "sagemaker-" / "jumpstart" would be 2
    page.screenshot(path=str(shots / f"pages-examples-{device}.png"), full_page=True)

    page.goto(base + "/no/such/page")
    check_fits(page, width, "not found")
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    check_icon(page, base)
    page.screenshot(path=str(shots / f"pages-404-{device}.png"))
    context.close()


def follow(page: Any, target: Any) -> None:
    """Click a link or button that loads another page, and wait for that page: reading the
    table right after the click could read the old page as it unloads (seen as [] in CI)."""
    with page.expect_navigation():
        target.click()


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_filter_and_paging_without_javascript(browser: Any, site: tuple[str, list[str]],
                                              device: str, shots: Path) -> None:
    base, ids = site
    width = WIDTHS[device]
    context, page = open_page(browser, width)
    page.goto(base + "/assessments")
    # (each project cell also links its project's history: not a project name)
    projects = page.locator("table.past td.project a:not(.history-link)")
    assert projects.all_inner_texts() == list(reversed(NAMES))[:3]
    # paging: older, older, then newer again; each page fits and keeps its dates on one line
    follow(page, page.get_by_role("link", name="Older"))
    assert projects.all_inner_texts() == list(reversed(NAMES))[3:6]
    follow(page, page.get_by_role("link", name="Older"))
    assert projects.all_inner_texts()[:2] == list(reversed(NAMES))[6:]
    check_fits(page, width, "third page")
    follow(page, page.get_by_role("link", name="Newer"))
    assert projects.all_inner_texts() == list(reversed(NAMES))[3:6]
    assert one_line_dates(page) == [1, 1, 1]
    # the filter: typed, submitted with Enter, kept while paging
    page.get_by_label("Filter by project, verdict or strategy").fill("queue TRIAGE")
    page.get_by_label("Filter by project, verdict or strategy").press("Enter")
    page.wait_for_url(re.compile(r"/assessments\?q=queue\+TRIAGE$"))
    assert projects.all_inner_texts() == [f"Queue triage {n}" for n in (4, 3, 2)]
    check_fits(page, width, "filtered")
    page.screenshot(path=str(shots / f"pages-filtered-{device}.png"), full_page=True)
    follow(page, page.get_by_role("link", name="Older"))
    assert projects.all_inner_texts() == ["Queue triage 1", "Queue triage 0"]
    assert page.get_by_role("link", name="Older").count() == 0  # the last matching page
    assert page.get_by_role("link", name="Newest").get_attribute("href") == (
        "/assessments?q=queue+TRIAGE")
    assert page.get_by_label("Filter by project, verdict or strategy").input_value() == (
        "queue TRIAGE")
    follow(page, page.get_by_role("link", name="Show all"))
    assert projects.count() == 3 and page.url == base + "/assessments"
    page.get_by_label("Filter by project, verdict or strategy").fill("straße")
    follow(page, page.get_by_role("button", name="Filter"))
    assert projects.all_inner_texts() == ["Straße Prüfung"]
    context.close()


def test_phone_form_to_result_fits(browser: Any, site: tuple[str, list[str]],
                                   shots: Path) -> None:
    """A real submission on a phone, with JavaScript on as a phone would have it."""
    base, _ = site
    context, page = open_page(browser, 390, javascript=True)
    page.goto(base + "/")
    fill_required(page, LONG)
    page.get_by_label("How many labelled examples exist?").fill("12000")
    page.get_by_role("button", name="Assess the project").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
    check_fits(page, 390, "fresh result")
    page.screenshot(path=str(shots / "pages-fresh-result-phone.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_token_page_fits_and_its_icon_needs_no_token(browser: Any, tmp_path: Path, device: str,
                                                     shots: Path) -> None:
    from engine.web import Settings

    srv, thread, url = start_server(Settings(home=tmp_path / "home", token="s3cret-token-1"))
    try:
        context, page = open_page(browser, WIDTHS[device])
        assert page.goto(url + "/assessments").status == 401
        check_fits(page, WIDTHS[device], "token page")
        check_icon(page, url)
        page.screenshot(path=str(shots / f"pages-token-{device}.png"))
        context.close()
    finally:
        srv.should_exit = True
        thread.join(10)
