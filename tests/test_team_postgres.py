"""What only the PostgreSQL account store has to get right: several processes creating and
sharing it, and a server that refuses or cannot be reached (one line, never the password)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from engine.errors import InputError
from engine.team.accounts import AccountStore
from engine.team.postgres import PostgresTeamDB
from tests.pg_fixtures import fresh_database

pytestmark = pytest.mark.slow


def test_many_stores_creating_the_schema_at_once_all_succeed(pg_server: str) -> None:
    url = fresh_database(pg_server)
    start = threading.Barrier(8)
    failures: list[BaseException] = []
    opened: list[PostgresTeamDB] = []

    def create() -> None:
        start.wait()
        try:
            opened.append(PostgresTeamDB(url))
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(opened) == 8
    assert opened[0].insert_account("ada", "admin", "hash", False, "2026-12-02T00:00:00Z")
    assert [row[0] for row in opened[7].accounts()] == ["ada"]
    for db in opened:
        db.close()


def test_a_session_made_by_one_process_is_valid_in_another(pg_server: str,
                                                          home: Path) -> None:
    """Behind a load balancer, a login on one app process is used on the next one."""
    url = fresh_database(pg_server)
    first = AccountStore(home, database=url)
    first.add("ada", "admin", "right-password")
    session = first.start_session("ada")
    code = ("import sys; from engine.team.accounts import AccountStore; "
            "s = AccountStore(database=sys.argv[1]); a = s.session(sys.argv[2]); "
            "print(a.name if a else '-'); s.end_session(sys.argv[2])")
    other = subprocess.run([sys.executable, "-c", code, url, session], capture_output=True,
                           text=True, timeout=120, check=True,
                           env={**os.environ, "MLADVISOR_HOME": str(home / "elsewhere")})
    assert other.stdout.strip() == "ada"
    assert first.session(session) is None  # the logout there ended it here
    first.close()


def _with_password(url: str, password: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname or ''}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{dbname}" if dbname else parts.path))


def test_a_missing_database_is_one_line_without_the_password(pg_server: str) -> None:
    url = _with_password(pg_server, "s3cret-pw", dbname="no_such_db")
    with pytest.raises(InputError) as error:
        AccountStore(database=url)
    message = str(error.value)
    assert error.value.exit_code == 2 and "\n" not in message
    assert "no_such_db" in message and "does not exist" in message
    assert "s3cret-pw" not in message and "mladvisor@" in message


def test_cli_with_an_unreachable_server_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql://ada:s3cret-pw@/team?host={tmp_path / 'no-server-here'}"
    result = subprocess.run([sys.executable, "-m", "engine.cli", "users", "list"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "MLADVISOR_DATABASE": url})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "connection: a PostgreSQL server that accepts it, got " in lines[0]


def _disable(store: AccountStore, name: str, start: threading.Barrier,
             outcomes: list[str]) -> None:
    start.wait()
    try:
        store.disable(name)
        outcomes.append("done")
    except InputError:
        outcomes.append("refused")


def test_two_admins_disabling_each_other_at_once_leave_one(pg_server: str, home: Path) -> None:
    """Each process sees the other admin enabled; the lock makes the second one look again."""
    url = fresh_database(pg_server)
    setup = AccountStore(home, database=url)
    for round_ in range(5):
        first, second = f"a{round_}", f"b{round_}"
        setup.add(first, "admin", "right-password")
        setup.add(second, "admin", "right-password")
        for name in setup.list():
            if name.name not in (first, second) and not name.disabled:
                setup.disable(name.name)
        stores = [AccountStore(home, database=url) for _ in range(2)]
        start = threading.Barrier(2)
        outcomes: list[str] = []

        threads = [threading.Thread(target=_disable, args=(stores[0], second, start, outcomes)),
                   threading.Thread(target=_disable, args=(stores[1], first, start, outcomes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["done", "refused"]
        assert [a.name for a in setup.list() if a.role == "admin" and not a.disabled] in (
            [first], [second])
        for store in stores:
            store.close()
    setup.close()
