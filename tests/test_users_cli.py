"""`mladvisor users ...` through the real CLI, against a real team.sqlite in a temporary home and
against a real PostgreSQL database named by MLADVISOR_DATABASE (each test runs on both)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli import main
from engine.team.accounts import AccountStore
from engine.team.roles import ROLES
from tests.pgdb import store_created

pytestmark = pytest.mark.usefixtures("database")

_CAPFD: pytest.CaptureFixture[str]
_MONKEYPATCH: pytest.MonkeyPatch


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def _capture(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    global _CAPFD, _MONKEYPATCH
    _CAPFD, _MONKEYPATCH = capfd, monkeypatch


def run(*args: str, input: str | None = None) -> Result:
    """The real entry point (`mladvisor users ...`), usage errors included, in this process."""
    _CAPFD.readouterr()
    _MONKEYPATCH.setattr(sys, "argv", ["mladvisor", "users", *args])
    _MONKEYPATCH.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((input or "").encode())))
    try:
        main()
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = _CAPFD.readouterr()
    return Result(code, out, err)


def one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result
    err = result.stderr
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_add_with_password_from_stdin(home: Path) -> None:
    result = run("add", "ada", "--role", "admin", "--password-stdin",
                 input="correct horse battery\nignored second line\n")
    assert result.exit_code == 0 and result.stdout == ""
    assert "'ada' created with role admin" in result.stderr
    store = AccountStore(home)
    account = store.get("ada")
    assert account is not None and account.role == "admin" and not account.must_change_password
    assert store.verify_password("ada", "correct horse battery") == account
    assert store.verify_password("ada", "ignored second line") is None
    store.close()


def test_add_without_password_prints_a_one_time_password(home: Path) -> None:
    result = run("add", "sam", "--role", "stakeholder")
    assert result.exit_code == 0
    one_time = result.stdout.strip()
    assert len(one_time) >= 12 and "\n" not in one_time
    assert "changed at first login" in result.stderr
    store = AccountStore(home)
    account = store.verify_password("sam", one_time)
    assert account is not None and account.must_change_password
    store.close()


def _table(home: Path, database: str | None, table: str) -> list[tuple[object, ...]]:
    """Every row of one of the store's tables, read directly."""
    if database is None:
        db = sqlite3.connect(home / "team.sqlite")
        rows = db.execute(f"SELECT * FROM {table}").fetchall()
        db.close()
        return rows
    import psycopg

    with psycopg.connect(database) as conn:
        return conn.execute(f"SELECT * FROM mladvisor_team.{table}").fetchall()


def test_passwords_are_stored_as_argon2id_hashes_only(home: Path, database: str | None) -> None:
    run("add", "ada", "--role", "admin", "--password-stdin", input="s3cret-words\n")
    [row] = _table(home, database, "accounts")
    stored = str(row[2])
    assert stored.startswith("$argon2id$") and "s3cret-words" not in repr(row)
    if database is None:
        path = home / "team.sqlite"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert b"s3cret-words" not in path.read_bytes()


def test_list_text_and_json(home: Path) -> None:
    run("add", "ada", "--role", "admin", "--password-stdin", input="s3cret-words\n")
    run("add", "sam", "--role", "stakeholder")
    run("disable", "sam")
    text = run("list")
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "ROLE", "STATUS", "CREATED"]
    assert lines[1].split()[:3] == ["ada", "admin", "active"]
    assert lines[2].split()[:3] == ["sam", "stakeholder", "disabled"]
    rows = json.loads(run("list", "--format", "json").stdout)
    assert [(r["name"], r["role"], r["disabled"], r["must_change_password"]) for r in rows] == [
        ("ada", "admin", False, False), ("sam", "stakeholder", True, True)]


def test_list_without_accounts_says_so(home: Path) -> None:
    result = run("list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no accounts yet" in result.stderr
    assert json.loads(run("list", "--format", "json").stdout) == []


def test_disable_refuses_login_and_token_enable_restores(home: Path) -> None:
    run("add", "sam", "--role", "stakeholder", "--password-stdin", input="s3cret-words\n")
    token = run("token", "sam").stdout.strip()
    store = AccountStore(home)
    session = store.start_session("sam")
    assert store.check_token(token) is not None and store.session(session) is not None
    assert run("disable", "sam").exit_code == 0
    assert store.verify_password("sam", "s3cret-words") is None
    assert store.check_token(token) is None and store.session(session) is None
    assert run("enable", "sam").exit_code == 0
    assert store.verify_password("sam", "s3cret-words") is not None
    assert store.check_token(token) is not None
    assert store.session(session) is None  # ended sessions stay ended
    store.close()


def test_set_role(home: Path) -> None:
    run("add", "sam", "--role", "stakeholder")
    result = run("set-role", "sam", "architect")
    assert result.exit_code == 0 and "now has role architect" in result.stderr
    store = AccountStore(home)
    assert store.require("sam").role == "architect"
    store.close()


def test_token_is_shown_once_stored_hashed_and_replaced(home: Path,
                                                       database: str | None) -> None:
    run("add", "bot", "--role", "compliance")
    first = run("token", "bot")
    assert first.exit_code == 0 and "shown once" in first.stderr
    token = first.stdout.strip()
    assert token.startswith("mla_") and len(token) > 40
    assert token not in repr(_table(home, database, "tokens"))
    if database is None:
        assert token.encode() not in (home / "team.sqlite").read_bytes()
    store = AccountStore(home)
    account = store.check_token(token)
    assert account is not None and account.name == "bot"
    second = run("token", "bot").stdout.strip()
    assert second != token
    assert store.check_token(token) is None
    assert store.check_token(second) is not None
    assert store.check_token("mla_not-a-token") is None
    store.close()


@pytest.mark.parametrize("args, words", [
    (("add", "ada", "--role", "boss"), ["--role", "boss"]),
    (("add", "Ada Lovelace", "--role", "admin"), ["NAME", "lower-case letters", "Ada Lovelace"]),
    (("add", "-x", "--role", "admin"), ["-x"]),
    (("set-role", "ada", "boss"), ["ROLE", "boss"]),
    (("disable", "nobody"), ["NAME", "existing account", "nobody"]),
    (("enable", "nobody"), ["NAME", "nobody"]),
    (("set-role", "nobody", "admin"), ["NAME", "nobody"]),
    (("token", "nobody"), ["NAME", "nobody"]),
])
def test_bad_input_is_one_line_exit_2(home: Path, database: str | None, args: tuple[str, ...],
                                      words: list[str]) -> None:
    one_line_error(run(*args), *words)
    assert not store_created(home, database)  # nothing half-written
    run("add", "ada", "--role", "admin")
    one_line_error(run(*args), *words)
    assert [a.name for a in _accounts(home)] == ["ada"]


def test_existing_name_is_refused_and_nothing_changes(home: Path) -> None:
    run("add", "ada", "--role", "admin", "--password-stdin", input="s3cret-words\n")
    one_line_error(run("add", "ada", "--role", "stakeholder", "--password-stdin",
                       input="other-words\n"), "NAME", "no account has yet", "ada")
    [account] = _accounts(home)
    assert account.role == "admin"


@pytest.mark.parametrize("given, words", [
    ("", ["password", "empty"]),
    ("\n", ["password", "empty"]),
    ("short\n", ["password", "8 to"]),
])
def test_bad_password_is_refused_and_no_account_made(home: Path, database: str | None,
                                                     given: str, words: list[str]) -> None:
    one_line_error(run("add", "ada", "--role", "admin", "--password-stdin", input=given),
                   *words)
    assert not store_created(home, database)


def test_every_role_can_be_given(home: Path) -> None:
    for role in ROLES:
        assert run("add", f"user-{role}", "--role", role).exit_code == 0
    assert sorted(a.role for a in _accounts(home)) == sorted(ROLES)


def _accounts(home: Path) -> list[object]:
    store = AccountStore(home)
    try:
        return list(store.list())
    finally:
        store.close()


def test_the_last_admin_is_kept(home: Path) -> None:
    run("add", "root", "--role", "admin")
    run("add", "sam", "--role", "stakeholder")
    one_line_error(run("disable", "root"), "NAME", "not the last enabled admin", "root")
    one_line_error(run("set-role", "root", "compliance"), "not the last enabled admin")
    assert [(a.name, a.role, a.disabled) for a in _accounts(home)] == [  # type: ignore[attr-defined]
        ("root", "admin", False), ("sam", "stakeholder", False)]
    assert run("set-role", "sam", "admin").exit_code == 0
    assert run("disable", "root").exit_code == 0
