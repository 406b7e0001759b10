"""Architect review as audit events: `mladvisor review`, and how `audit show`, `verify`,
`export` and `list` see the reviews, on real SQLite logs (signed and unsigned)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.audit import open_log
from engine.audit.review import Review, build_review, reviews_of, state_of
from engine.audit.store import MissingLogError
from engine.errors import InputError
from tests.audit_rows import canonical_body, make_plain, stored_like
from tests.review_flow import answers, assess, blockers, run

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def not_ready(home: Path, tmp_path: Path) -> dict:
    """A recorded decision with blockers (the churn idea: no KPI, no data)."""
    decision = assess(tmp_path, answers("churn-idea.yaml"))
    assert blockers(decision)
    return decision


@pytest.fixture
def clean(home: Path, tmp_path: Path) -> dict:
    """A recorded decision without blockers."""
    decision = assess(tmp_path, answers("support-ticket-routing.yaml"), "routing.yaml")
    assert not blockers(decision)
    return decision


def review(*args: str) -> object:
    return run("review", *args)


def one_line_error(result: object, *words: str) -> None:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_review_is_recorded_in_the_chain_and_shown(backend: str, clean: dict, home: Path) -> None:
    aid = clean["assessment_id"]
    result = review(aid[:12], "comment", "--as", "Ada Park", "--comment", "Check the labels")
    assert result.exit_code == 0, result.stderr
    assert f"recorded comment of {aid} by Ada Park (architect)" in result.stdout
    result = review(aid, "approve", "--as", "Ada Park", "--comment", "Go ahead",
                    "--format", "json")
    done = json.loads(result.stdout)
    assert done["action"] == "approve" and done["of"] == aid and done["override"] is None
    with open_log(create=False) as log:
        assert log.count() == 3  # the assessment and two reviews, one chain
        record = log.get(done["record_id"])
        assert record.kind == "review" and record.of == aid
        assert record.review == {"action": "approve", "user": "Ada Park", "role": "architect",
                                 "comment": "Go ahead", "account": False}
    shown = json.loads(run("audit", "show", aid).stdout)
    assert [(r["action"], r["user"], r["role"], r["comment"]) for r in shown["reviews"]] == [
        ("comment", "Ada Park", "architect", "Check the labels"),
        ("approve", "Ada Park", "architect", "Go ahead")]
    assert all(r["time"].endswith("Z") for r in shown["reviews"])
    text = run("audit", "show", aid, "--format", "text").stdout
    assert "approve by Ada Park (architect): Go ahead" in text
    listed = run("audit", "list").stdout
    assert aid in listed and "[approved]" in listed
    rows = json.loads(run("audit", "list", "--format", "json").stdout)
    assert rows[0]["review_state"] == "approved"
    kinds = run("audit", "list", "--kind", "review").stdout.splitlines()
    assert len(kinds) == 2 and "review approve of " + aid in kinds[1]
    assert run("audit", "verify").stdout.startswith("ok: 3 records")


def test_approving_blockers_needs_a_justification_recorded_as_override(
        backend: str, not_ready: dict, home: Path) -> None:
    aid = not_ready["assessment_id"]
    before = open_log(create=False).count()
    one_line_error(review(aid, "approve", "--as", "Ada", "--comment", "fine"),
                   "--justification", *blockers(not_ready))
    one_line_error(review(aid, "approve", "--as", "Ada", "--comment", "fine",
                          "--justification", "   "), "--justification")
    assert open_log(create=False).count() == before  # nothing half-written
    result = review(aid, "approve", "--as", "Ada", "--comment", "Pilot only",
                    "--justification", "The sponsor accepts the risk for a 4-week pilot",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["override"] == {"justification": "The sponsor accepts the risk for a 4-week"
                                " pilot", "blockers": blockers(not_ready)}
    text = run("audit", "show", aid, "--format", "text").stdout
    assert "override  of " + ", ".join(blockers(not_ready)) in text


def test_a_justification_where_nothing_is_overridden_is_refused(
        not_ready: dict, clean: dict) -> None:
    one_line_error(review(clean["assessment_id"], "approve", "--as", "Ada", "--comment", "ok",
                          "--justification", "why not"), "has none")
    one_line_error(review(not_ready["assessment_id"], "request-changes", "--as", "Ada",
                          "--comment", "no", "--justification", "x"), "request-changes")


def test_bad_review_input_is_one_line_exit_2(clean: dict, home: Path) -> None:
    aid = clean["assessment_id"]
    one_line_error(review(aid, "approve", "--as", "Ada", "--comment", ""), "--comment")
    one_line_error(review(aid, "approve", "--as", " ", "--comment", "x"), "--as")
    one_line_error(review(aid, "approve", "--as", "Ada", "--comment", "a\x1b[2Jb"),
                   "control")
    usage = subprocess.run([sys.executable, "-m", "engine.cli", "review", aid, "bless", "--as",
                            "Ada", "--comment", "x"], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1 and "bless" in usage.stderr
    one_line_error(review("no-such-id", "comment", "--as", "Ada", "--comment", "x"),
                   "record_id")
    report = run("report", aid, "--format", "markdown")  # notes a report event in the log
    assert report.exit_code == 0
    with open_log(create=False) as log:
        event = next(log.iter_records(kind="report")).record_id
    one_line_error(review(event, "comment", "--as", "Ada", "--comment", "x"),
                   "recorded assessment")


def test_review_without_a_log_is_refused_and_creates_none(home: Path, backend: str) -> None:
    one_line_error(review("0192f7a0", "comment", "--as", "Ada", "--comment", "x"),
                   "no audit log")
    assert not (home / "audit.sqlite").exists()
    with pytest.raises(MissingLogError):  # nor tables in PostgreSQL
        open_log(create=False)


def test_verify_catches_an_edited_review(clean: dict, home: Path) -> None:
    aid = clean["assessment_id"]
    review(aid, "request-changes", "--as", "Ada Park", "--comment", "Label more data")
    assert run("audit", "verify").exit_code == 0
    log_path = home / "audit.sqlite"
    make_plain(log_path)
    assert run("audit", "verify").exit_code == 0
    conn = sqlite3.connect(log_path)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET body = replace(body, 'request-changes', 'approve')"
                 " WHERE kind='review'")
    conn.commit()
    conn.close()
    result = run("audit", "verify")
    assert result.exit_code == 3
    assert "record 2 (" in result.stderr and "edited" in result.stderr


def test_verify_checks_a_review_rehashed_by_an_editor(clean: dict, home: Path) -> None:
    """An editor who recomputes the hash of a review whose action is not in the vocabulary
    is still caught, by the content check, not only by the chain."""
    import hashlib

    aid = clean["assessment_id"]
    review(aid, "comment", "--as", "Ada", "--comment", "x")
    path = home / "audit.sqlite"
    body = canonical_body(path, 2).replace(b'"comment","comment"', b'"bless","comment"')
    assert b'"bless"' in body
    conn = sqlite3.connect(path)
    prev = conn.execute("SELECT prev_hash FROM records WHERE seq=2").fetchone()[0]
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET body=?, entry_hash=? WHERE seq=2",
                 (stored_like(path, 2, body), hashlib.sha256(prev.encode() + body).hexdigest()))
    conn.commit()
    conn.close()
    result = run("audit", "verify", "--no-saved", "--format", "json")
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert any("unknown review action 'bless'" in p for p in problems), problems


def test_signed_reviews_verify_and_a_forged_one_fails(clean: dict, home: Path) -> None:
    assert run("audit", "keygen").exit_code == 0
    aid = clean["assessment_id"]
    done = json.loads(review(aid, "approve", "--as", "Ada", "--comment", "ok",
                             "--format", "json").stdout)
    assert done["signed"] is True
    with open_log(create=False) as log:
        record = log.get(done["record_id"])
        assert record.signature and record.key_id
    result = run("audit", "verify", "--allow-unsigned")  # the assessment predates the key
    assert result.exit_code == 0 and "1 signed" in result.stdout, result.output
    conn = sqlite3.connect(home / "audit.sqlite")
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET signature = ? WHERE seq = 2",
                 (record.signature[:-4] + ("AAA=" if not record.signature.endswith("AAA=")
                                           else "BBB="),))
    conn.commit()
    conn.close()
    result = run("audit", "verify", "--allow-unsigned")
    assert result.exit_code == 3 and "signature does not match" in result.stderr


def test_export_includes_reviews(backend: str, not_ready: dict, home: Path) -> None:
    aid = not_ready["assessment_id"]
    review(aid, "approve", "--as", "Ada Park", "--comment", "Pilot, says Ada Park",
           "--justification", "accepted risk")
    lines = [json.loads(x) for x in run("audit", "export").stdout.splitlines()]
    assert [x["record"]["kind"] for x in lines] == ["assessment", "review"]
    assert lines[1]["record"]["review"]["override"]["justification"] == "accepted risk"
    out = Path("export.jsonl").absolute()
    out.write_text(run("audit", "export").stdout)
    assert run("audit", "verify", "--export", str(out)).exit_code == 0
    out.unlink()
    rows = list(csv.DictReader(io.StringIO(run("audit", "export", "--format", "csv",
                                               "--kind", "review").stdout)))
    assert len(rows) == 1 and rows[0]["review_action"] == "approve"
    assert rows[0]["review_user"] == "Ada Park" and rows[0]["of"] == aid
    assert json.loads(rows[0]["review_override"])["blockers"] == blockers(not_ready)
    masked = run("audit", "export", "--mask", "--kind", "review").stdout
    assert "Ada" not in masked and "[masked]" in masked


def test_old_logs_still_verify_and_take_reviews(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "v1"
    shutil.copytree(FIXTURES / "audit-v1", home)
    monkeypatch.setenv("MLADVISOR_HOME", str(home))
    monkeypatch.delenv("MLADVISOR_AUDIT_KEY", raising=False)
    assert run("audit", "verify").exit_code == 0
    with open_log(create=False) as log:
        first = next(log.iter_records(kind="assessment")).record_id
    result = review(first, "comment", "--as", "Ada", "--comment", "old, still fine")
    assert result.exit_code == 0, result.stderr
    assert run("audit", "verify").exit_code == 0


def test_state_of_follows_the_latest_deciding_review() -> None:
    def r(of: str, action: str, n: int) -> Review:
        return Review(record_id=f"r{n}", of=of, time=f"2026-12-0{n}T00:00:00Z", action=action,
                      user="Ada", role="architect", comment="c", override=None, account=False,
                      signed=False, seq=n)

    assert state_of(["a"], {}) == ("not-reviewed", None)
    assert state_of(["a"], {"a": [r("a", "comment", 1)]})[0] == "commented"
    assert state_of(["a"], {"a": [r("a", "approve", 1), r("a", "comment", 2)]})[0] == "approved"
    assert state_of(["a"], {"a": [r("a", "approve", 1),
                                  r("a", "request-changes", 2)]})[0] == "changes-requested"
    state, basis = state_of(["a", "b"], {"a": [r("a", "request-changes", 1)]})
    assert state == "re-assessed" and basis is not None and basis.of == "a"
    assert state_of(["a", "b"], {"a": [r("a", "request-changes", 1)],
                                 "b": [r("b", "approve", 2)]})[0] == "approved"


def test_build_review_checks_its_input() -> None:
    decision = {"findings": [{"rule": "data.none", "severity": "blocker"}]}
    with pytest.raises(InputError) as error:
        build_review(decision, "approve", "Ada", "architect", "ok")
    assert error.value.path == "--justification"
    body = build_review(decision, "approve", "Ada", "architect", " ok ", "because")
    assert body["comment"] == "ok" and body["override"]["blockers"] == ["data.none"]
    with pytest.raises(InputError) as error:
        build_review(decision, "comment", "Ada", "architect", "x" * 10_001)
    assert "10000" in error.value.expected


def test_reviews_of_reads_back_in_order(clean: dict) -> None:
    aid = clean["assessment_id"]
    for n in range(3):
        review(aid, "comment", "--as", f"R{n}", "--comment", f"note {n}")
    with open_log(create=False) as log:
        assert [r.user for r in reviews_of(log, aid)] == ["R0", "R1", "R2"]


@pytest.mark.usefixtures("database")  # first: the assessment goes to the store under test
def test_with_accounts_only_an_active_reviewing_account_may_review(clean: dict,
                                                                   home: Path) -> None:
    from engine.team.accounts import AccountStore

    store = AccountStore(home)
    for name, role in (("ada", "architect"), ("sam", "stakeholder"), ("old", "architect")):
        store.add(name, role, password="correct horse battery")
    store.disable("old")
    store.close()
    aid = clean["assessment_id"]
    one_line_error(review(aid, "approve", "--as", "Ada Park", "--comment", "x"),
                   "the name of an account")
    one_line_error(review(aid, "approve", "--as", "sam", "--comment", "x"),
                   "stakeholder", "architect")
    one_line_error(review(aid, "approve", "--as", "old", "--comment", "x"), "disabled")
    assert open_log(create=False).count() == 1  # none of them recorded anything
    done = json.loads(review(aid, "approve", "--as", "ada", "--comment", "ok",
                             "--format", "json").stdout)
    assert (done["user"], done["role"], done["account"]) == ("ada", "architect", True)
    report = run("report", aid, "--format", "markdown", "--no-record").stdout
    assert "| ada | architect |" in report  # an account's review: no "(no account)" note


def test_show_and_list_a_review_event_itself(backend: str, clean: dict) -> None:
    aid = clean["assessment_id"]
    done = json.loads(review(aid, "comment", "--as", "Ada", "--comment", "Looks fine",
                             "--format", "json").stdout)
    shown = json.loads(run("audit", "show", done["record_id"]).stdout)
    assert shown["kind"] == "review" and shown["of"] == aid
    assert shown["review"]["comment"] == "Looks fine" and shown["entry_hash"]
    text = run("audit", "show", done["record_id"], "--format", "text").stdout
    assert f"review of   {aid}" in text and "comment by Ada (architect): Looks fine" in text
    listed = run("audit", "list", "--kind", "all").stdout.splitlines()
    assert len(listed) == 2 and "[commented, not decided]" in listed[0]
    assert f"review comment of {aid} by Ada" in listed[1]
