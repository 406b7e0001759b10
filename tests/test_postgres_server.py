"""The throwaway PostgreSQL server the team-service tests run against (tests/postgres.py)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.postgres import throwaway_cluster

pytestmark = pytest.mark.slow


def _server_pid(url: str) -> int:
    socket_dir = Path(parse_qs(urlsplit(url).query)["host"][0])
    return int((socket_dir.parent / "data" / "postmaster.pid").read_text().split()[0])


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may never reap the detached server)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_a_cluster_starts_unprivileged_serves_and_is_removed() -> None:
    with throwaway_cluster() as url:
        pid = _server_pid(url)
        assert _running(pid)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("mladvisor",)
            conn.execute("CREATE TABLE t (n integer)")
            conn.execute("INSERT INTO t VALUES (1), (2)")
            assert conn.execute("SELECT sum(n) FROM t").fetchone() == (3,)
        # PostgreSQL refuses root; the fixture runs it as an unprivileged user when we are root
        assert os.stat(f"/proc/{pid}").st_uid != 0
        root = Path(parse_qs(urlsplit(url).query)["host"][0]).parent
    assert not root.exists()
    assert not _running(pid)


def test_two_clusters_run_side_by_side() -> None:
    """Each test run (and each xdist worker) gets its own socket: no port to collide on."""
    with throwaway_cluster() as first, throwaway_cluster() as second:
        assert first != second
        for url in (first, second):
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
