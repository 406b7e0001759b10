"""Benchmark the web's past-assessments filter against a log of real decisions.

The log holds copies of the bundled examples' decisions under fresh ids and numbered names;
one record with a unique name is the oldest, so looking for it reads the whole log. Printed
(never asserted): the unfiltered first page (one indexed query: the baseline), a filter that
fills its page from recent records, the whole-log filter, and, measured in the same run, a
whole-log scan in Python (every body parsed, as a filter without SQLite's json_extract would
do). Target (issue 17): a filter over 10,000 records answers in well under a second.

    python bench/bench_past_filter.py            # 10,000 records
    python bench/bench_past_filter.py --quick    # 1,000 records
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def decisions() -> list[Any]:
    """The bundled examples, assessed once each."""
    from engine.api import assess_files

    return [assess_files(p) for p in sorted((ROOT / "examples").glob("*.yaml"))
            if p.name != "expected.yaml"]


def copy_of(base: Any, name: str) -> Any:
    decision = dict(base.decision, assessment_id=str(uuid.uuid4()),
                    project=dict(base.decision["project"], name=name))
    return SimpleNamespace(decision=decision, input_doc=base.input_doc, rulebase=base.rulebase)


def timed(call: Any, repeat: int = 5) -> tuple[float, Any]:
    """Best of `repeat` wall times in ms, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--records", type=int)
    args = parser.parse_args()
    count = args.records or (1_000 if args.quick else 10_000)

    from engine.audit import open_log

    bases = decisions()
    with tempfile.TemporaryDirectory() as tmp:
        log = open_log(Path(tmp))
        start = time.perf_counter()
        log.append(copy_of(bases[0], "Needle in the haystack"))
        for n in range(count - 1):
            base = bases[n % len(bases)]
            log.append(copy_of(base, f"{base.decision['project']['name']} #{n}"))
        size = (Path(tmp) / "audit.sqlite").stat().st_size / 1e6
        print(f"log: {count:,} records, {size:.0f} MB, built in "
              f"{time.perf_counter() - start:.1f} s")

        page, rows = timed(lambda: log.page(limit=51))
        print(f"first page, no filter:         {page:8.1f} ms  ({len(rows)} rows; baseline)")
        recent, rows = timed(lambda: log.page(limit=51, search="ticket routing"))
        print(f"filter, page filled early:     {recent:8.1f} ms  ({len(rows)} rows; "
              f"{recent / page:.1f}x baseline)")
        whole, rows = timed(lambda: log.page(limit=51, search="needle"), repeat=3)
        assert len(rows) == 1
        print(f"filter, whole log (SQLite):    {whole:8.1f} ms  ({len(rows)} row; "
              f"{whole / page:.0f}x baseline; {whole / count * 1000:.1f} us/record)")

        def python_scan() -> list[Any]:
            return [s for s in (r.summary() for r in log.iter_records(kind="assessment"))
                    if "needle" in str(s.project).lower()]

        naive, rows = timed(python_scan, repeat=1)
        assert len(rows) == 1
        print(f"whole log parsed in Python:    {naive:8.1f} ms  (json_extract is "
              f"{naive / whole:.1f}x faster)")
        log.close()


if __name__ == "__main__":
    main()
