"""Report rendering benchmark: time and peak memory of typical, large and hostile reports.

Each measurement runs in a fresh child process so that peak RSS belongs to one render and
import costs are visible. Figures are printed, never asserted (targets of issue 15: a typical
PDF rendered in under 1.2 s, 2.5 s of process wall and 200 MB). The typical report is the
architect's edition; the executive and audit editions are timed beside it.

    python bench/bench_report.py            # full run (50 reports in child processes)
    python bench/bench_report.py --quick    # a few minutes
    python bench/bench_report.py --hostile  # only the pathological decisions

The pathological decisions (5,000 findings, 2,000 options, a 100,000-character word, 50,000
drift features, a 1 MB project name, every list long at once) are those of
tests/test_report_limits.py; each render is killed after HOSTILE_TIMEOUT seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from targets import target  # bench/targets.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "report"
TARGET_SECONDS = 1.2   # issue 15: render, process wall and peak memory of a typical PDF
TARGET_WALL = 2.5
TARGET_MB = 200.0
HOSTILE_TIMEOUT = 300

# Peak memory is VmHWM of the child's own address space: ru_maxrss would also count the
# memory of the process it was forked from.
PEAK = r"""
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

CHILD = PEAK + r"""
import json, sys, time
t0 = time.perf_counter()
from engine.report import render_html, render_pdf
import weasyprint, jinja2  # import cost counted separately (charts need no matplotlib)
t1 = time.perf_counter()
decision = json.load(open(sys.argv[1], encoding="utf-8"))
fmt, repeat = sys.argv[2], int(sys.argv[3])
audience = sys.argv[4] if len(sys.argv) > 4 else "architect"
times, cpu = [], []
for _ in range(repeat):
    start, start_cpu = time.perf_counter(), time.process_time()
    data = (render_pdf if fmt == "pdf" else render_html)(decision, audience)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
print(json.dumps({"imports": t1 - t0, "times": times, "cpu": cpu, "bytes": len(data),
                  "peak_mb": peak_mb()}))
"""


def child(path: Path, fmt: str, repeat: int = 1, timeout: float | None = None,
          audience: str = "architect") -> dict:
    """Render in a fresh interpreter; returns its timings and peak resident memory."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), fmt, str(repeat),
                             audience],
                            capture_output=True, text=True, check=True, cwd=ROOT,
                            timeout=timeout)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall"] = time.perf_counter() - started
    return figures


def pages(path: Path) -> int:
    """Page count, rendered in a child so this process stays small for the batch runs."""
    code = ("import io, json, sys; from pypdf import PdfReader; "
            "from engine.report import render_pdf; "
            "d = json.load(open(sys.argv[1], encoding='utf-8')); "
            "print(len(PdfReader(io.BytesIO(render_pdf(d))).pages))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    return int(result.stdout.strip())


def report_line(label: str, figures: dict) -> None:
    times, cpu = figures["times"], figures["cpu"]
    first, warm = times[0], (statistics.median(times[1:]) if len(times) > 1 else None)
    warm_text = f", warm {warm:.2f} s" if warm is not None else ""
    print(f"  {label:<24} first {first:.2f} s (cpu {cpu[0]:.2f} s){warm_text}, "
          f"imports {figures['imports']:.2f} s, "
          f"process wall {figures['wall']:.2f} s, peak {figures['peak_mb']:.0f} MB, "
          f"{figures['bytes']:,} bytes")


def batch(path: Path, count: int, workers: int) -> tuple[float, list[dict]]:
    """`count` PDF reports, each in its own child process, `workers` at a time."""
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(child, [path] * count, ["pdf"] * count))
    return time.perf_counter() - started, results


def render_one(path: str) -> tuple[float, float]:
    """One PDF in a long-lived worker process: (render seconds, worker peak MB so far)."""
    from engine.report import render_pdf

    decision = json.loads(Path(path).read_text(encoding="utf-8"))
    started = time.perf_counter()
    render_pdf(decision)
    seconds = time.perf_counter() - started
    scope: dict = {}
    exec(PEAK, scope)
    return seconds, scope["peak_mb"]()


def pooled(path: Path, count: int, workers: int) -> tuple[float, list[tuple[float, float]]]:
    """`count` PDF reports over `workers` spawned worker processes that import once."""
    import multiprocessing

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, max_tasks_per_child=25,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(render_one, [str(path)] * count))
    return time.perf_counter() - started, results


def hostile_cases() -> list[tuple[str, Path]]:
    """Write each pathological decision of tests/test_report_limits.py to a temporary file."""
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location(
        "report_limits_cases", ROOT / "tests" / "test_report_limits.py")
    assert spec and spec.loader
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    base = cases.base_decision()
    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    paths = []
    for name in cases.CASES:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(cases.hostile(name, base)), encoding="utf-8")
        paths.append((name, path))
    typical = folder / "typical.json"
    typical.write_text(json.dumps(base), encoding="utf-8")
    return [("typical", typical)] + paths


def hostile_report(formats: tuple[str, ...] = ("html", "pdf")) -> None:
    """One line per pathological decision and format, beside the typical one it grew from."""
    print(f"  hostile decisions (each render killed after {HOSTILE_TIMEOUT} s):")
    for name, path in hostile_cases():
        size = path.stat().st_size / 1e6
        for fmt in formats:
            try:
                figures = child(path, fmt, 1, timeout=HOSTILE_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"  {name + ' ' + fmt:<26} over {HOSTILE_TIMEOUT} s (killed), "
                      f"decision {size:.1f} MB")
                continue
            print(f"  {name + ' ' + fmt:<26} render {figures['times'][0]:.2f} s, process wall "
                  f"{figures['wall']:.2f} s, peak {figures['peak_mb']:.0f} MB, "
                  f"{figures['bytes']:,} bytes, decision {size:.1f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs; a few minutes")
    parser.add_argument("--hostile", action="store_true",
                        help="only the pathological decisions")
    parser.add_argument("--count", type=int, default=None, help="reports in the batch run")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    count = args.count or (4 if args.quick else 50)
    repeat = 1 if args.quick else 4

    sample, large = FIXTURES / "decision-sample.json", FIXTURES / "decision-large.json"
    print(f"report benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f})")
    if args.hostile:
        hostile_report()
        return
    if not args.quick:
        print(f"  pages: typical {pages(sample)}, large {pages(large)}")
    runs = [("typical html", sample, "html"), ("typical pdf", sample, "pdf"),
            ("large pdf", large, "pdf")]
    if not args.quick:
        runs.insert(2, ("large html", large, "html"))
    for label, path, fmt in runs:
        report_line(label, child(path, fmt, repeat))
    for audience in ("executive", "audit"):  # the architect's edition is the default above
        report_line(f"typical pdf, {audience}", child(sample, "pdf", repeat, audience=audience))
    typical = child(sample, "pdf", 1)
    verdict = ("meets" if typical["times"][0] < TARGET_SECONDS and typical["peak_mb"] < TARGET_MB
               and typical["wall"] < TARGET_WALL else "misses")
    print(f"  typical pdf, cold process: render {typical['times'][0]:.2f} s (cpu "
          f"{typical['cpu'][0]:.2f} s) + imports "
          f"{typical['imports']:.2f} s, process wall {typical['wall']:.2f} s, peak "
          f"{typical['peak_mb']:.0f} MB -> {verdict} target ({TARGET_SECONDS} s render, "
          f"{TARGET_WALL} s process wall, {TARGET_MB:.0f} MB)")
    target("typical PDF render, cold process", typical["times"][0], "<", TARGET_SECONDS, " s")
    target("typical PDF process wall", typical["wall"], "<", TARGET_WALL, " s")
    target("typical PDF peak memory", typical["peak_mb"], "<", TARGET_MB, " MB")
    hostile_report(("pdf",) if args.quick else ("html", "pdf"))

    wall, results = batch(sample, count, args.workers)
    renders = [r["times"][0] for r in results]
    peaks = [r["peak_mb"] for r in results]
    print(f"  load average before the batch: {os.getloadavg()[0]:.1f}")
    print(f"  batch: {count} typical PDFs, one fresh process each, {args.workers} at a time: "
          f"{wall:.1f} s wall, {count / wall:.2f} reports/s, render median "
          f"{statistics.median(renders):.2f} s (max {max(renders):.2f} s), peak per process "
          f"median {statistics.median(peaks):.0f} MB (max {max(peaks):.0f} MB)")
    if args.quick:
        return
    wall, pooled_results = pooled(sample, count, args.workers)
    renders = [r[0] for r in pooled_results]
    print(f"  pool:  {count} typical PDFs over {args.workers} spawned workers (import once, "
          f"at most 25 reports each): {wall:.1f} s wall, {count / wall:.2f} reports/s, render "
          f"median {statistics.median(renders):.2f} s, worker peak max "
          f"{max(r[1] for r in pooled_results):.0f} MB")


if __name__ == "__main__":
    main()
