"""Issue 16's done-when, in headless Chromium, run twice: on a real uvicorn server with the SQLite
accounts store and audit log in MLADVISOR_HOME, and on `mladvisor serve --database URL` (its own
process) with both in a throwaway PostgreSQL database. An admin creates three accounts; the
stakeholder assesses with a benchmark file; the architect requests changes; the stakeholder
assesses again; the architect approves (with the justification the blockers need); compliance
verifies the log and downloads the PDF, whose sign-off section names the reviews; each role is
refused what it may not do."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.audit import open_log
from engine.audit.review import reviews_of
from engine.evidence.files import load_benchmarks
from engine.team.accounts import AccountStore
from tests.serve_process import serving
from tests.test_browser_team import log_in
from tests.test_browser_web import fill_required, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "examples" / "evidence" / "ticket-benchmarks.csv"
PEOPLE = {"sam": "stakeholder", "ada": "architect", "carla": "compliance"}


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory,
         module_database: str | None) -> Iterator[dict[str, Any]]:
    from engine.web import Settings

    home = tmp_path_factory.mktemp("flow-home")
    store = AccountStore(home, database=module_database)
    store.add("root", "admin", "root-password")  # the first account: `mladvisor users add`
    store.close()
    if module_database is not None:
        with serving(home, "--database", module_database) as url:
            yield {"url": url, "home": home, "database": module_database}
        return
    srv, thread, url = start_server(Settings(home=home))
    yield {"url": url, "home": home, "database": None}
    srv.should_exit = True
    thread.join(10)


def status_of(page: Any, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return int(response.status)


def first_login(page: Any, url: str, name: str, one_time: str) -> None:
    log_in(page, url, name, one_time)
    assert page.url.endswith("/password")
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password (at least 8 characters)").fill(f"{name}-own-words")
    page.get_by_label("New password again").fill(f"{name}-own-words")
    page.get_by_role("button", name="Change the password").click()
    assert f"{name} ({PEOPLE[name]})" in page.locator("header").inner_text()


def review(page: Any, action: str, comment: str, justification: str = "") -> None:
    form = page.locator("form.review-form")
    form.get_by_label(action, exact=True).check()
    form.get_by_label("Comment", exact=True).fill(comment)
    if justification:
        form.get_by_label(re.compile("^Justification")).fill(justification)
    form.get_by_role("button", name="Record the review").click()


def test_the_whole_team_flow(browser: Any, team: dict[str, Any], shots: Path) -> None:
    url, home, database = team["url"], team["home"], team["database"]
    pages = {}

    # the admin creates three accounts and sees each one-time password once
    admin = pages["admin"] = browser.new_context().new_page()
    log_in(admin, url, "root", "root-password")
    admin.get_by_role("link", name="Accounts").click()
    one_time = {}
    for name, role in PEOPLE.items():
        admin.get_by_label("Account name").fill(name)
        admin.get_by_label("Role").select_option(role)
        admin.get_by_role("button", name="Add the account").click()
        one_time[name] = admin.locator(".one-time-password").inner_text().strip()
        assert f"<td>{name}</td><td>{role}</td><td>must change password</td>" in \
            admin.content()
    admin.screenshot(path=str(shots / "flow-users.png"), full_page=True)
    for name in PEOPLE:
        pages[name] = browser.new_context().new_page()
        first_login(pages[name], url, name, one_time[name])

    # the stakeholder assesses with a benchmark file
    sam = pages["sam"]
    sam.goto(url + "/")
    fill_required(sam)
    sam.get_by_label("Benchmark results (CSV or JSON)").set_input_files(str(BENCHMARKS))
    sam.get_by_role("button", name="Assess the project").first.click()
    assert re.search(r"/assessments/[0-9a-f-]+$", sam.url), sam.url
    first = sam.url.rsplit("/", 1)[1]
    with open_log(home, database=database) as log:
        assert (log.get(first).input or {})["benchmarks"] == load_benchmarks(BENCHMARKS)
    assert "Record the review" not in sam.content()

    # the architect requests changes
    ada = pages["ada"]
    ada.goto(f"{url}/assessments/{first}")
    review(ada, "Request changes", "Measure the KPI before we decide")
    assert "changes requested" in ada.locator("#review-state").inner_text()

    # the stakeholder sees it and assesses again from the same answers (same project)
    sam.goto(f"{url}/assessments/{first}")
    assert "Measure the KPI before we decide" in sam.locator("#sign-off").inner_text()
    sam.get_by_role("link", name="Change the answers and assess again").click()
    assert sam.get_by_label("What is the project called?").input_value() == "Ticket routing"
    sam.get_by_label("Where is the project today?").select_option("experimentation")
    sam.get_by_role("button", name="Assess the project").first.click()
    second = sam.url.rsplit("/", 1)[1]
    assert second != first
    sam.get_by_role("link", name="history").first.click()
    assert sam.url.endswith("/projects/ticket-routing")
    assert "re-assessed, awaiting review" in sam.locator("#review-state").inner_text()
    assert sam.locator("table.milestones tbody tr").count() == 2
    changed = sam.locator("table.milestones").inner_text()
    assert "1 answer changed: project.stage" in changed  # the diff's line, and only that
    sam.screenshot(path=str(shots / "flow-project.png"), full_page=True)

    # the architect approves: the blockers need a justification, the library says so first
    ada.goto(f"{url}/projects/ticket-routing")
    ada.get_by_role("link", name="Open the latest assessment").click()
    assert ada.url.endswith(second)
    review(ada, "Approve", "Go ahead")
    assert "needs a written justification" in ada.locator("#review-error").inner_text()
    review(ada, "Approve", "Go ahead", "The sponsor accepts the data risk until March")
    assert "approved" in ada.locator("#review-state").inner_text()
    ada.screenshot(path=str(shots / "flow-approved.png"), full_page=True)
    with open_log(home, database=database) as log:
        assert [r.action for r in reviews_of(log, first)] == ["request-changes"]
        assert [(r.action, r.user, r.role) for r in reviews_of(log, second)] == [
            ("approve", "ada", "architect")]

    # compliance verifies the log and downloads the PDF with the sign-off
    carla = pages["carla"]
    carla.get_by_role("link", name="Audit log").click()
    assert "The log verifies" in carla.content()
    carla.get_by_role("link", name="Portfolio").click()
    assert "approved (ada)" in carla.locator("table.portfolio").inner_text()
    carla.goto(f"{url}/assessments/{second}")
    with carla.expect_download() as info:
        carla.get_by_role("link", name="Download the PDF report").click()
    from pypdf import PdfReader

    pdf = Path(info.value.path()).read_bytes()
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
                    .split())
    assert "Sign-off" in text and "ada" in text
    assert "The sponsor accepts the data risk until March" in text

    # each role is refused what it may not do
    refused = {"sam": ["/users", "/audit/verify", "/audit/export.jsonl"],
               "ada": ["/", "/users", "/audit/verify"],
               "carla": ["/", "/users"],
               "admin": ["/", "/audit/verify", "/audit/export.jsonl"]}
    for who, paths in refused.items():
        for path in paths:
            assert status_of(pages[who], url + path) == 403, (who, path)
            assert "may not" in pages[who].content()
    for who in ("sam", "carla", "admin"):  # only architects review, even without the form
        page = pages[who]
        page.goto(f"{url}/assessments/{second}")
        assert page.locator("form.review-form").count() == 0
        token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
        response = page.request.post(f"{url}/assessments/{second}/reviews", form={
            "csrf_token": token or "", "action": "approve", "comment": "me too"})
        assert response.status == 403, who
    with open_log(home, database=database) as log:
        assert len(reviews_of(log, second)) == 1
    for page in pages.values():
        page.context.close()
