"""Benchmark the decision log: durable appends per second, bytes per record on disk, verify
time, replay throughput.

Targets (issue 15; baselines measured on main before compression, 2 cores): durable appends
from one process >= 1,000/s (690/s then, 0.10 ms flushes); <= 4 KB per record on disk (17.2 KB
then); verify 10,000 records in < 1 s (0.44 s then). The same records stored the old way
(plain bodies, as every log written before compression holds them) are measured in the same
run for bytes per record and verify time.

Records are real decisions: the architect cases and examples assessed by the engine, appended
in turn, each under a fresh assessment id, so their size and variety are what `assess` writes.
The zstd dictionary new rows are compressed against was trained on other decisions (the
hold-out cases, scripts/train_audit_dictionary.py), so bytes per record are for unseen ones.
Every commit is durable (WAL, synchronous=FULL, one transaction and one fsync per record, on
disk, not tmpfs), so one process cannot append faster than one flush per record: the disk's
flush latency is printed around each run with the ceiling it sets.

    python bench/bench_audit.py            # full run
    python bench/bench_audit.py --quick    # small sizes
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

from targets import target  # noqa: E402 - bench/targets.py, beside this script

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


def cycle(bases: list[Any], n: int) -> list[Copy]:
    """n records made from the real assessments in turn."""
    return [fresh(bases[i % len(bases)]) for i in range(n)]


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


def real_assessments(limit: int) -> list[Any]:
    """Assessments of the architect cases and the examples (their evidence files included)."""
    import yaml

    from engine.api import assess_files

    out = [real_assessment()]
    for cases in (ROOT / "bench" / "architect", ROOT / "examples"):
        for case in yaml.safe_load((cases / "expected.yaml").read_text()):
            if len(out) >= limit:
                return out
            evidence = [cases / case[k] if case.get(k) else None for k in ("benchmarks", "drift")]
            out.append(assess_files(cases / case["file"], *evidence))
    return out


def bench_appends(home: Path, bases: list[Any], n: int,
                  durable: bool = True) -> tuple[float, float]:
    """(appends per second, CPU ms per append); durable=False only to build big logs fast for
    the size and verify figures."""
    from engine.audit import open_log

    log = open_log(home)
    if not durable:
        log.conn.execute("PRAGMA synchronous=OFF")
    items = cycle(bases, n)
    start, cpu = time.perf_counter(), time.process_time()
    for item in items:
        log.append(item, {"html": "0" * 64})
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    log.close()
    return n / elapsed, cpu / n * 1000


def on_disk(home: Path) -> int:
    """Bytes of the log file once its WAL is checkpointed into it."""
    import sqlite3

    path = home / "audit.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"))
               if p.exists())


def plain_copy(home: Path, target: Path) -> None:
    """The same log with every body stored plain, as logs written before compression hold
    them (the chain is over the canonical bytes, so it still verifies)."""
    import sqlite3

    from engine.audit import codec as codecs
    from engine.audit.store import _SCHEMA, _split_sql

    target.mkdir(parents=True)
    shutil.copy(home / "audit.sqlite", target / "audit.sqlite")
    conn = sqlite3.connect(target / "audit.sqlite", isolation_level=None)
    blobs = dict(conn.execute("SELECT sha256, content FROM blobs"))
    conn.create_function("plain", 2, lambda body, codec: codecs.decode(body, codec, blobs.get),
                         deterministic=True)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET body=plain(body, codec), codec=NULL")
    conn.execute([s for s in _split_sql(_SCHEMA) if "records_no_update" in s][0])
    conn.execute("VACUUM")
    conn.close()
    head = open_head(home)
    if head is not None:
        (target / "audit.head.json").write_bytes(head)


def open_head(home: Path) -> bytes | None:
    path = home / "audit.head.json"
    return path.read_bytes() if path.exists() else None


def bench_parallel(home: Path, base: Any, processes: int, each: int) -> float:
    """Appends per second of several processes on one log (one real decision, fresh ids)."""
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
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to put the logs (default: a temporary folder, on disk)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-audit-", dir=args.dir))
    os.environ.pop("MLADVISOR_AUDIT_KEY", None)
    os.environ["MLADVISOR_HOME"] = str(work / "unused")
    try:
        run(work, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, quick: bool) -> None:
    from engine.audit.canonical import canonical_json

    bases = real_assessments(8 if quick else 40)
    sizes = [len(canonical_json({"decision": b.decision, "input": b.input_doc})) for b in bases]
    print(f"records: {len(bases)} real decisions in turn, canonical JSON"
          f" {sum(sizes) / len(sizes) / 1024:.1f} KB on average (decision + input)")
    n = 500 if quick else 5000
    before = flush_latency_ms(work)
    rate, cpu = bench_appends(work / "plain", bases, n)
    after = flush_latency_ms(work, 50)
    ceiling = 1000 / max(before, after)
    print(f"appends/s, 1 process, durable on disk: {rate:8.0f}   (baseline 690, target >= 1000;"
          f" {n} appends; {cpu:.2f} CPU ms each)")
    target("audit appends/s, durable, 1 process", rate, ">=", 1000, "/s")
    print(f"  disk flush (fdatasync) {before:.2f} ms before, {after:.2f} ms after: one flush per"
          f" append caps one process at ~{ceiling:.0f}/s here ({100 * rate / ceiling:.0f}% of it)")
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        ram = Path(tempfile.mkdtemp(prefix="bench-audit-", dir=shm))
        try:
            rate, cpu = bench_appends(ram, bases, n)
        finally:
            shutil.rmtree(ram, ignore_errors=True)
        print(f"appends/s, same on tmpfs (no disk flush): {rate:8.0f}   ({cpu:.2f} CPU ms each;"
              " for reference, not durable)")
    os.environ["MLADVISOR_AUDIT_KEY"] = str(_key(work))
    rate, cpu = bench_appends(work / "signed", bases, n // 2)
    print(f"appends/s, 1 process, Ed25519:    {rate:8.0f}   ({n // 2} appends;"
          f" flush now {flush_latency_ms(work, 50):.2f} ms)")
    os.environ.pop("MLADVISOR_AUDIT_KEY")
    each = 150 if quick else 1000
    rate = bench_parallel(work / "parallel", bases[0], 4, each)
    print(f"appends/s, 4 processes together:  {rate:8.0f}   ({4 * each} appends, chain "
          f"verified; flush now {flush_latency_ms(work, 50):.2f} ms)")
    big, plain = work / "big", work / "big-plain"
    bench_appends(big, bases, 10000, durable=False)
    plain_copy(big, plain)
    size, old_size = on_disk(big) / 10000, on_disk(plain) / 10000
    print(f"bytes per record on disk:         {size:8.0f}   (baseline 17,200; target <= 4,096;"
          f" the same records stored plain, as before: {old_size:,.0f}, {old_size / size:.1f}x)")
    target("audit bytes per record on disk", size, "<=", 4096, " B")
    one = on_disk(work / "parallel") / (4 * each)
    print(f"  one decision repeated under new ids (the baseline's workload): {one:,.0f} bytes"
          " per record")
    count, seconds = bench_verify(big)
    _, old_seconds = bench_verify(plain)
    print(f"verify {count} unsigned records:  {seconds:8.2f} s   (baseline 0.44 s, target < 1 s;"
          f" the same records stored plain: {old_seconds:.2f} s)")
    if count == 10000:  # the target is for 10,000 records
        target("audit verify 10,000 records", seconds, "<", 1, " s")
    os.environ["MLADVISOR_AUDIT_KEY"] = str(_key(work))
    signed = work / "bigsigned"
    bench_appends(signed, bases, 1000 if quick else 10000, durable=False)
    os.environ.pop("MLADVISOR_AUDIT_KEY")
    count, seconds = bench_verify(signed)
    print(f"verify {count} signed records:    {seconds:8.2f} s")
    replays = 50 if quick else 1000
    # replayed: the contract's example; the id-swapped copies of some architect cases do not
    # compare equal on replay (the real assessments do: checked by hand, 12 of 12)
    count, recorded, both = bench_replay(work / "parallel", replays)
    print(f"replay/s, recorded rule base:     {recorded:8.0f}   ({count} decisions, all "
          "reproduced)")
    print(f"replay/s, recorded + current:     {both:8.0f}")


def _key(work: Path) -> Path:
    from engine.audit.signing import KEY_FILE, keygen

    keys = work / "keyhome"
    if not (keys / "keys" / KEY_FILE).exists():
        keygen(keys)
    return keys / "keys" / KEY_FILE


if __name__ == "__main__":
    main()
