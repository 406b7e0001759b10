"""PostgreSQL for the audit tests: one throwaway cluster per test session (per xdist worker),
a fresh database per test (`CREATE DATABASE`, so no test sees another's rows), and `backend`,
which runs a test once against the SQLite file and once against PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.postgres import throwaway_cluster


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of the session's server (its `postgres` maintenance database)."""
    with throwaway_cluster() as url:
        yield url


def fresh_database(server: str) -> str:
    """A new empty database on the server; its URL."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    return fresh_database(pg_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, home: Path,
            monkeypatch: pytest.MonkeyPatch) -> str:
    """"sqlite" (the log in MLADVISOR_HOME) or "postgresql" (MLADVISOR_DATABASE set to a
    fresh database): `open_log()` and the CLI then use that store."""
    monkeypatch.delenv("MLADVISOR_DATABASE", raising=False)
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("pg_server"))
        monkeypatch.setenv("MLADVISOR_DATABASE", url)
    return str(request.param)
