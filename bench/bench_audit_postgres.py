"""Benchmark the decision log in PostgreSQL beside the SQLite file, in the same run: appends
per second from one process and from four at once (the head row's lock serialises them), and
verify time.

The server is the tests' throwaway cluster (tests/postgres.py: a Unix socket, fsync=off), so
neither store flushes to disk here: SQLite runs with synchronous=OFF on the same folder to
compare like with like. Figures are ratios against SQLite measured in this run, not targets.

    python bench/bench_audit_postgres.py            # 2,000 appends
    python bench/bench_audit_postgres.py --quick    # 300
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKER = """
import sys
from pathlib import Path
from engine.audit import open_log
from tests.audit_standin import make_assessment
home, url, count = Path(sys.argv[1]), sys.argv[2] or None, int(sys.argv[3])
log = open_log(home, database=url)
if url is None:
    log.conn.execute("PRAGMA synchronous=OFF")
for n in range(count):
    log.append(make_assessment(n))
"""


def appends(home: Path, url: str | None, n: int) -> float:
    """Appends per second from this process."""
    from engine.audit import open_log
    from tests.audit_standin import make_assessment

    items = [make_assessment(i) for i in range(n)]
    log = open_log(home, database=url)
    if url is None:
        log.conn.execute("PRAGMA synchronous=OFF")
    start = time.perf_counter()
    for item in items:
        log.append(item)
    elapsed = time.perf_counter() - start
    log.close()
    return n / elapsed


def parallel(home: Path, url: str | None, processes: int, each: int) -> float:
    """Appends per second of several processes on one log."""
    from engine.audit import open_log

    open_log(home, database=url).close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), url or "", str(each)],
                                env=env) for _ in range(processes)]
    if any(w.wait() for w in workers):
        raise SystemExit("a worker failed")
    return processes * each / (time.perf_counter() - start)


def verify_seconds(home: Path, url: str | None) -> tuple[int, float]:
    from engine.audit import open_log

    log = open_log(home, create=False, database=url)
    start = time.perf_counter()
    records = log.verify()["records"]
    return records, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    import psycopg

    from tests.postgres import throwaway_cluster

    n = 300 if args.quick else 2000
    each = n // 4
    os.environ.pop("MLADVISOR_AUDIT_KEY", None)
    os.environ.pop("MLADVISOR_DATABASE", None)
    work = Path(tempfile.mkdtemp(prefix="bench-audit-pg-"))
    try:
        with throwaway_cluster() as server:
            def database(name: str) -> str:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {name}")
                return server.replace("/postgres?", f"/{name}?", 1)

            one_sqlite = appends(work / "one-sqlite", None, n)
            one_pg = appends(work / "one-pg", database("one"), n)
            print(f"appends/s, 1 process:    SQLite {one_sqlite:7.0f}   PostgreSQL {one_pg:7.0f}"
                  f"   ({one_pg / one_sqlite:.2f}x; {n} appends, no flush in either)")
            four_sqlite = parallel(work / "four-sqlite", None, 4, each)
            four_url = database("four")
            four_pg = parallel(work / "four-pg", four_url, 4, each)
            print(f"appends/s, 4 processes:  SQLite {four_sqlite:7.0f}   PostgreSQL"
                  f" {four_pg:7.0f}   ({four_pg / four_sqlite:.2f}x; {4 * each} appends)")
            records, sqlite_s = verify_seconds(work / "one-sqlite", None)
            _, pg_s = verify_seconds(work / "four-pg", four_url)
            print(f"verify {records} records:   SQLite {sqlite_s:7.2f} s PostgreSQL"
                  f" {pg_s:7.2f} s ({pg_s / sqlite_s:.2f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
