"""The team store a test runs against: the embedded SQLite files, or a fresh PostgreSQL database.

`database` is parametrised over both: for PostgreSQL it creates an empty database on one
throwaway cluster per test session (tests/postgres.py) and sets MLADVISOR_DATABASE to it, so the
code under test chooses PostgreSQL the way a deployment does; it yields the URL, or None for
SQLite. A test that must name the URL (`serve --database`) uses the value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from engine.paths import DATABASE_ENV
from tests.postgres import throwaway_cluster

STORES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """One throwaway PostgreSQL server for the whole run (per xdist worker)."""
    with throwaway_cluster() as url:
        yield url


def fresh_database(cluster: str) -> str:
    """A new empty database on the cluster; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(cluster)._replace(path="/" + name))


@pytest.fixture(params=STORES)
def database(request: pytest.FixtureRequest,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """None for SQLite in MLADVISOR_HOME, else the URL of a fresh PostgreSQL database (also
    in MLADVISOR_DATABASE)."""
    if request.param == "sqlite":
        monkeypatch.delenv(DATABASE_ENV, raising=False)
        yield None
        return
    url = fresh_database(request.getfixturevalue("pg_cluster"))
    monkeypatch.setenv(DATABASE_ENV, url)
    yield url


def store_created(home: Path, url: str | None) -> bool:
    """Whether the account store exists (team.sqlite, or the tables in the database), checked
    directly, not through the code under test."""
    if url is None:
        return (home / "team.sqlite").exists()
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('team_accounts') IS NOT NULL").fetchone()
    return bool(row and row[0])
