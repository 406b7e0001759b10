"""A person's path through the web questionnaire in headless Chromium (Debian's, via Playwright).

A real uvicorn server on a free loopback port serves the app; screenshots go to tmp_path, or to
$MLADVISOR_SCREENSHOTS when set, so they can be looked at.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from engine.audit import open_log

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    from engine.web import Settings

    srv, thread, url = start_server(Settings(home=home))
    yield url
    srv.should_exit = True
    thread.join(10)


def start_server(settings: Any) -> tuple[Any, threading.Thread, str]:
    """The app as `mladvisor serve` runs it: its socket binding and connection limits."""
    from engine.web import create_app
    from engine.web.server import bind, server

    sock = bind("127.0.0.1", 0)
    srv = server(create_app(settings))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive(), "server thread ended before it started serving"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return srv, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"




def fill_required(page: Any, name: str = "Ticket routing") -> None:
    page.get_by_label("What is the project called?").fill(name)
    page.get_by_label("Who is answering (name and role)?").fill("Dana Lee, Support Ops")
    page.get_by_label("Which business problem should this solve?").fill(
        "Route incoming tickets to the right team")


def fill_form(page: Any) -> None:
    fill_required(page)
    page.get_by_label("Where is the project today?").select_option("experimentation")
    group = page.get_by_role("group", name="Is there a measurable business objective (a KPI)?")
    group.get_by_label("Yes", exact=True).check()
    page.get_by_label("Which KPI should the project move?").fill("median time to first response")
    page.get_by_role("group", name="Do the stakeholders agree on the goal and on how success "
                     "is judged?").get_by_label("Yes", exact=True).check()
    first = page.get_by_role("group", name="Criterion 1")
    first.get_by_label("Metric").fill("f1_macro")
    first.get_by_label("Threshold").fill("0.85")
    second = page.get_by_role("group", name="Criterion 2")
    second.get_by_label("Metric").fill("latency_p95_ms")
    second.get_by_label("Threshold").fill("500")
    second.get_by_label("Goal").select_option("at-most")
    page.get_by_label("What kind of task is it?").select_option("text-classification")
    page.get_by_label("How specialised is the domain's language or imagery?").select_option(
        "specialized")
    for question in ("Does relevant data exist that the project may use?",
                     "Are the data sources identified and is access arranged?",
                     "Are the model's inputs, outputs and evaluation metrics defined?"):
        page.get_by_role("group", name=question).get_by_label("Yes", exact=True).check()
    page.get_by_label("How many labelled examples exist?").fill("12000")
    page.get_by_label("How good is the data?").select_option("good")
    page.get_by_label("How much ML experience does the team have?").select_option("basic")
    page.get_by_label("Which attributes should be checked for bias?").fill("region, age band")


def test_fill_submit_see_verdict_and_download_pdf_without_javascript(
        browser: Any, server: str, home: Path, shots: Path, tmp_path: Path) -> None:
    context = browser.new_context(java_script_enabled=False, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    assert page.title() == "Assess an ML project · mladvisor"
    fill_form(page)
    page.screenshot(path=str(shots / "form-desktop.png"), full_page=True)
    page.get_by_role("button", name="Assess the project").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
    heading = page.get_by_role("heading", name=re.compile(r"^Verdict: "))
    expect(heading).to_be_visible()
    record_id = page.url.rsplit("/", 1)[1]
    with open_log(home) as log:
        decision = log.get(record_id).decision
    label = decision["verdict"].replace("-", " ")
    assert heading.inner_text() == f"Verdict: {label[0].upper() + label[1:]}"
    assert decision["strategy"], "these answers lead to a strategy; the page check needs one"
    assert decision["strategy"]["rung"] in page.locator(".strategy").inner_text()
    frame = page.frame_locator("iframe.report-frame")
    assert "Ticket routing" in frame.locator("body").inner_text(timeout=15000)
    page.screenshot(path=str(shots / "result-desktop.png"), full_page=True)

    with page.expect_download(timeout=60000) as info:
        page.get_by_role("link", name="Download the PDF report").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == f"mladvisor-ticket-routing-{record_id[:8]}.pdf"
    assert target.read_bytes().startswith(b"%PDF-") and target.stat().st_size > 10_000

    page.get_by_role("link", name="Past assessments").first.click()
    page.wait_for_url(re.compile(r"/assessments$"))
    row = page.get_by_role("row", name=re.compile("Ticket routing"))
    expect(row.first).to_be_visible()  # waits: count() would not, and flaked in CI
    page.screenshot(path=str(shots / "past-desktop.png"), full_page=True)
    context.close()


def test_invalid_form_shows_the_messages(browser: Any, server: str, shots: Path) -> None:
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    page.get_by_label("Who is answering (name and role)?").fill("Dana Lee")
    page.get_by_label("How many labelled examples exist?").fill("-5")
    page.get_by_role("group", name="Criterion 1").get_by_label("Metric").fill("F1 score")
    page.get_by_role("group", name="Criterion 1").get_by_label("Threshold").fill("0.9")
    page.get_by_role("button", name="Assess the project").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    text = summary.inner_text()
    assert "4 answers need attention" in text
    assert "What is the project called? An answer is required" in text
    assert "How many labelled examples exist? Must be 0 or more (you entered -5)" in text
    name = page.get_by_label("What is the project called?")
    assert name.get_attribute("aria-invalid") == "true"
    # the message is announced with the field (aria-describedby)
    assert "An answer is required" in page.locator("#q-project__name-error").inner_text()
    assert page.get_by_label("Who is answering (name and role)?").input_value() == "Dana Lee"
    page.screenshot(path=str(shots / "form-errors.png"), full_page=False)
    summary.get_by_role("link", name=re.compile("labelled examples")).click()
    assert page.url.endswith("#q-data__labeled_examples")
    box = page.locator("#q-data__labeled_examples").bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    context.close()


def test_keyboard_focus_is_visible_and_reaches_the_form(browser: Any, server: str,
                                                        shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to the content"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement;
            const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, style: s.outlineStyle,
                    width: parseFloat(s.outlineWidth)}; }""")
        seen.append(info)
        assert info["style"] != "none" and info["width"] >= 2, info
    ids = [s["id"] for s in seen]
    assert "q-project__name" in ids  # tabbing reaches the first question
    page.screenshot(path=str(shots / "focus.png"))
    # the radio groups work from the keyboard: focus, arrow, the choice is checked
    page.locator("#q-business__objective_measurable").focus()
    page.keyboard.press("Space")
    assert page.locator("#q-business__objective_measurable").is_checked()
    context.close()


def _contrast(page: Any, selector: str) -> float:
    return page.evaluate("""(sel) => {
        const e = document.querySelector(sel);
        const lum = (c) => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(x => {
            x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
            return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
        let bgEl = e, bg = 'rgba(0, 0, 0, 0)';
        while (bgEl && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
            bg = getComputedStyle(bgEl).backgroundColor; bgEl = bgEl.parentElement; }
        if (bg === 'rgba(0, 0, 0, 0)') bg = 'rgb(255, 255, 255)';
        const a = lum(getComputedStyle(e).color), b = lum(bg);
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); }""", selector)


def test_text_has_sensible_contrast(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/")
    for selector in ("h1", ".help", ".default", ".intro", ".step", ".site-nav a",
                     "button.primary", ".required"):
        assert _contrast(page, selector) >= 4.5, selector
    page.get_by_role("button", name="Assess the project").click()
    assert _contrast(page, ".error-text") >= 4.5
    assert _contrast(page, ".error-summary a") >= 4.5
    context.close()


def test_phone_width_has_no_sideways_scrolling(browser: Any, server: str, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "/")

    def overflow() -> int:
        return int(page.evaluate("document.documentElement.scrollWidth"))

    assert overflow() <= 390
    page.screenshot(path=str(shots / "form-phone.png"), full_page=False)
    fill_required(page, HOSTILE)
    page.get_by_label("How many labelled examples exist?").fill("0")
    page.get_by_role("button", name="Assess the project").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
    assert overflow() <= 390
    frame = page.frame_locator("iframe.report-frame")
    assert "ML project assessment".lower() in frame.locator("body").inner_text(
        timeout=15000).lower()
    page.screenshot(path=str(shots / "result-phone.png"))
    # Chromium leaves iframes blank in full-page captures: scroll to the report and capture it
    page.locator("iframe.report-frame").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "result-phone-report.png"))
    page.get_by_role("link", name="Open the full report on its own page").click()
    page.wait_for_url(re.compile(r"/report\.html$"))
    assert HOSTILE in page.locator("h1").first.inner_text()
    page.screenshot(path=str(shots / "report-phone.png"), full_page=False)
    page.goto(server + "/assessments")
    assert overflow() <= 390
    page.screenshot(path=str(shots / "past-phone.png"), full_page=False)
    context.close()


def test_hostile_text_is_shown_not_run(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/")
    fill_required(page, HOSTILE)
    page.get_by_role("button", name="Assess the project").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == HOSTILE
    frame = page.frame_locator("iframe.report-frame")
    assert HOSTILE in frame.locator("body").inner_text(timeout=15000)
    page.goto(server + "/assessments")
    expect(page.get_by_role("link", name=HOSTILE).first).to_be_visible()
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert dialogs == []
    context.close()


def test_access_token_link_opens_a_session(browser: Any, tmp_path: Path, shots: Path) -> None:
    from engine.web import Settings

    srv, thread, url = start_server(Settings(home=tmp_path / "home", token="s3cret-token-1"))
    try:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        refused = page.goto(url + "/")
        assert refused is not None and refused.status == 401
        page.get_by_label("Access token").fill("wrong-token")
        page.get_by_role("button", name="Continue").click()
        assert page.get_by_role("alert").inner_text() == "That access token is not valid."
        page.screenshot(path=str(shots / "token.png"))
        page.goto(url + "/?token=s3cret-token-1")
        assert page.url == url + "/"  # the token does not stay in the address bar
        fill_required(page)
        page.get_by_role("button", name="Assess the project").click()
        page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]+$"))
        expect(page.get_by_role("heading", name=re.compile(r"^Verdict: "))).to_be_visible()
        context.close()
    finally:
        srv.should_exit = True
        thread.join(10)


def test_token_link_never_leads_the_browser_off_site(browser: Any, tmp_path: Path) -> None:
    """Chromium reads `//host` and `/\\host` in a Location header as another site."""
    from engine.web import Settings

    srv, thread, url = start_server(Settings(home=tmp_path / "home", token="s3cret-token-1"))
    try:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        for path in ("//evil.example/x", "/%2F%2Fevil.example/x", "/\\evil.example/x",
                     "/%5Cevil.example/x"):
            context.clear_cookies()
            try:
                page.goto(url + path + "?token=s3cret-token-1&from=a%26b%3Dc")
            except Exception:  # noqa: BLE001 - an off-site hop fails to load here: same verdict
                pass
            assert page.url.startswith(url + "/"), (path, page.url)
        context.close()
    finally:
        srv.should_exit = True
        thread.join(10)
