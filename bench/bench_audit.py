"""Benchmark the decision log: appends per second, verify time, replay throughput.

Targets (issue 5): at least 1,000 appends/s; verify 10,000 records in under 2 s.
Records are real decisions (the contract's example answers assessed by the engine; each append
gets a fresh assessment id), so their size is what `assess` writes. Every commit is durable
(WAL, synchronous=FULL, one transaction per record), so appends/s is bounded by the disk's
flush latency, printed first for context.

    python bench/bench_audit.py            # full run
    python bench/bench_audit.py --quick    # under a minute
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANSWERS = {
    "schema": "mladvisor.answers/1",
    "project": {"name": "Support ticket routing", "respondent": "Dana Lee, Support Ops",
                "stage": "idea"},
    "business": {"problem_statement": "Route incoming tickets to the right team",
                 "objective_measurable": True, "kpi": "median time to first response",
                 "stakeholders_aligned": True, "expected_value_usd_per_month": 20000,
                 "budget_usd_per_month": 3000,
                 "success_criteria": [{"metric": "f1_macro", "threshold": 0.85,
                                       "goal": "at-least"},
                                      {"metric": "latency_p95_ms", "threshold": 500,
                                       "goal": "at-most"}]},
    "problem": {"task": "text-classification", "rules_suffice": False,
                "domain_specificity": "specialized", "explainability_required": False,
                "deployment_target": "cloud", "requests_per_month": 200000},
    "data": {"available": True, "sources_identified": True, "labeled_examples": 12000,
             "quality": "good", "inputs_outputs_defined": True, "contains_personal_data": True},
    "team": {"ml_expertise": "basic"},
    "monitoring": {"plan_exists": False, "ground_truth_available": True,
                   "sensitive_attributes": ["region"]},
}

WORKER = """
import pickle, sys, uuid
from pathlib import Path
from types import SimpleNamespace
from engine.audit import open_log
decision, input_doc, version, sha256, files = pickle.loads(Path(sys.argv[2]).read_bytes())
rb = SimpleNamespace(version=version, sha256=sha256, files=files)
log = open_log(Path(sys.argv[1]))
for _ in range(int(sys.argv[4])):
    d = dict(decision, assessment_id=str(uuid.uuid4()))
    log.append(SimpleNamespace(decision=d, input_doc=input_doc, rulebase=rb))
"""


class Copy:
    """An Assessment-shaped copy of a real assessment under a new id."""

    def __init__(self, decision: dict[str, Any], input_doc: dict[str, Any], rulebase: Any):
        self.decision, self.input_doc, self.rulebase = decision, input_doc, rulebase


def fresh(base: Any) -> Copy:
    decision = dict(base.decision)
    decision["assessment_id"] = str(uuid.uuid4())
    return Copy(decision, base.input_doc, base.rulebase)


def flush_latency_ms(directory: Path, n: int = 200) -> float:
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    start = time.perf_counter()
    for _ in range(n):
        os.write(fd, b"x" * 4096)
        os.fdatasync(fd)
    elapsed = time.perf_counter() - start
    os.close(fd)
    path.unlink()
    return elapsed / n * 1000


def real_assessment() -> Any:
    from engine.api import assess

    return assess({"answers": copy.deepcopy(ANSWERS), "benchmarks": None, "drift": None})


def bench_appends(home: Path, base: Any, n: int, durable: bool = True) -> float:
    """Appends per second; durable=False only to build big logs fast for the verify figures."""
    from engine.audit import open_log

    log = open_log(home)
    if not durable:
        log.conn.execute("PRAGMA synchronous=OFF")
    items = [fresh(base) for _ in range(n)]
    start = time.perf_counter()
    for item in items:
        log.append(item, {"html": "0" * 64})
    elapsed = time.perf_counter() - start
    log.close()
    return n / elapsed


def bench_parallel(home: Path, base: Any, processes: int, each: int) -> float:
    import pickle

    from engine.audit import open_log

    open_log(home).close()
    blob = home / "base.pickle"
    rb = base.rulebase
    blob.write_bytes(pickle.dumps((base.decision, base.input_doc, rb.version, rb.sha256,
                                   dict(rb.files))))
    start = time.perf_counter()
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(home), str(blob), str(ROOT),
                                 str(each)], env=dict(os.environ, PYTHONPATH=str(ROOT)))
               for _ in range(processes)]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit("a worker failed")
    elapsed = time.perf_counter() - start
    assert open_log(home).verify()["records"] == processes * each
    return processes * each / elapsed


def bench_verify(home: Path) -> tuple[int, float]:
    from engine.audit import open_log

    log = open_log(home)
    start = time.perf_counter()
    summary = log.verify()
    return summary["records"], time.perf_counter() - start


def bench_replay(home: Path, n: int) -> tuple[int, float, float]:
    from engine.audit import open_log
    from engine.audit.replay import replay

    log = open_log(home)
    ids = [r.record_id for r in log.list(limit=n)]
    start = time.perf_counter()
    results = replay(log, ids, current=False)
    recorded = time.perf_counter() - start
    assert all(r["reproduced"] for r in results)
    start = time.perf_counter()
    results = replay(log, ids, current=True)
    both = time.perf_counter() - start
    return len(ids), len(ids) / recorded, len(ids) / both


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to put the logs (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-audit-", dir=args.dir))
    os.environ.pop("MLADVISOR_AUDIT_KEY", None)
    os.environ["MLADVISOR_HOME"] = str(work / "unused")
    try:
        from engine.audit.canonical import canonical_json

        base = real_assessment()
        size = len(canonical_json({"decision": base.decision, "input": base.input_doc}))
        print(f"disk flush (fdatasync) latency: {flush_latency_ms(work):.2f} ms   "
              f"record size: {size / 1024:.1f} KB (real decision + input)")
        n = 500 if args.quick else 5000
        rate = bench_appends(work / "plain", base, n)
        print(f"appends/s, 1 process, unsigned:   {rate:8.0f}   ({n} appends; target >= 1000;"
              f" flush now {flush_latency_ms(work, 50):.2f} ms)")
        shm = Path("/dev/shm")
        if shm.is_dir() and os.access(shm, os.W_OK):
            ram = Path(tempfile.mkdtemp(prefix="bench-audit-", dir=shm))
            try:
                rate = bench_appends(ram, base, n)
            finally:
                shutil.rmtree(ram, ignore_errors=True)
            print(f"appends/s, same on tmpfs (no disk flush): {rate:8.0f}")
        os.environ["MLADVISOR_AUDIT_KEY"] = str(_key(work))
        rate = bench_appends(work / "signed", base, n // 2)
        print(f"appends/s, 1 process, Ed25519:    {rate:8.0f}   ({n // 2} appends;"
              f" flush now {flush_latency_ms(work, 50):.2f} ms)")
        os.environ.pop("MLADVISOR_AUDIT_KEY")
        each = 150 if args.quick else 1000
        rate = bench_parallel(work / "parallel", base, 4, each)
        print(f"appends/s, 4 processes together:  {rate:8.0f}   ({4 * each} appends, chain "
              f"verified; flush now {flush_latency_ms(work, 50):.2f} ms)")
        big = work / "big"
        bench_appends(big, base, 10000, durable=False)
        count, seconds = bench_verify(big)
        print(f"verify {count} unsigned records:  {seconds:8.2f} s   (target < 2 s)")
        os.environ["MLADVISOR_AUDIT_KEY"] = str(_key(work))
        signed = work / "bigsigned"
        bench_appends(signed, base, 1000 if args.quick else 10000, durable=False)
        os.environ.pop("MLADVISOR_AUDIT_KEY")
        count, seconds = bench_verify(signed)
        print(f"verify {count} signed records:    {seconds:8.2f} s")
        size_mb = (big / "audit.sqlite").stat().st_size / 1e6
        print(f"log file for 10,000 records:       {size_mb:8.1f} MB")
        replays = 50 if args.quick else 1000
        count, recorded, both = bench_replay(big, replays)
        print(f"replay/s, recorded rule base:     {recorded:8.0f}   ({count} decisions, all "
              "reproduced)")
        print(f"replay/s, recorded + current:     {both:8.0f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _key(work: Path) -> Path:
    from engine.audit.signing import KEY_FILE, keygen

    keys = work / "keyhome"
    if not (keys / "keys" / KEY_FILE).exists():
        keygen(keys)
    return keys / "keys" / KEY_FILE


if __name__ == "__main__":
    main()
