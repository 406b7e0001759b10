"""Logins in headless Chromium: the SameSite=Strict cookie, the forced password change, the role
refusals and logout, as a person meets them, on a real uvicorn server, with the accounts and the
log in MLADVISOR_HOME and in PostgreSQL (`module_database`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.team.accounts import AccountStore
from tests.test_browser_web import fill_required, start_server
from tests.test_web_team import record_one

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory,
         module_database: str | None) -> Iterator[dict[str, Any]]:
    from engine.web import Settings

    home = tmp_path_factory.mktemp("team-home")
    store = AccountStore(home, database=module_database)
    _, one_time = store.add("sam", "stakeholder")
    store.add("carla", "compliance", "carla-password")
    store.close()
    record_one(home, module_database)
    srv, thread, url = start_server(Settings(home=home, database=module_database))
    yield {"url": url, "one_time": one_time, "home": home}
    srv.should_exit = True
    thread.join(10)


def log_in(page: Any, url: str, name: str, password: str) -> None:
    page.goto(url + "/")
    assert page.url.endswith("/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_stakeholder_logs_in_changes_the_password_and_assesses(
        browser: Any, team: dict[str, Any], shots: Path) -> None:
    page = browser.new_page()
    log_in(page, team["url"], "sam", team["one_time"])
    assert page.url.endswith("/password")
    page.screenshot(path=str(shots / "team-password.png"))
    page.get_by_label("Current password").fill(team["one_time"])
    page.get_by_label("New password (at least 8 characters)").fill("sams-own-words")
    page.get_by_label("New password again").fill("sams-own-words")
    page.get_by_role("button", name="Change the password").click()
    assert page.url == team["url"] + "/"
    assert "sam (stakeholder)" in page.locator("header").inner_text()
    fill_required(page)
    page.get_by_role("button", name="Assess the project").first.click()
    assert "/assessments/" in page.url
    page.goto(team["url"] + "/users")
    assert "may not manage accounts; only admin accounts may" in page.content()
    page.get_by_role("button", name="Log out").click()
    assert page.url.endswith("/login")
    page.goto(team["url"] + "/assessments")
    assert "/login?next=" in page.url
    page.close()


def test_compliance_reads_and_verifies_but_does_not_assess(browser: Any,
                                                           team: dict[str, Any],
                                                           shots: Path) -> None:
    page = browser.new_page()
    log_in(page, team["url"], "carla", "carla-password")
    assert page.url.endswith("/assessments")
    header = page.locator("header").inner_text()
    assert "carla (compliance)" in header and "New assessment" not in header
    page.get_by_role("link", name="Audit log").click()
    assert "The log verifies" in page.content()
    page.screenshot(path=str(shots / "team-verify.png"))
    response = page.goto(team["url"] + "/")
    assert response is not None and response.status == 403
    assert "only stakeholder accounts may" in page.content()
    page.close()
