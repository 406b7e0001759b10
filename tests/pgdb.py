"""The team store a test runs against: the embedded SQLite files, or a fresh PostgreSQL database.

`database` is parametrised over both: for PostgreSQL it creates an empty database on the
session's throwaway cluster (`pg_server`, tests/pg_fixtures.py) and sets MLADVISOR_DATABASE to
it, so the code under test chooses PostgreSQL the way a deployment does; it yields the URL, or
None for SQLite. A test that must name the URL (`serve --database`) uses the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.paths import DATABASE_ENV
from tests.pg_fixtures import fresh_database

STORES = ("sqlite", "postgresql")


@pytest.fixture(params=STORES)
def database(request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """None for SQLite in MLADVISOR_HOME, else the URL of a fresh PostgreSQL database (also
    in MLADVISOR_DATABASE)."""
    if request.param == "sqlite":
        monkeypatch.delenv(DATABASE_ENV, raising=False)
        yield None
        return
    url = fresh_database(request.getfixturevalue("pg_server"))
    monkeypatch.setenv(DATABASE_ENV, url)
    yield url


@pytest.fixture(scope="module", params=STORES)
def module_database(request: pytest.FixtureRequest) -> str | None:
    """`database` for a module's shared server: None for SQLite, else a fresh database's URL,
    which the module passes on itself (MLADVISOR_DATABASE is per test)."""
    if request.param == "sqlite":
        return None
    return fresh_database(request.getfixturevalue("pg_server"))


def store_created(home: Path, url: str | None) -> bool:
    """Whether the account store exists (team.sqlite, or the tables in the database), checked
    directly, not through the code under test."""
    if url is None:
        return (home / "team.sqlite").exists()
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('mladvisor_team.accounts') IS NOT NULL").fetchone()
    return bool(row and row[0])


def tamper_log(home: Path, url: str | None, sql: str, args: tuple[object, ...]) -> None:
    """Change the log's rows as someone with write access would (triggers off, then back on):
    in audit.sqlite, or in the database's `mladvisor_audit` tables; `sql` uses `?` marks."""
    if url is None:
        from tests.test_audit_tamper import tamper

        tamper(home / "audit.sqlite", (sql, args))
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL search_path TO mladvisor_audit")
        conn.execute("ALTER TABLE records DISABLE TRIGGER USER")
        conn.execute(sql.replace("?", "%s"), args)
        conn.execute("ALTER TABLE records ENABLE TRIGGER USER")
