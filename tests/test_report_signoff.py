"""The report's sign-off section: the reviews `mladvisor report ID` reads from the log, in
HTML, Markdown and a real WeasyPrint PDF; none for a decision file or an unreviewed one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from engine.report import render_html, render_markdown
from tests.review_flow import answers, assess, blockers, run

JUSTIFICATION = "The sponsor accepts the open blockers for a four-week pilot on exports"


@pytest.fixture
def reviewed(home: Path, tmp_path: Path) -> dict:
    decision = assess(tmp_path, answers("churn-idea.yaml"))
    aid = decision["assessment_id"]
    assert run("review", aid, "request-changes", "--as", "Bo Chen",
               "--comment", "Find the data <b>first</b>").exit_code == 0
    assert run("review", aid, "approve", "--as", "Ada Park", "--comment", "Pilot only",
               "--justification", JUSTIFICATION).exit_code == 0
    return decision


def test_html_report_of_a_recorded_assessment_has_the_sign_off(reviewed: dict,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run("report", reviewed["assessment_id"], "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    section = html[html.index('<section id="sign-off"'):]
    section = section[:section.index("</section>")]
    assert section.index("Bo Chen") < section.index("Ada Park")  # oldest first
    assert "Changes requested" in section and "Approved" in section
    assert "architect" in section and "(no account)" in section
    assert "Find the data &lt;b&gt;first&lt;/b&gt;" in section  # escaped, never markup
    assert JUSTIFICATION in section
    assert all(b in section for b in blockers(reviewed))


def test_no_sign_off_without_reviews(reviewed: dict, tmp_path: Path) -> None:
    plain = render_html(reviewed)
    assert b'id="sign-off"' not in plain and plain == render_html(reviewed, reviews=[])
    assert "Sign-off" not in render_markdown(reviewed).decode()
    saved = tmp_path / "decision.json"
    saved.write_text(json.dumps(reviewed))
    # a decision file carries no reviews: nothing vouches for them outside the log
    html = run("report", str(saved), "--format", "html").stdout
    assert 'id="sign-off"' not in html


def test_markdown_sign_off(reviewed: dict) -> None:
    text = run("report", reviewed["assessment_id"], "--format", "markdown").stdout
    section = text[text.index("## Sign-off"):text.index("## Audit")]
    assert "| Ada Park (no account) | architect |" in section
    assert "**Approved**" in section and "**Changes requested**" in section
    assert f"**Override** of `{blockers(reviewed)[0]}`" in section
    assert "\\<b\\>first\\</b\\>" in section  # escaped, never markup


def test_pdf_sign_off(reviewed: dict, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    result = run("report", reviewed["assessment_id"], "--format", "pdf", "--audience",
                 "executive", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Sign-off" in text and "Ada Park" in text and "Bo Chen" in text
    assert "Changes requested" in text and "Override" in text
    audit = tmp_path / "a.pdf"
    assert run("audit", "report", reviewed["assessment_id"], "--format", "pdf", "--out",
               str(audit)).exit_code == 0
    text = subprocess.run(["pdftotext", str(audit), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Sign-off" in text and "Pilot only" in text
