"""The team's web pages: reviews on the result page, a project's history, the portfolio, evidence
uploads in the questionnaire and accounts made by an admin - each checked against the library
function the command line uses (real audit log, real accounts store, the real app), on the
SQLite files and on PostgreSQL (MLADVISOR_DATABASE, the `database` fixture)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.audit import open_log
from engine.audit.review import blockers_of, reviews_of
from engine.errors import InputError
from engine.evidence.files import load_benchmarks, load_drift
from engine.projects.portfolio import portfolio, to_csv, to_json
from engine.team.accounts import AccountStore
from engine.web import Settings, create_app
from tests.test_web import VALID
from tests.test_web_team import PASSWORD, client_for, csrf_of, login, make_accounts, record_one

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "examples" / "evidence" / "ticket-benchmarks.csv"
DRIFT = ROOT / "examples" / "evidence" / "fraud-drift.json"


@pytest.fixture()
def server(database: str | None, home: Path) -> Iterator[dict[str, Any]]:
    make_accounts(home, "stakeholder", "architect", "compliance", "admin")
    record_id = record_one(home)
    app = create_app(Settings(home=home))
    clients = {}
    for role in ("stakeholder", "architect", "compliance", "admin"):
        clients[role] = client_for(app)
        assert login(clients[role], role).status_code == 303
    yield {"app": app, "home": home, "rid": record_id, "c": clients}
    app.state.web.assessor.close()


def _review(client: Any, rid: str, **data: str) -> Any:
    token = csrf_of(client, f"/assessments/{rid}")
    return client.post(f"/assessments/{rid}/reviews", data={"csrf_token": token, **data})


def _decision(home: Path, rid: str) -> dict[str, Any]:
    with open_log(home) as log:
        return log.get(rid).decision or {}


def test_architect_reviews_through_the_library_and_sees_the_sign_off(
        server: dict[str, Any]) -> None:
    architect, rid, home = server["c"]["architect"], server["rid"], server["home"]
    page = architect.get(f"/assessments/{rid}")
    assert 'action="/assessments/' in page.text and "not reviewed" in page.text
    done = _review(architect, rid, action="request-changes", comment="Measure the KPI first")
    assert done.status_code == 303
    with open_log(home) as log:
        reviews = reviews_of(log, rid)
    assert [(r.action, r.user, r.role, r.account) for r in reviews] == [
        ("request-changes", "architect", "architect", True)]
    shown = architect.get(f"/assessments/{rid}").text
    assert "Measure the KPI first" in shown and "changes requested" in shown
    # the stakeholder sees the sign-off but has no form; a post is refused
    seen = server["c"]["stakeholder"].get(f"/assessments/{rid}").text
    assert "Measure the KPI first" in seen and "Record the review" not in seen
    refused = server["c"]["stakeholder"].post(f"/assessments/{rid}/reviews", data={
        "csrf_token": csrf_of(server["c"]["stakeholder"], "/"), "action": "approve",
        "comment": "self-approval"})
    assert refused.status_code == 403
    with open_log(home) as log:
        assert len(reviews_of(log, rid)) == 1


def test_approving_blockers_needs_the_justification_the_library_asks_for(
        server: dict[str, Any]) -> None:
    architect, rid, home = server["c"]["architect"], server["rid"], server["home"]
    blockers = blockers_of(_decision(home, rid))
    assert blockers, "the recorded example must have blockers for this test"
    refused = _review(architect, rid, action="approve", comment="Go")
    assert refused.status_code == 422
    with open_log(home) as log:
        assert reviews_of(log, rid) == []
        from engine.audit.review import build_review

        with pytest.raises(InputError) as expected:
            build_review(log.get(rid).decision, "approve", "architect", "architect", "Go")
    shown = re.search(r'id="review-error">([^<]+)<', refused.text)
    assert shown is not None and shown.group(1) == str(expected.value).replace("'", "&#39;")
    assert ">Go</textarea>" in refused.text  # what was typed is kept
    done = _review(architect, rid, action="approve", comment="Go",
                   justification="Legal signed the data use")
    assert done.status_code == 303
    with open_log(home) as log:
        (review,) = reviews_of(log, rid)
    assert review.overridden == blockers and review.justification == "Legal signed the data use"
    html = architect.get(f"/assessments/{rid}/report.html").text
    assert "Legal signed the data use" in html  # the report's sign-off section


def test_local_mode_follows_the_cli_rule_for_the_reviewer(home: Path) -> None:
    rid = record_one(home)
    app = create_app(Settings(home=home))
    client = client_for(app)
    page = client.get(f"/assessments/{rid}")
    assert 'name="name"' in page.text  # no accounts: the reviewer names themself
    missing = _review(client, rid, action="comment", comment="Fine")
    assert missing.status_code == 422 and "--as" in missing.text
    assert _review(client, rid, action="comment", comment="Fine",
                   name="Ada Park").status_code == 303
    with open_log(home) as log:
        (review,) = reviews_of(log, rid)
    assert (review.user, review.role, review.account) == ("Ada Park", "architect", False)
    app.state.web.assessor.close()


def test_project_page_shows_milestones_changes_and_state(server: dict[str, Any]) -> None:
    stakeholder, rid = server["c"]["stakeholder"], server["rid"]
    form = stakeholder.get(f"/?from={rid}")
    assert 'name="project-id" value="team-project"' in form.text
    token = csrf_of(stakeholder, "/")
    again = stakeholder.post("/assess", data={
        "csrf_token": token, "project-id": "team-project", "project__name": "Renamed project",
        "project__respondent": "Tester", "business__problem_statement": "Route tickets",
        "business__objective_measurable": "yes", "business__kpi": "time to first response"})
    assert again.status_code == 303, again.text[:400]
    by_ref = stakeholder.get(f"/projects/{rid}")  # an assessment id leads to its project
    assert by_ref.status_code == 303 and by_ref.headers["location"] == "/projects/team-project"
    page = stakeholder.get("/projects/team-project")
    assert page.status_code == 200
    assert page.text.count('<tr>\n    <td>') == 2
    assert "answers changed" in page.text and "not reviewed" in page.text
    assert f'href="/?from={again.headers["location"].rsplit("/", 1)[1]}"' in page.text
    assert stakeholder.get("/projects/no-such-project").status_code == 404
    assert 'href="/projects/' in stakeholder.get("/assessments").text


def test_portfolio_page_and_downloads_are_the_library_rows(server: dict[str, Any]) -> None:
    compliance, home = server["c"]["compliance"], server["home"]
    with open_log(home) as log:
        rows = portfolio(log)
    page = compliance.get("/portfolio")
    assert page.status_code == 200 and "/projects/team-project" in page.text
    csv_file = compliance.get("/portfolio.csv")
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert csv_file.text.splitlines() == to_csv(rows).splitlines()
    data = compliance.get("/portfolio.json").json()
    expected = json.loads(to_json(rows))
    for row in data["projects"] + expected["projects"]:
        row.pop("age_days")
    assert data == expected


def test_evidence_upload_is_read_like_the_cli(server: dict[str, Any]) -> None:
    stakeholder, home = server["c"]["stakeholder"], server["home"]
    token = csrf_of(stakeholder, "/")
    assert 'enctype="multipart/form-data"' in stakeholder.get("/").text
    done = stakeholder.post("/assess", data={"csrf_token": token, **VALID}, files={
        "benchmarks": ("bench.csv", BENCHMARKS.read_bytes(), "text/csv"),
        "drift": ("drift.json", DRIFT.read_bytes(), "application/json")})
    assert done.status_code == 303, done.text[:500]
    rid = done.headers["location"].rsplit("/", 1)[1]
    with open_log(home) as log:
        recorded = log.get(rid).input or {}
    assert recorded["benchmarks"] == load_benchmarks(BENCHMARKS)
    assert recorded["drift"] == load_drift(DRIFT)


def test_bad_evidence_shows_the_cli_error_and_records_nothing(server: dict[str, Any],
                                                             tmp_path: Path) -> None:
    stakeholder, home = server["c"]["stakeholder"], server["home"]
    bad = b"candidate,rung,f1\nrules,no-such-rung,0.5\n"
    (tmp_path / "bench.csv").write_bytes(bad)
    with pytest.raises(InputError) as cli:
        load_benchmarks(tmp_path / "bench.csv")
    with open_log(home) as log:
        before = log.count()
    response = stakeholder.post("/assess", data={"csrf_token": csrf_of(stakeholder, "/"),
                                                 **VALID},
                                files={"benchmarks": ("bench.csv", bad, "text/csv")})
    assert response.status_code == 422
    assert str(cli.value).replace(str(tmp_path / "bench.csv"), "bench.csv") in response.text
    assert 'id="q-benchmarks-error"' in response.text
    not_json = stakeholder.post("/assess", data={"csrf_token": csrf_of(stakeholder, "/"),
                                                 **VALID},
                                files={"drift": ("drift.json", b"{nope", "application/json")})
    assert not_json.status_code == 422 and 'id="q-drift-error"' in not_json.text
    assert "drift.json" in not_json.text
    with open_log(home) as log:
        after = log.count()
    assert after == before


def test_upload_limit_is_raised_for_the_form_only(server: dict[str, Any]) -> None:
    stakeholder = server["c"]["stakeholder"]
    token = csrf_of(stakeholder, "/")
    big = b"candidate,rung\n" + b"x" * (300 * 1024)  # over 64 KiB, under 2 MB: read and refused
    within = stakeholder.post("/assess", data={"csrf_token": token, **VALID},
                              files={"benchmarks": ("big.csv", big, "text/csv")})
    assert within.status_code == 422 and 'id="q-benchmarks-error"' in within.text
    huge = b"x" * (2 * 1024 * 1024 + 1)
    over = stakeholder.post("/assess", data={"csrf_token": token, **VALID},
                            files={"benchmarks": ("huge.csv", huge, "text/csv")})
    assert over.status_code == 413
    elsewhere = stakeholder.post("/login", content=b"a=" + b"x" * (70 * 1024),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert elsewhere.status_code == 413


def test_admin_creates_an_account_and_sees_its_one_time_password_once(
        server: dict[str, Any]) -> None:
    admin, home = server["c"]["admin"], server["home"]
    token = csrf_of(admin, "/users")
    made = admin.post("/users", data={"csrf_token": token, "name": "ada", "role": "architect"})
    assert made.status_code == 200
    shown = re.search(r'class="one-time-password">([^<]+)<', made.text)
    assert shown is not None
    store = AccountStore(home)
    account = store.verify_password("ada", shown.group(1))
    store.close()
    assert account is not None and account.role == "architect" and account.must_change_password
    assert "one-time-password" not in admin.get("/users").text
    taken = admin.post("/users", data={"csrf_token": token, "name": "ada", "role": "admin"})
    assert taken.status_code == 422 and "a name no account has yet" in taken.text
    bad_role = admin.post("/users", data={"csrf_token": token, "name": "bo", "role": "boss"})
    assert bad_role.status_code == 422 and "one of stakeholder" in bad_role.text
    assert login(client_for(server["app"]), "architect", PASSWORD).status_code == 303


def test_reassessing_under_the_same_name_adds_no_project_id(server: dict[str, Any]) -> None:
    stakeholder, home = server["c"]["stakeholder"], server["home"]
    data = {"csrf_token": csrf_of(stakeholder, "/"), "project-id": "team-project",
            "project__name": "Team project", "project__respondent": "Tester",
            "business__problem_statement": "Route tickets"}
    done = stakeholder.post("/assess", data=data)
    assert done.status_code == 303
    with open_log(home) as log:
        answers = (log.get(done.headers["location"].rsplit("/", 1)[1]).input or {})["answers"]
    assert "id" not in answers["project"]  # the slug of the name already names the project
    page = stakeholder.get("/projects/team-project").text
    assert "no change" in page and "project.id" not in page
