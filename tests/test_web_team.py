"""The web server with accounts: login, sessions, API tokens, and every role against every page.

Real argon2id hashes in a real team.sqlite or a real PostgreSQL database (every test runs on
both), a real audit log with a recorded assessment, the real app through Starlette's TestClient.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.api import Sources, assess
from engine.audit import open_log
from engine.team.accounts import AccountStore
from engine.team.roles import ACTIONS, ROLES, allowed, refusal
from engine.web import Settings, create_app
from engine.web.app import PAGES, Page
from engine.web.team import LOGIN_COOKIE
from tests.test_web import VALID

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1"
PASSWORD = "team-password-1"
GUARDED = [p for p in PAGES if p.action is not None]
# Actions of the role table no web page does yet (the command line does them, for whoever can
# run it on the server); each page added for one is tested by the table test below at once.
NOT_ON_THE_WEB_YET: set[str] = set()
# Actions checked inside a page rather than by a page of their own (tested in test_web_review).
WITHIN_A_PAGE = {"upload-evidence"}


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def record_one(home: Path, database: str | None = None) -> str:
    answers = {"schema": "mladvisor.answers/1",
               "project": {"name": "Team project", "respondent": "Tester"},
               "business": {"problem_statement": "Route tickets"}}
    done = assess({"answers": answers, "benchmarks": None, "drift": None},
                  sources=Sources(answers="test"))
    with open_log(home, database=database) as log:
        return str(log.append(done, None))


def make_accounts(home: Path, *roles: str, must_change: bool = False,
                  database: str | None = None) -> None:
    store = AccountStore(home, database=database)
    for role in roles:
        store.add(role, role, None if must_change else PASSWORD)
    store.close()


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None, (path, page.status_code, page.text[:300])
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD, next: str = "",
          **kw: Any) -> Any:
    token = csrf_of(client, "/login")
    return client.post("/login", data={"csrf_token": token, "name": name,
                                       "password": password, "next": next},
                       follow_redirects=False, **kw)


def client_for(app: Any, **kw: Any) -> TestClient:
    return TestClient(app, base_url=BASE, follow_redirects=False, **kw)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory,
         module_database: str | None) -> Iterator[dict[str, Any]]:
    """One server with an account of each role, each logged in, and one recorded assessment."""
    home = tmp_path_factory.mktemp("team-home")
    make_accounts(home, *ROLES, database=module_database)
    record_id = record_one(home, module_database)
    app = create_app(Settings(home=home, database=module_database))
    clients = {}
    for role in ROLES:
        client = client_for(app)
        assert login(client, role).status_code == 303
        clients[role] = client
    yield {"home": home, "app": app, "clients": clients, "record_id": record_id}
    app.state.web.assessor.close()


# What each form other than the questionnaire is sent (a valid one: the allowed role succeeds).
FORMS: dict[str, dict[str, str]] = {
    "/assessments/{record_id}/reviews": {"action": "comment", "comment": "Looked at it"},
    "/users": {"name": "", "role": "architect"},  # replaced per request by a fresh name
}


def _request(client: TestClient, page: Page, record_id: str) -> Any:
    path = page.path.replace("{record_id}", record_id).replace("{project_id}", "team-project")
    if page.method == "GET":
        return client.get(path)
    token = csrf_of(client, "/password")  # a page every logged-in person may open
    data = dict(FORMS.get(page.path, VALID))
    if page.path == "/users":
        import uuid

        data["name"] = "user-" + uuid.uuid4().hex[:12]
    return client.post(path, data={"csrf_token": token, **data})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", GUARDED, ids=lambda p: f"{p.method} {p.path}")
def test_every_role_against_every_page(team: dict[str, Any], role: str, page: Page) -> None:
    response = _request(team["clients"][role], page, team["record_id"])
    if allowed(role, page.action or ""):
        assert response.status_code in (200, 303), (response.status_code, response.text[:300])
        if response.status_code == 303:  # an assessment, recorded and shown
            assert response.headers["location"].startswith("/assessments/")
    else:
        assert response.status_code == 403
        assert refusal(role, page.action or "").replace("'", "&#39;") in response.text
        assert "Traceback" not in response.text


def test_every_action_has_a_page_or_is_named_as_missing() -> None:
    on_the_web = {p.action for p in GUARDED} | WITHIN_A_PAGE
    assert on_the_web | NOT_ON_THE_WEB_YET == set(ACTIONS)
    assert not on_the_web & NOT_ON_THE_WEB_YET, "a page exists now: drop it from the list"


def test_header_names_the_person_and_offers_only_their_pages(team: dict[str, Any]) -> None:
    for role, client in team["clients"].items():
        text = client.get("/password").text
        assert f'{role} <span class="role">({role})</span>' in text
        assert 'action="/logout"' in text and ">Log out</button>" in text
        assert ('href="/"' in text and ">New assessment<" in text) == allowed(role, "assess")
        assert (">Accounts<" in text) == allowed(role, "manage-users")


def test_users_page_lists_accounts_for_the_admin(team: dict[str, Any]) -> None:
    page = team["clients"]["admin"].get("/users")
    assert page.status_code == 200
    for role in ROLES:
        assert f"<td>{role}</td><td>{role}</td><td>active</td>" in page.text


@pytest.fixture()
def server(home: Path, database: str | None) -> Iterator[dict[str, Any]]:
    """A fresh server with a stakeholder and an admin, and a clock it can be moved with."""
    make_accounts(home, "stakeholder", "admin")
    clock = Clock()
    app = create_app(Settings(home=home, clock=clock, session_idle=100.0,
                              login_failures=3, login_window=60.0))
    yield {"app": app, "clock": clock, "home": home}
    app.state.web.assessor.close()


def test_pages_need_a_login_and_come_back_after_it(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    record_id = record_one(server["home"])
    first = client.get(f"/assessments/{record_id}?audience=executive")
    assert first.status_code == 303
    target = first.headers["location"]
    assert target.startswith("/login?next=")
    assert client.get("/assessments").headers["location"].startswith("/login")
    assert client.post("/assess", data=VALID).status_code == 401
    form = client.get(target).text  # the login page keeps where the person was going
    kept = re.search(r'name="next" value="([^"]+)"', form)
    assert kept is not None
    back = login(client, "stakeholder", next=kept.group(1).replace("&amp;", "&"))
    assert back.status_code == 303
    assert back.headers["location"] == f"/assessments/{record_id}?audience=executive"
    assert client.get(back.headers["location"]).status_code == 200


def test_login_sets_a_strict_httponly_cookie(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    response = login(client, "stakeholder")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith(LOGIN_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    admin = client_for(server["app"])
    assert login(admin, "admin").headers["location"] == "/assessments"
    first = client.cookies[LOGIN_COOKIE]
    again = client.post("/login", data={"csrf_token": csrf_of(client, "/password"),
                                         "name": "admin", "password": PASSWORD})
    assert again.status_code == 303  # another login in the same browser
    assert client.cookies[LOGIN_COOKIE] != first
    assert client_for(server["app"], cookies={LOGIN_COOKIE: first}).get("/").status_code == 303


@pytest.mark.usefixtures("database")
def test_off_loopback_the_cookie_is_secure_and_no_token_is_needed(home: Path) -> None:
    make_accounts(home, "compliance")
    app = create_app(Settings(host="0.0.0.0", home=home))
    client = TestClient(app, base_url="https://team.example", follow_redirects=False)
    response = login(client, "compliance")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(LOGIN_COOKIE) and "Secure" in cookie
    assert client.get("/assessments").status_code == 200
    app.state.web.assessor.close()


def test_wrong_password_and_unknown_name_are_refused_alike(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    for name, password in (("stakeholder", "wrong-password"), ("nobody", PASSWORD),
                           ("Not A Name", PASSWORD)):
        response = login(client, name, password)
        assert response.status_code == 401
        assert "Wrong name or password" in response.text
        assert LOGIN_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_login_without_the_forms_token_is_refused(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    response = client.post("/login", data={"name": "stakeholder", "password": PASSWORD})
    assert response.status_code == 403 and LOGIN_COOKIE not in str(response.headers)


def test_wrong_passwords_are_rate_limited_per_address_and_account(server: dict[str, Any]
                                                                  ) -> None:
    app = server["app"]
    attacker = client_for(app, client=("192.0.2.1", 1000))
    for _ in range(3):
        assert login(attacker, "stakeholder", "wrong-password").status_code == 401
    locked = login(attacker, "stakeholder")  # even the right password now waits
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 60
    assert "Too many wrong passwords" in locked.text
    assert login(attacker, "admin").status_code == 429  # the address is locked out
    elsewhere = client_for(app, client=("198.51.100.7", 1000))
    assert login(elsewhere, "stakeholder").status_code == 429  # so is the account
    assert login(elsewhere, "admin").status_code == 303  # others are not


def test_expired_session_needs_a_new_login(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    login(client, "stakeholder")
    server["clock"].now += 99
    assert client.get("/").status_code == 200
    server["clock"].now += 99  # used 99 s ago: still alive
    assert client.get("/").status_code == 200
    server["clock"].now += 100
    response = client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_logout_needs_the_forms_token_and_ends_the_session(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    login(client, "stakeholder")
    session = client.cookies[LOGIN_COOKIE]
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200
    token = csrf_of(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/").status_code == 303
    replay = client_for(server["app"], cookies={LOGIN_COOKIE: session})
    assert replay.get("/").status_code == 303  # the old id is gone from the store


def test_api_token_for_scripts(server: dict[str, Any]) -> None:
    store = AccountStore(server["home"])
    token = store.issue_token("stakeholder")
    admin_token = store.issue_token("admin")
    store.close()
    script = client_for(server["app"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/assessments", headers=bearer).status_code == 200
    done = script.post("/assess", data=VALID, headers=bearer)  # no CSRF for a script
    assert done.status_code == 303 and done.headers["location"].startswith("/assessments/")
    pdf = script.get(done.headers["location"] + "/answers.yaml", headers=bearer)
    assert pdf.status_code == 200 and b"Ticket routing" in pdf.content
    admin = script.post("/assess", data=VALID, headers={"Authorization": f"Bearer {admin_token}"})
    assert admin.status_code == 403
    for wrong in ("Bearer mla_wrong", "Bearer ", "bearer " + token[:-1]):
        response = script.get("/assessments", headers={"Authorization": wrong})
        assert response.status_code == 401 and "API token is not valid" in response.text
    # another scheme (a reverse proxy's Basic) is left alone: the login decides
    basic = script.get("/assessments", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 303 and basic.headers["location"].startswith("/login")
    assert script.get("/assessments", headers=bearer).status_code == 429  # 3 wrong: wait


@pytest.mark.usefixtures("database")
def test_forced_password_change_at_first_login(home: Path) -> None:
    store = AccountStore(home)
    _, one_time = store.add("sam", "stakeholder")
    store.close()
    app = create_app(Settings(home=home))
    client = client_for(app)
    response = login(client, "sam", one_time or "")
    assert response.status_code == 303 and response.headers["location"] == "/password"
    assert client.get("/").headers["location"] == "/password"
    assert client.post("/assess", data=VALID).status_code == 403
    page = client.get("/password")
    assert page.status_code == 200 and "one-time password" in page.text
    token = csrf_of(client, "/password")

    def change(current: str, new: str, repeat: str | None = None) -> Any:
        return client.post("/password", data={"csrf_token": token, "current": current,
                                              "new": new, "repeat": repeat or new})

    assert "current password is wrong" in change("not-it-at-all", "my-own-words").text
    assert "differ" in change(one_time or "", "my-own-words", "my-own-wordz").text
    assert "not the current" in change(one_time or "", one_time or "").text
    short = change(one_time or "", "short")
    assert short.status_code == 422 and "8 to 1024 characters" in short.text
    done = change(one_time or "", "my-own-words")
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.get("/").status_code == 200
    again = client_for(app)
    assert login(again, "sam", one_time or "").status_code == 401
    assert login(again, "sam", "my-own-words").headers["location"] == "/"
    app.state.web.assessor.close()


def test_disabling_or_re_roling_applies_to_the_next_request(server: dict[str, Any]) -> None:
    client = client_for(server["app"])
    login(client, "stakeholder")
    assert client.get("/").status_code == 200
    store = AccountStore(server["home"])
    store.set_role("stakeholder", "architect")
    assert client.get("/").status_code == 403
    store.disable("stakeholder")
    store.close()
    assert client.get("/assessments").status_code == 303


@pytest.mark.usefixtures("database")
def test_without_accounts_the_local_mode_is_unchanged(home: Path) -> None:
    app = create_app(Settings(home=home))
    client = client_for(app)
    page = client.get("/")
    assert page.status_code == 200 and ">Log out<" not in page.text
    assert ">Accounts<" not in page.text
    assert client.get("/login").status_code == 404
    assert client.post("/assess", data={"csrf_token": csrf_of(client, "/"), **VALID}
                       ).status_code == 303
    with pytest.raises(ValueError, match="access token or accounts"):
        create_app(Settings(host="0.0.0.0", home=home))
    make_accounts(home, "architect")  # the first account: logins from the next request on
    assert client.get("/").headers["location"] == "/login"
    app.state.web.assessor.close()


def test_compliance_verifies_and_exports_the_log(server: dict[str, Any],
                                                 database: str | None) -> None:
    from tests.pgdb import tamper_log

    home = server["home"]
    make_accounts(home, "compliance")
    client = client_for(server["app"])
    login(client, "compliance")
    empty = client.get("/audit/verify")
    assert empty.status_code == 200 and "There is no audit log yet" in empty.text
    assert client.get("/audit/export.jsonl").status_code == 404
    open_log(home).close()  # a log with no records yet
    assert "The log verifies" in client.get("/audit/verify").text
    ids = [record_one(home) for _ in range(3)]
    good = client.get("/audit/verify")
    assert "The log verifies" in good.text and "3 records" in good.text
    export = client.get("/audit/export.jsonl")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    lines = export.text.splitlines()
    assert [json.loads(line)["record"]["record_id"] for line in lines] == ids
    assert all("entry_hash" in json.loads(line) for line in lines)
    tamper_log(home, database, "UPDATE records SET time = ? WHERE seq = 2",
               ("2020-01-01T00:00:00.000000Z",))
    bad = client.get("/audit/verify")
    assert bad.status_code == 200 and "The log does not verify" in bad.text
    assert "record 2" in bad.text or "seq 2" in bad.text or ids[1] in bad.text


@pytest.mark.usefixtures("database")
def test_password_checks_run_two_at_a_time(home: Path) -> None:
    """A burst of logins queues for the argon2id slots (64 MiB each) instead of running all
    at once in the thread pool."""
    import threading

    import httpx

    from tests.test_browser_web import start_server

    make_accounts(home, "stakeholder")
    srv, thread, url = start_server(Settings(home=home, login_failures=100))
    web = _web_of(srv)
    original = web.team.store.verify_password
    running, most = [0], [0]
    lock = threading.Lock()

    def counted(*args: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return original(*args)
        finally:
            with lock:
                running[0] -= 1

    web.team.store.verify_password = counted  # type: ignore[method-assign]
    statuses: list[int] = []

    def one() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token is not None
            response = client.post("/login", data={"csrf_token": token.group(1),
                                                   "name": "stakeholder",
                                                   "password": PASSWORD})
            with lock:
                statuses.append(response.status_code)

    try:
        workers = [threading.Thread(target=one) for _ in range(6)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(300)
    finally:
        srv.should_exit = True
        thread.join(10)
        web.assessor.close()
    assert statuses == [303] * 6
    assert most[0] == 2


def _web_of(srv: Any) -> Any:
    """The WebApp inside a uvicorn server's app (uvicorn may wrap the ASGI app)."""
    app = srv.config.app
    while not hasattr(app, "state") and hasattr(app, "app"):
        app = app.app
    return app.state.web
