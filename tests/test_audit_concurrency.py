"""Several processes appending at once, and a process killed in the middle of an append."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.audit import open_log

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from engine.audit import open_log
    from tests.audit_standin import make_assessment
    home, count, name = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    log = open_log(home)
    for n in range(count):
        log.append(make_assessment(n, respondent=name))
    print("done", flush=True)
""")

# Appends until killed; with "pause" it stops inside the open transaction of its 4th append,
# after the rule base rows and before the record row, and says so.
LOOPER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from engine.audit import open_log
    from tests.audit_standin import make_assessment
    home, mode = Path(sys.argv[1]), sys.argv[2]
    log = open_log(home)
    if mode == "pause":
        real = log._db.conn
        class Pausing:
            calls = 0
            def execute(self, sql, *args):
                if sql.startswith("INSERT INTO records"):
                    Pausing.calls += 1
                    if Pausing.calls == 4:
                        print("inside", flush=True)
                        time.sleep(60)
                return real.execute(sql, *args)
            def __getattr__(self, name):
                return getattr(real, name)
        log._db._conn = Pausing()
    n = 0
    while True:
        log.append(make_assessment(n, findings=60))
        n += 1
        if n == 3:
            print("running", flush=True)
""")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, MLADVISOR_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("MLADVISOR_AUDIT_KEY", None)
    return env


@pytest.mark.slow
def test_four_processes_append_one_thousand_each(tmp_path: Path) -> None:
    home = tmp_path / "home"
    open_log(home).close()  # the schema exists; each worker still races on every append
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), "1000", f"w{i}"],
                                env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(4)]
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err.decode()
        assert out.strip() == b"done"
    log = open_log(home)
    summary = log.verify()
    assert summary["records"] == 4000
    per_worker: dict[str, int] = {}
    for record in log.list():
        per_worker[record.respondent] = per_worker.get(record.respondent, 0) + 1
    assert per_worker == {"w0": 1000, "w1": 1000, "w2": 1000, "w3": 1000}


def test_processes_race_to_create_the_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), "20", f"w{i}"],
                                env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(4)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()
    assert open_log(home).verify()["records"] == 80


def test_sigkill_inside_the_append_transaction(tmp_path: Path) -> None:
    home = tmp_path / "home"
    child = subprocess.Popen([sys.executable, "-c", LOOPER, str(home), "pause"],
                             env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"running\n"
        assert child.stdout.readline() == b"inside\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    log = open_log(home)
    assert log.verify()["records"] == 3  # the fourth append left nothing behind
    from tests.audit_standin import make_assessment

    log.append(make_assessment(99))  # and the write lock was released
    assert log.verify()["records"] == 4


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_log_that_verifies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    previous = 0
    for delay in (0.05, 0.13, 0.21, 0.34, 0.02, 0.4):
        child = subprocess.Popen([sys.executable, "-c", LOOPER, str(home), "run"],
                                 env=_env(home), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"running\n"
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
        summary = open_log(home).verify()
        assert summary["records"] >= previous + 3
        previous = summary["records"]


def test_verify_while_others_append(tmp_path: Path) -> None:
    home = tmp_path / "home"
    open_log(home).close()
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), "300", f"w{i}"],
                                env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(2)]
    checks = 0
    try:
        while any(w.poll() is None for w in workers):
            summary = open_log(home).verify()  # never a false alarm mid-append
            assert summary["records"] <= 600
            checks += 1
    finally:
        for worker in workers:
            worker.wait(timeout=300)
    assert all(w.returncode == 0 for w in workers)
    assert checks > 0
    assert open_log(home).verify()["records"] == 600
