"""The decision log in PostgreSQL: several processes appending at once, the database refusing
edits, verification catching what an owner of the database can still do, and the one-line
errors of a database that is missing or out of reach."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from engine.audit import open_log
from engine.audit.postgres import SCHEMA, redact
from engine.audit.store import LogDatabaseError, MissingLogError
from engine.cli import cli
from engine.errors import AuditError, InputError
from tests.audit_standin import make_assessment

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from engine.audit import open_log
    from tests.audit_standin import make_assessment
    home, url, count, name = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    log = open_log(home, database=url)
    for n in range(count):
        log.append(make_assessment(n, respondent=name))
    print("done", flush=True)
""")


def admin(url: str) -> psycopg.Connection:
    """A connection as the database's owner, who can do what the app's code never does."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(f"SET search_path TO {SCHEMA}")
    return conn


def build(url: str, home: Path, n: int = 5) -> list[str]:
    with open_log(home, database=url) as log:
        return [log.append(make_assessment(i)) for i in range(n)]


def failure(url: str, home: Path, **options: Any) -> str:
    with pytest.raises(AuditError) as info:
        open_log(home, create=False, database=url).verify(**options)
    assert info.value.exit_code == 3
    return str(info.value)


@pytest.mark.parametrize("workers", [3])
def test_processes_append_at_once_and_the_chain_stays_linear(
        pg_url: str, tmp_path: Path, workers: int) -> None:
    """Separate OS processes start on an empty database (so they also race to create the
    schema) and append 100 records each at once: none lost, none forked."""
    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MLADVISOR_HOME=str(home))
    env.pop("MLADVISOR_AUDIT_KEY", None)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), pg_url, "100", f"w{i}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(workers)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()
        assert out.strip() == b"done"
    log = open_log(home, create=False, database=pg_url)
    summary = log.verify()
    assert summary["ok"] and summary["records"] == 100 * workers
    assert log.count() == 100 * workers
    per_worker: dict[str, int] = {}
    for record in log.list():
        per_worker[record.respondent or ""] = per_worker.get(record.respondent or "", 0) + 1
    assert per_worker == {f"w{i}": 100 for i in range(workers)}
    with admin(pg_url) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM records ORDER BY seq")]
        (links,) = conn.execute("SELECT count(DISTINCT prev_hash) FROM records").fetchall()[0]
    assert seqs == list(range(1, 100 * workers + 1))  # no gaps
    assert links == 100 * workers  # no two records on one parent: no fork


def test_the_database_refuses_update_delete_and_truncate(pg_url: str, home: Path) -> None:
    build(pg_url, home, 2)
    with admin(pg_url) as conn:
        for table, column in (("records", "kind"), ("blobs", "sha256"),
                              ("rulebases", "files_sha256"), ("meta", "value")):
            for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}",
                        f"TRUNCATE {table} CASCADE"):
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(sql)
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("TRUNCATE keys")  # empty without signing: the statement is refused
        with pytest.raises(psycopg.errors.RaiseException, match="only moves forward"):
            conn.execute("UPDATE chain_head SET seq = 1")
    assert open_log(home, create=False, database=pg_url).verify()["records"] == 2


def test_an_edit_with_triggers_disabled_is_named(pg_url: str, home: Path) -> None:
    ids = build(pg_url, home)
    with admin(pg_url) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("UPDATE records SET time = '2020-01-01T00:00:00.000000Z' WHERE seq = 3")
    message = failure(pg_url, home)
    assert f"record 3 ({ids[2]})" in message and "time column" in message
    with pytest.raises(AuditError) as info:
        open_log(home, create=False, database=pg_url).verify()
    problems = info.value.problems  # type: ignore[attr-defined]
    assert "the append-only trigger records_no_update was removed or disabled" in problems


def test_a_truncated_tail_is_caught_by_the_high_water_mark(pg_url: str, home: Path) -> None:
    build(pg_url, home, 6)
    with admin(pg_url) as conn:
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("DELETE FROM records WHERE seq >= 5")
        conn.execute("ALTER TABLE records ENABLE TRIGGER USER")
    # nothing outside the database (saved=False): the chain_head row alone tells
    assert "records 5-6 after record 4 missing: the tail was truncated" in failure(
        pg_url, home, saved=False)


def test_a_replaced_trigger_function_is_caught(pg_url: str, home: Path) -> None:
    build(pg_url, home, 2)
    with admin(pg_url) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION append_only() RETURNS trigger"
                      " LANGUAGE plpgsql AS $$BEGIN RETURN OLD; END;$$")
        conn.execute("DELETE FROM records WHERE seq = 1")  # no longer refused
    message = failure(pg_url, home)
    assert "record 1 missing before record 2" in message
    with pytest.raises(AuditError) as info:
        open_log(home, create=False, database=pg_url).verify()
    assert ("the append-only trigger function append_only() was replaced or removed"
            in info.value.problems)  # type: ignore[attr-defined]


def test_a_failed_append_leaves_no_gap(pg_url: str, home: Path) -> None:
    """A sequence would have burnt a number on the rolled-back insert; the head row does not."""
    log = open_log(home, database=pg_url)
    first = make_assessment(1)
    log.append(first)
    with pytest.raises(InputError, match="an id not yet recorded"):
        log.append(first)
    log.append(make_assessment(2))
    summary = log.verify()
    assert summary["records"] == 2 and log.head()[0] == 2


def test_the_head_file_lives_in_home_and_catches_a_rewritten_tail(
        pg_url: str, home: Path) -> None:
    log = open_log(home, database=pg_url)
    build(pg_url, home, 3)
    assert log.head_path.parent == home and log.head_path.exists()
    assert "@" not in log.head_path.name
    with admin(pg_url) as conn:  # cut the tail and move the mark back: only the head file knows
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head DISABLE TRIGGER USER")
        conn.execute("DELETE FROM records WHERE seq = 3")
        conn.execute("UPDATE chain_head SET seq = 2")
        conn.execute("ALTER TABLE records ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE chain_head ENABLE TRIGGER USER")
    assert open_log(home, create=False, database=pg_url).verify(saved=False)["records"] == 2
    assert "the tail was truncated" in failure(pg_url, home)


def test_a_dropped_connection_is_reopened_once(pg_url: str, home: Path) -> None:
    """A server restart or an idle connection cut between two appends costs nothing."""
    log = open_log(home, database=pg_url)
    log.append(make_assessment(1))
    with admin(pg_url) as conn:
        ended = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                             " WHERE pid <> pg_backend_pid() AND datname = current_database()"
                             ).fetchall()
    assert ended[0][0] >= 1
    log.append(make_assessment(2))
    with admin(pg_url) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE pid <> pg_backend_pid() AND datname = current_database()")
    assert log.count() == 2 and log.verify()["records"] == 2


def test_reading_never_creates_the_schema(pg_url: str, home: Path) -> None:
    with pytest.raises(MissingLogError, match="no audit log here"):
        open_log(home, create=False, database=pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regnamespace(%s)", (SCHEMA,)).fetchone() == (None,)


def test_cli_works_on_postgresql_through_the_environment(
        pg_url: str, home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLADVISOR_DATABASE", pg_url)
    runner = CliRunner()
    empty = runner.invoke(cli, ["audit", "verify"])
    assert empty.exit_code == 3 and "no audit log here" in empty.stderr
    assert "MLADVISOR_DATABASE points elsewhere" in empty.stderr
    assert empty.stderr.count("\n") == 1 and "Traceback" not in empty.stderr
    ids = build(pg_url, home, 3)
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0 and verified.stdout.startswith("ok: 3 records")
    listed = runner.invoke(cli, ["audit", "list"]).stdout.splitlines()
    assert [ids[0] in listed[0], ids[2] in listed[2], len(listed)] == [True, True, 3]
    assert f'"record_id": "{ids[1]}"' in runner.invoke(cli, ["audit", "show", ids[1]]).stdout
    out = tmp_path / "log.jsonl"
    assert runner.invoke(cli, ["audit", "export", "--out", str(out)]).exit_code == 0
    assert runner.invoke(cli, ["audit", "verify", "--export", str(out)]).exit_code == 0
    assert not (home / "audit.sqlite").exists()  # nothing went to the SQLite file


def test_an_unreachable_database_is_one_line_without_the_password(
        home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"postgresql://auditor:s3cret-pw@/nowhere?host={tmp_path / 'no-socket'}"
    with pytest.raises(LogDatabaseError) as info:
        open_log(home, database=url)
    assert info.value.exit_code == 2 and "s3cret" not in str(info.value)
    monkeypatch.setenv("MLADVISOR_DATABASE", url)
    for args in (["audit", "list"], ["audit", "verify"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "s3cret" not in result.output and "auditor@" in result.stderr
    monkeypatch.setenv("MLADVISOR_DATABASE", "mysql://auditor:s3cret-pw@db/log")
    result = CliRunner().invoke(cli, ["audit", "list"])
    assert result.exit_code == 2 and "s3cret" not in result.output


def test_redact_drops_passwords_from_user_info_and_query() -> None:
    assert redact("postgresql://u:p@h:5432/db") == "postgresql://u@h:5432/db"
    assert redact("postgresql:///db?host=/s&password=p&sslmode=require") == (
        "postgresql:///db?host=/s&sslmode=require")


def test_the_sqlite_log_never_imports_psycopg(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from engine.audit import open_log;"
            "from tests.audit_standin import make_assessment;"
            f"log = open_log(Path({str(tmp_path)!r})); log.append(make_assessment(1));"
            "log.verify(); print('psycopg' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MLADVISOR_DATABASE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
