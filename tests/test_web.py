"""The web app through Starlette's TestClient: form, validation, CSRF, limits, escaping, token."""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.api import assess
from engine.audit import open_log
from engine.audit.record import RecordSummary
from engine.model.answers import parse_answers
from engine.questionnaire.fields import fields
from engine.web import Settings, create_app

with warnings.catch_warnings():  # starlette warns that its client will move to httpx2
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1"
HOSTILE = "<script>alert(1)</script>"

VALID = {
    "project__name": "Ticket routing",
    "project__respondent": "Dana Lee, Support Ops",
    "project__stage": "experimentation",
    "business__problem_statement": "Route incoming tickets to the right team",
    "business__objective_measurable": "yes",
    "business__kpi": "median time to first response",
    "business__stakeholders_aligned": "yes",
    "business__expected_value_usd_per_month": "20000",
    "business__budget_usd_per_month": "3000",
    "business__success_criteria-0-metric": "f1_macro",
    "business__success_criteria-0-threshold": "0.85",
    "business__success_criteria-0-goal": "at-least",
    "business__success_criteria-1-metric": "",
    "business__success_criteria-1-threshold": "",
    "business__success_criteria-1-goal": "at-least",
    "business__success_criteria-2-metric": "latency_p95_ms",
    "business__success_criteria-2-threshold": "500",
    "business__success_criteria-2-goal": "at-most",
    "problem__task": "text-classification",
    "problem__domain_specificity": "specialized",
    "data__available": "yes",
    "data__sources_identified": "yes",
    "data__labeled_examples": "12000",
    "data__quality": "good",
    "data__inputs_outputs_defined": "yes",
    "data__contains_personal_data": "yes",
    "team__ml_expertise": "basic",
    "monitoring__sensitive_attributes": "region, age band",
}


class Inputs(HTMLParser):
    """Form controls, labels and the ids they point at, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.wrapped: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts += 1
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            a["tag"] = tag
            self.controls.append(a)
            if self.label_depth and a.get("id"):
                self.wrapped.add(a["id"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def parse(html: str) -> Inputs:
    p = Inputs()
    p.feed(html)
    return p


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture()
def client(home: Path) -> TestClient:
    return TestClient(create_app(Settings(home=home)), base_url=BASE)


def csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def submit(client: TestClient, data: dict[str, str], **kw: Any) -> Any:
    return client.post("/assess", data={"csrf_token": csrf(client), **data},
                       follow_redirects=False, **kw)


def recorded(home: Path) -> list[RecordSummary]:
    if not (home / "audit.sqlite").exists():
        return []
    with open_log(home) as log:
        return log.list()


def test_form_asks_every_question_with_a_label_and_no_script(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for f in fields():
        assert f.question.replace("'", "&#39;") in page.text, f.path
    assert "Phase 1 of 6" in page.text and "Phase 6 of 6" in page.text
    p = parse(page.text)
    assert p.scripts == 0
    visible = [c for c in p.controls if c.get("type") not in ("hidden", "submit")]
    assert len(visible) > len(fields())
    for control in visible:
        assert control["id"] in p.label_for | p.wrapped, control
    help_ids = set(re.findall(r'id="([^"]+-help)"', page.text))
    for control in visible:
        for ref in control.get("aria-describedby", "").split():
            assert ref in help_ids or ref.endswith(("-note", "-error")), ref
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["cache-control"] == "no-store"
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    # help and defaults come from the questionnaire and the model
    assert "One or two sentences, in business terms" in page.text
    assert "Not answered (counts as moderate)" in page.text


def test_valid_submission_is_assessed_recorded_and_shown(client: TestClient, home: Path) -> None:
    response = submit(client, VALID)
    assert response.status_code == 303
    location = response.headers["location"]
    record_id = location.rsplit("/", 1)[1]
    rows = recorded(home)
    assert [r.record_id for r in rows] == [record_id]

    with open_log(home) as log:
        record = log.get(record_id)
    answers = record.input["answers"]
    loaded = parse_answers(answers)
    assert loaded.answers.business.kpi == "median time to first response"
    assert [c.metric for c in loaded.answers.business.success_criteria] == [
        "f1_macro", "latency_p95_ms"]  # the empty middle row is skipped
    assert loaded.answers.monitoring.sensitive_attributes == ["region", "age band"]
    # questions left unanswered are absent, so the report lists them as defaulted
    assert "problem.deployment_target" in record.decision["input"]["defaulted"]
    assert "data.labeled_examples" not in record.decision["input"]["defaulted"]

    expected = assess({"answers": answers, "benchmarks": None, "drift": None}).decision
    page = client.get(location)
    assert page.status_code == 200
    label = expected["verdict"].replace("-", " ")
    assert f'<span class="verdict-name">{label[0].upper() + label[1:]}</span>' in page.text
    assert expected["strategy"], "these answers lead to a strategy; the page check needs one"
    assert f"<strong>{expected['strategy']['rung']}</strong>" in page.text
    assert f'src="/assessments/{record_id}/report.html"' in page.text

    report = client.get(f"/assessments/{record_id}/report.html")
    assert report.status_code == 200 and "Ticket routing" in report.text
    assert "script-src" not in report.headers["content-security-policy"]

    past = client.get("/assessments")
    assert past.status_code == 200
    assert f'href="/assessments/{record_id}"' in past.text and "Dana Lee" in past.text

    saved = client.get(f"/assessments/{record_id}/answers.yaml")
    assert saved.status_code == 200 and "attachment" in saved.headers["content-disposition"]
    assert yaml.safe_load(saved.text) == parse_answers(yaml.safe_load(saved.text)).raw
    assert yaml.safe_load(saved.text)["business"]["kpi"] == "median time to first response"


@pytest.mark.slow
def test_pdf_download_is_a_pdf_and_records_nothing(client: TestClient, home: Path) -> None:
    record_id = submit(client, VALID).headers["location"].rsplit("/", 1)[1]
    pdf = client.get(f"/assessments/{record_id}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        f'attachment; filename="mladvisor-ticket-routing-{record_id[:8]}.pdf"')
    with open_log(home) as log:  # a stored assessment's report is not a new assessment
        assert log.reports_for(record_id) == [] and log.count() == 1


@pytest.mark.slow
def test_the_summary_for_sponsors_is_its_own_pdf(client: TestClient) -> None:
    import io

    from pypdf import PdfReader

    record_id = submit(client, VALID).headers["location"].rsplit("/", 1)[1]
    result = client.get(f"/assessments/{record_id}")
    assert f"/assessments/{record_id}/report.pdf?audience=executive" in result.text
    summary = client.get(f"/assessments/{record_id}/report.pdf?audience=executive")
    full = client.get(f"/assessments/{record_id}/report.pdf")
    assert summary.status_code == 200 and summary.headers["content-disposition"] == (
        f'attachment; filename="mladvisor-ticket-routing-executive-{record_id[:8]}.pdf"')
    assert len(PdfReader(io.BytesIO(summary.content)).pages) <= 2 < len(
        PdfReader(io.BytesIO(full.content)).pages)
    html = client.get(f"/assessments/{record_id}/report.html?audience=audit")
    assert html.status_code == 200 and "Matched facts" in html.text
    wrong = client.get(f"/assessments/{record_id}/report.pdf?audience=everyone")
    assert wrong.status_code == 400 and "executive" in wrong.text


def test_invalid_form_shows_messages_beside_each_field(client: TestClient, home: Path) -> None:
    data = dict(VALID, project__name="  ", data__labeled_examples="-5",
                problem__requests_per_month="lots",
                **{"business__success_criteria-0-metric": "F1 score",
                   "business__success_criteria-2-threshold": "fast"})
    response = submit(client, data)
    assert response.status_code == 422
    text = response.text
    assert "5 answers need attention" in text
    for anchor in ("q-project__name", "q-data__labeled_examples",
                   "q-problem__requests_per_month", "q-business__success_criteria-0-metric",
                   "q-business__success_criteria-2-threshold"):
        assert f'href="#{anchor}"' in text
        tag = re.search(rf'<input[^>]*id="{anchor}"[^>]*>', text).group(0)
        assert 'aria-invalid="true"' in tag, anchor
    assert 'id="q-project__name-error"' in text and "An answer is required" in text
    assert "Must be 0 or more (you entered -5)" in text
    assert "A whole number, written with the digits 0-9 (you entered lots)" in text
    # what was typed is kept, escaped
    assert 'value="F1 score"' in text and 'value="Dana Lee, Support Ops"' in text
    assert re.search(r'<option value="text-classification" selected>', text)
    assert recorded(home) == []


def test_question_that_does_not_apply_is_dropped(client: TestClient, home: Path) -> None:
    data = dict(VALID, business__objective_measurable="no", data__available="no")
    record_id = submit(client, data).headers["location"].rsplit("/", 1)[1]
    with open_log(home) as log:
        answers = log.get(record_id).input["answers"]
    assert "kpi" not in answers["business"]
    assert "quality" not in answers["data"] and "sources_identified" not in answers["data"]
    assert answers["data"]["available"] is False


def test_form_without_csrf_token_is_refused(client: TestClient, home: Path) -> None:
    csrf(client)  # the browser has its cookie, but the form lacks the token
    response = client.post("/assess", data=VALID, follow_redirects=False)
    assert response.status_code == 403
    assert "The form has expired" in response.text
    # the person's answers are shown again with a fresh token, so nothing typed is lost
    assert 'value="Ticket routing"' in response.text
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
    assert client.post("/assess", data={"csrf_token": fresh, **VALID},
                       follow_redirects=False).status_code == 303
    assert len(recorded(home)) == 1
    # another site's page posting with a valid token of this browser is refused too
    token = csrf(client)
    response = client.post("/assess", data={"csrf_token": token, **VALID},
                           headers={"origin": "http://evil.example"})
    assert response.status_code == 403 and len(recorded(home)) == 1
    forged = create_app(Settings(home=home, secret="another-secret"))
    other = TestClient(forged, base_url=BASE)
    token = csrf(other)
    response = client.post("/assess", data={"csrf_token": token, **VALID})
    assert response.status_code == 403
    # a valid token without the cookie it was issued for (another browser) is refused too
    token = csrf(client)
    client.cookies.clear()
    response = client.post("/assess", data={"csrf_token": token, **VALID})
    assert response.status_code == 403
    assert len(recorded(home)) == 1


def test_oversize_bodies_are_refused(client: TestClient, home: Path) -> None:
    big = dict(VALID, business__problem_statement="x" * 70_000)
    response = submit(client, big)
    assert response.status_code == 413
    assert "limit is 65536 bytes" in response.text

    def chunks() -> Any:  # no Content-Length: counted while it arrives
        for _ in range(20):
            yield b"a" * 8192

    token = csrf(client)
    response = client.post("/assess?csrf_token=" + token, content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert recorded(home) == []


def test_small_limit_is_configurable(home: Path) -> None:
    small = TestClient(create_app(Settings(home=home, max_body=2048)), base_url=BASE)
    assert submit(small, dict(VALID, business__kpi="k" * 3000)).status_code == 413
    assert submit(small, VALID).status_code == 303


def test_hostile_text_is_shown_escaped(client: TestClient) -> None:
    data = dict(VALID, project__name=HOSTILE, business__problem_statement=HOSTILE,
                project__respondent='"><img src=x onerror=alert(1)>')
    location = submit(client, data).headers["location"]
    for path in (location, "/assessments", location + "/report.html"):
        page = client.get(path)
        assert page.status_code == 200
        assert HOSTILE not in page.text, path
        assert "<img src=x" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
    # and in a form shown again with messages, inside attribute values
    bad = submit(client, dict(data, data__labeled_examples="-1"))
    assert bad.status_code == 422
    assert HOSTILE not in bad.text and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in bad.text
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in bad.text


def test_more_rows_keeps_answers_and_assesses_nothing(client: TestClient, home: Path) -> None:
    response = submit(client, dict(VALID, action="more"))
    assert response.status_code == 200
    assert 'id="q-business__success_criteria-5-metric"' in response.text
    assert 'value="latency_p95_ms"' in response.text and 'value="Ticket routing"' in response.text
    assert "need attention" not in response.text
    assert recorded(home) == []


def test_edit_prefills_the_form_from_a_recorded_assessment(client: TestClient) -> None:
    record_id = submit(client, VALID).headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/?from={record_id}")
    assert page.status_code == 200
    assert 'value="Ticket routing"' in page.text
    assert 'value="f1_macro"' in page.text and 'value="0.85"' in page.text
    assert 'id="q-data__available" name="data__available" value="yes" checked' in page.text
    missing = client.get("/?from=0000aaaa")
    assert missing.status_code == 200 and "was not found" in missing.text


def test_unknown_pages_and_records(client: TestClient) -> None:
    for path in ("/assessments/0123abcd-0000", "/assessments/..%2Fetc", "/nope",
                 "/assessments/0123abcd/report.pdf"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not found" in response.text.lower()
    assert client.get("/assess").status_code == 405
    assert client.get("/static/style.css").status_code == 200


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400


def test_file_upload_is_not_accepted(client: TestClient, home: Path) -> None:
    token = csrf(client)
    response = client.post("/assess", data={"csrf_token": token, **VALID},
                           files={"upload": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 400
    assert recorded(home) == []


def test_non_loopback_needs_a_token(home: Path) -> None:
    with pytest.raises(ValueError, match="access token"):
        create_app(Settings(host="0.0.0.0", home=home))
    app = create_app(Settings(host="0.0.0.0", token="s3cret-token", home=home))
    client = TestClient(app, base_url="http://192.0.2.10:8000")
    refused = client.get("/")
    assert refused.status_code == 401 and 'id="token"' in refused.text
    assert client.get("/?token=wrong-token").status_code == 401
    assert client.get("/static/style.css").status_code == 200
    bearer = client.get("/", headers={"authorization": "Bearer s3cret-token"})
    assert bearer.status_code == 200
    entry = client.get("/assessments?token=s3cret-token", follow_redirects=False)
    assert entry.status_code == 303 and entry.headers["location"] == "/assessments"
    assert client.get("/assessments").status_code == 200  # the session cookie now
    assert submit(client, VALID).status_code == 303


def test_serve_refuses_a_public_address_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from engine.cli import cli

    monkeypatch.delenv("MLADVISOR_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0 without an access token" in result.stderr
    short = CliRunner().invoke(cli, ["serve", "--token", "abc"])
    assert short.exit_code == 2 and "at least 8 characters" in short.stderr


def test_serve_command_runs_a_loopback_server(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys
    import time

    import httpx

    env = dict(os.environ, MLADVISOR_HOME=str(tmp_path / "home"))
    env.pop("MLADVISOR_TOKEN", None)
    # --port 0: the server binds a free port itself and says which, so no other process can
    # take a port chosen here between choosing and listening.
    proc = subprocess.Popen([str(Path(sys.executable).parent / "mladvisor"), "serve",
                             "--port", "0"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
        assert match, banner
        port = int(match.group(1))
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert page.status_code == 200 and "Assess an ML project" in page.text
        assert "server" not in page.headers  # no version banner
    finally:
        proc.terminate()
        proc.wait(10)
    assert banner.startswith(f"mladvisor: serving the questionnaire on http://127.0.0.1:{port}/")


def test_unwritable_audit_log_is_reported_not_hidden(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the home directory should be")
    client = TestClient(create_app(Settings(home=blocker)), base_url=BASE,
                        raise_server_exceptions=False)
    response = submit(client, VALID)
    assert response.status_code == 500
    assert "could not be recorded" in response.text or "Something went wrong" in response.text
    assert "Traceback" not in response.text
