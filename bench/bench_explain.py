"""Explanation benchmark: time to explain each example (target under 1 s a case).

Explaining re-runs the engine on every candidate change, so its cost is roughly the number of
engine runs times one assessment. Both are printed per case, with the split between the
counterfactual search and the why / why-not passes. Figures are printed, never asserted.

    python bench/bench_explain.py            # every example (and evidence), 5 repeats each
    python bench/bench_explain.py --quick    # every example once
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = ROOT / "examples"
EVIDENCE = EXAMPLES / "evidence"
TARGET_SECONDS = 1.0


def cases() -> list[tuple[str, Path, Path | None, Path | None]]:
    """Every example answers file, plus the examples read with their evidence files."""
    out: list[tuple[str, Path, Path | None, Path | None]] = [
        (p.stem, p, None, None) for p in sorted(EXAMPLES.glob("*.yaml"))
        if p.name != "expected.yaml"]  # the architect's expectations, not answers
    bench = EVIDENCE / "ticket-benchmarks.csv"
    drift = EVIDENCE / "fraud-drift.json"
    if bench.exists() and (EXAMPLES / "support-ticket-routing.yaml").exists():
        out.append(("support-ticket-routing+bench", EXAMPLES / "support-ticket-routing.yaml",
                    bench, None))
    if drift.exists() and (EXAMPLES / "fraud-deployed.yaml").exists():
        out.append(("fraud-deployed+drift", EXAMPLES / "fraud-deployed.yaml", None, drift))
    if not out:  # no examples yet: the rule base's own healthy baseline
        out.append(("rulebase-baseline", Path(""), None, None))
    return out


def assess_case(answers: Path, bench: Path | None, drift: Path | None):  # noqa: ANN201
    from engine.api import assess, assess_files
    from engine.rulebase.loading import default_rulebase

    if not str(answers):
        return assess({"answers": default_rulebase().baseline})
    return assess_files(answers, bench, drift)


def measure(repeat: int) -> list[dict[str, float | int | str]]:
    from engine.explain.why import search, why, why_not

    rows = []
    for name, answers, bench, drift in cases():
        assessment = assess_case(answers, bench, drift)
        totals, searches, others = [], [], []
        result = None
        for _ in range(repeat):
            start = time.perf_counter()
            result = search(assessment)
            middle = time.perf_counter()
            why(assessment)
            why_not(assessment)
            end = time.perf_counter()
            totals.append(end - start)
            searches.append(middle - start)
            others.append(end - middle)
        assert result is not None
        start = time.perf_counter()
        for _ in range(repeat):
            assess_case(answers, bench, drift)
        per_assess = (time.perf_counter() - start) / repeat
        rows.append({
            "case": name, "verdict": assessment.decision["verdict"],
            "median_s": statistics.median(totals), "max_s": max(totals),
            "search_s": statistics.median(searches), "why_s": statistics.median(others),
            "runs": result.runs, "candidates": result.candidates,
            "counterfactuals": len(result.counterfactuals),
            "pairs": sum(len(c["changes"]) > 1 for c in result.counterfactuals),
            "assess_ms": per_assess * 1000,
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat per case")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per case (full run)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)

    started = time.perf_counter()
    from engine.api import assess
    from engine.rulebase.loading import default_rulebase

    assess({"answers": default_rulebase().baseline})  # load and compile the rule base once
    print(f"warm-up (import, load and compile the rule base): "
          f"{time.perf_counter() - started:.2f} s")

    rows = measure(repeat)
    header = (f"{'case':32} {'verdict':24} {'median':>8} {'max':>8} {'search':>8} "
              f"{'why+not':>8} {'runs':>5} {'cands':>5} {'cfs':>4} {'pairs':>5} {'assess':>8}")
    print(f"\nexplain time per case ({repeat} repeat{'s' if repeat > 1 else ''}; "
          f"target < {TARGET_SECONDS:g} s)")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case']:32} {r['verdict']:24} {r['median_s']:8.3f} {r['max_s']:8.3f} "
              f"{r['search_s']:8.3f} {r['why_s']:8.3f} {r['runs']:5d} {r['candidates']:5d} "
              f"{r['counterfactuals']:4d} {r['pairs']:5d} {r['assess_ms']:6.1f}ms")
    medians = [float(r["median_s"]) for r in rows]
    worst = max(float(r["max_s"]) for r in rows)
    runs = sum(int(r["runs"]) for r in rows)
    per_run = sum(float(r["search_s"]) for r in rows) / max(runs, 1) * 1000
    over = [r["case"] for r in rows if float(r["max_s"]) >= TARGET_SECONDS]
    print(f"\ncases: {len(rows)}; median of medians {statistics.median(medians):.3f} s; "
          f"worst {worst:.3f} s; engine runs per case {runs / len(rows):.1f}; "
          f"search cost per run {per_run:.1f} ms")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load:.2f} at the end "
          "(explain is single-threaded: a loaded machine stretches every figure)")
    print(f"target < {TARGET_SECONDS:g} s per case: "
          + ("met" if not over else f"missed by {', '.join(map(str, over))}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
