"""`mladvisor report`: saved decisions and recorded ids to HTML/PDF, one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from engine.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "report"
SAMPLE = FIXTURES / "decision-sample.json"


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_report_html_from_saved_decision(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run("report", str(SAMPLE), "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Support ticket routing" in html and "Proceed with conditions" in html
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_report_html_to_stdout() -> None:
    result = run("report", str(SAMPLE), "-f", "html")
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_report_pdf_from_saved_decision(tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    result = run("report", str(SAMPLE), "-f", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert "decision.json" in reader.attachments
    saved = json.loads(SAMPLE.read_text())
    saved.pop("explanation")
    assert json.loads(reader.attachments["decision.json"][0]) == saved


@pytest.mark.slow
def test_pdf_to_a_redirected_stdout() -> None:
    """Standard output that is not a terminal takes the PDF (a terminal is refused: see
    tests/test_cli_output.py, which runs on a real pseudo-terminal)."""
    result = run("report", str(SAMPLE), "-f", "pdf")
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"%PDF-")


@pytest.mark.parametrize("content, path_hint", [
    ("{not json", "line 1"),
    ("[1, 2]", "mladvisor.decision/1"),
    ('{"schema": "mladvisor.answers/1"}', "schema"),
    ('{"schema": "mladvisor.decision/1", "findings": {}}', "findings"),
])
def test_bad_decision_file_is_one_line_exit_2(tmp_path: Path, content: str,
                                              path_hint: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "r.pdf"
    result = run("report", str(bad), "-f", "pdf", "-o", str(out))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert str(bad) in message and path_hint in message
    assert not out.exists()


def test_missing_file_and_unknown_id_are_exit_2(home: Path, tmp_path: Path) -> None:
    result = run("report", str(tmp_path / "nope.json"), "-f", "html")
    assert result.exit_code == 2 and "nope.json" in result.output
    result = run("report", "0192f7a0-dead-7bee", "-f", "html")
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert not home.exists()  # looking an id up never creates a log


def test_render_failure_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.report

    def broken(decision: dict, audience: str, reviews: object = None) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.report, "render_pdf", broken)
    out = tmp_path / "r.pdf"
    with pytest.raises(RuntimeError):
        run("report", str(SAMPLE), "-f", "pdf", "-o", str(out))
    assert list(tmp_path.iterdir()) == []


def test_report_from_recorded_id(home: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An id is looked up in the audit log, by full id or unique prefix."""
    import engine.audit as audit
    from engine.audit.record import AuditRecord

    decision = json.loads(SAMPLE.read_text())
    rid = decision["assessment_id"]
    records = {rid: AuditRecord.from_row(1, rid, "assessment", "t", audit.GENESIS, "h", None,
                                         None, {"record_id": rid, "decision": decision})}

    class FakeLog:
        def __enter__(self) -> FakeLog:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def close(self) -> None:
            pass

        def iter_records(self, kind: str | None = None) -> list[AuditRecord]:
            return [r for r in records.values() if kind in (None, r.kind)]  # no reviews

        def get(self, record_id: str) -> AuditRecord:
            for key, record in records.items():
                if key.startswith(record_id):
                    return record
            from engine.errors import InputError
            raise InputError("audit.sqlite", "record_id", "the id of a recorded decision",
                             record_id)

    home.mkdir(parents=True)
    (home / audit.LOG_FILE).write_bytes(b"")
    monkeypatch.setattr(audit, "open_log", lambda *a, **k: FakeLog())
    out = tmp_path / "r.html"
    result = run("report", decision["assessment_id"][:13], "-f", "html", "-o", str(out),
                 "--no-record")
    assert result.exit_code == 0, result.output
    assert decision["assessment_id"] in out.read_text(encoding="utf-8")
    result = run("report", "ffffffff", "-f", "html", "-o", str(out))
    assert result.exit_code == 2 and "record_id" in result.output


def test_report_from_real_audit_log(home: Path, tmp_path: Path) -> None:
    """End to end with the real log when its stand-in assessments are available."""
    import hashlib

    import engine.audit as audit
    import tests.audit_standin as standin

    log = audit.open_log()
    record_id = log.append(standin.make_assessment(1))
    out = tmp_path / "r.pdf"
    result = run("report", record_id[:12], "-f", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert "Project 1" in reader.pages[0].extract_text()
    events = audit.open_log().reports_for(record_id)
    assert len(events) == 1
    assert events[0].sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    result = run("report", record_id, "-f", "html", "-o", str(tmp_path / "r.html"),
                 "--no-record")
    assert result.exit_code == 0
    assert len(audit.open_log().reports_for(record_id)) == 1


def test_help_has_example() -> None:
    result = run("report", "-h")
    assert result.exit_code == 0 and "Example:" in result.output
