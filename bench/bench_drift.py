"""Benchmark: `mladvisor drift` against Evidently's DataDriftPreset on the same synthetic data.

Reference and current each have 1,000,000 rows (--rows), 10 numeric and 10 categorical
columns, some drifted on purpose. Each tool runs in its own process (Evidently in
`bench/.venv-evidently`, created here, since it needs pandas < 3), reading the same Parquet
files; wall time (including reading the files and interpreter start-up) and peak resident
memory (the child's own VmHWM) are measured, and per-column verdicts compared.

    python bench/bench_drift.py            # 1,000,000 rows per side, then the scaling run
    python bench/bench_drift.py --quick    # 100,000 rows per side, under a minute (start-up
                                           # dominates there: the targets are for 1M rows)
    python bench/bench_drift.py --scaling 1000000,5000000,20000000 --skip-evidently

The scaling run (--scaling ROWS,...; by default 1M, 5M and 20M rows per side after the
comparison, none with --quick) times `mladvisor drift` alone on generated Parquet of each size
and prints seconds, peak memory and both per million rows: time should grow linearly and memory
stay flat, since the files are streamed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from targets import target  # bench/targets.py, beside this script

HERE = Path(__file__).resolve().parent
EVIDENTLY_VENV = HERE / ".venv-evidently"
EVIDENTLY_REQUIREMENTS = ["evidently==0.7.23", "pandas<3", "pyarrow"]
TARGET_SPEEDUP = 50.0
TARGET_MEMORY_RATIO = 1.5
SCALING_ROWS = (1_000_000, 5_000_000, 20_000_000)

# Column -> shift applied to the current data. Numeric: (mean shift in std, scale factor).
NUMERIC_SHIFTS = {"n0": (1.0, 1.0), "n1": (0.3, 1.0), "n2": (0.0, 1.6), "n3": (0.05, 1.0)}
# Categorical: weight multiplied on the first category of the current data.
CATEGORICAL_SHIFTS = {"c0": 6.0, "c1": 2.5, "c2": 1.15}

EVIDENTLY_RUNNER = r"""
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference, current, out = sys.argv[1:4]
ref = pd.read_parquet(reference)
cur = pd.read_parquet(current)
snapshot = Report([DataDriftPreset()]).run(cur, ref)
columns = {}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        drifted = value < threshold if "p_value" in method else value >= threshold
        columns[config["column"]] = {"method": method, "value": value, "drifted": bool(drifted)}
with open(out, "w") as handle:
    json.dump(columns, handle)
"""


def generate(directory: Path, rows: int, seed: int = 0,
             reference_rows: int | None = None) -> tuple[Path, Path]:
    """Reference and current Parquet files, written in slices to bound this process's memory."""
    rng = np.random.default_rng(seed)
    cardinalities = [3, 5, 8, 12, 20, 4, 6, 10, 15, 7]
    paths = []
    for side in ("reference", "current"):
        path = directory / f"{side}.parquet"
        writer = None
        side_rows = reference_rows if side == "reference" and reference_rows else rows
        for start in range(0, side_rows, 250_000):
            n = min(250_000, side_rows - start)
            data: dict[str, pa.Array] = {}
            for i in range(10):
                name = f"n{i}"
                shift, scale = NUMERIC_SHIFTS.get(name, (0.0, 1.0)) if side == "current" \
                    else (0.0, 1.0)
                mean, std = 10.0 * (i + 1), 2.0 + i
                if i % 3 == 0:
                    values = rng.normal(mean + shift * std, std * scale, n)
                elif i % 3 == 1:
                    values = mean + std * (rng.lognormal(0, 0.5, n) + shift) * scale
                else:
                    values = rng.uniform(0, 12 * std, n) * scale + shift * std * 3.46
                data[name] = pa.array(values)
            for i, k in enumerate(cardinalities):
                name = f"c{i}"
                weights = np.linspace(1.0, 2.0, k)
                if side == "current" and name in CATEGORICAL_SHIFTS:
                    weights[0] *= CATEGORICAL_SHIFTS[name]
                codes = rng.choice(k, n, p=weights / weights.sum())
                labels = pa.array([f"{name}_value_{j}" for j in range(k)])
                data[name] = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), labels)
            table = pa.table(data)
            table = table.cast(pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type)
                                           else f.type) for f in table.schema]))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=250_000)
        assert writer is not None
        writer.close()
        paths.append(path)
    return paths[0], paths[1]


# Each child writes its own VmHWM (peak resident set of its own address space) at exit: the
# child's ru_maxrss would also count the parent's resident set at fork, before exec.
PEAK_PROLOGUE = r"""
import atexit, os
def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
"""
OURS_RUNNER = PEAK_PROLOGUE + r"""
import sys
from engine.cli import main
sys.argv = ["mladvisor", *sys.argv[1:]]
main()
"""


def measure(python: str, code: str, args: list[str]) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS bytes, exit code and stderr tail of one child process."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        env = {**os.environ, "BENCH_PEAK_FILE": str(peak_file)}
        started = time.perf_counter()
        with tempfile.TemporaryFile() as err:
            child = subprocess.Popen([python, "-c", code, *args], stdout=subprocess.DEVNULL,
                                     stderr=err, env=env)
            _, status, usage = os.wait4(child.pid, 0)
            elapsed = time.perf_counter() - started
            returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-1500:]
        peak = int(peak_file.read_text()) * 1024 if peak_file.exists() else usage.ru_maxrss * 1024
    return elapsed, peak, returncode, tail


def evidently_python() -> Path | None:
    """The Evidently virtualenv's interpreter, created on first use; None if it cannot be."""
    python = EVIDENTLY_VENV / "bin" / "python"
    check = [str(python), "-c", "import evidently, pandas; assert pandas.__version__ < '3'"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"creating {EVIDENTLY_VENV} with {' '.join(EVIDENTLY_REQUIREMENTS)} ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)],
                          capture_output=True, text=True)
    if made.returncode == 0:
        made = subprocess.run([str(python), "-m", "pip", "install", "-q",
                               *EVIDENTLY_REQUIREMENTS], capture_output=True, text=True)
    if made.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        print("Evidently could not be installed; only mladvisor's figures follow.")
        print((made.stderr or "").strip().splitlines()[-1:] or "")
        return None
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows per side")
    parser.add_argument("--rows", type=int, default=None, help="rows per side")
    parser.add_argument("--reference-rows", type=int, default=None,
                        help="reference rows if not ROWS (<= 1000: Evidently's p-value tests)")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--scaling", default=None, metavar="ROWS,...",
                        help="rows per side of the scaling run (0: none)")
    args = parser.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    code = _compare(args, rows)
    sizes = _sizes(args.scaling, args.quick)
    if code == 0 and sizes:
        code = scaling(sizes)
    return code


def _sizes(given: str | None, quick: bool) -> list[int]:
    if given is None:
        return [] if quick else list(SCALING_ROWS)
    return [int(float(part)) for part in given.split(",") if int(float(part)) > 0]


def scaling(sizes: list[int]) -> int:
    """`mladvisor drift` alone on each size (one size's files at a time on disk)."""
    print(f"\nscaling: {', '.join(f'{n:,}' for n in sizes)} rows per side, 10 numeric + 10 "
          "categorical columns, Parquet generated in 250,000-row row groups")
    print(f"{'rows/side':>12} {'seconds':>8} {'s per 1M':>9} {'peak MB':>8} {'data MB':>8} "
          f"{'peak/data':>9}   (data: both files' uncompressed Parquet bytes)")
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-drift-scale-") as tmp:
            reference, current = generate(Path(tmp), rows)
            data = sum(_uncompressed_bytes(p) for p in (reference, current))
            out = Path(tmp) / "drift.json"
            elapsed, peak, code, tail = measure(sys.executable, OURS_RUNNER,
                                                ["drift", str(reference), str(current),
                                                 "--out", str(out)])
            if code != 0:
                print(f"mladvisor drift failed at {rows:,} rows ({code}):\n{tail}")
                return 1
            print(f"{rows:>12,} {elapsed:>8.2f} {elapsed / rows * 1e6:>9.2f} "
                  f"{peak / 1e6:>8.0f} {data / 1e6:>8.0f} {peak / data:>9.2f}", flush=True)
    return 0


def _uncompressed_bytes(path: Path) -> int:
    """The data's size from the file's metadata, without reading it whole."""
    meta = pq.ParquetFile(path).metadata
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def _compare(args: argparse.Namespace, rows: int) -> int:
    """mladvisor against Evidently at `rows` rows per side."""

    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        directory = Path(tmp)
        ref_rows = args.reference_rows or rows
        print(f"generating {ref_rows:,} reference and {rows:,} current rows, 10 numeric + 10 "
              "categorical columns ...", flush=True)
        reference, current = generate(directory, rows, reference_rows=ref_rows)
        arrow_bytes = sum(pq.read_table(p).nbytes for p in (reference, current))
        print(f"data: {arrow_bytes / 1e6:.0f} MB in memory (Arrow, both sides), "
              f"{sum(p.stat().st_size for p in (reference, current)) / 1e6:.0f} MB on disk")

        ours_json = directory / "ours.json"
        ours_args = ["drift", str(reference), str(current), "--out", str(ours_json)]
        # Three runs (cheap): the median time and the largest peak, against a busy machine's noise.
        runs = []
        for _ in range(3):
            elapsed, peak, code, tail = measure(sys.executable, OURS_RUNNER, ours_args)
            if code != 0:
                print(f"mladvisor drift failed ({code}):\n{tail}")
                return 1
            runs.append((elapsed, peak))
        ours_time = sorted(r[0] for r in runs)[1]
        ours_peak = max(r[1] for r in runs)
        print(f"mladvisor drift runs: {', '.join(f'{r[0]:.2f} s' for r in runs)}")
        ours = json.loads(ours_json.read_text())
        print(f"mladvisor drift: {ours_time:.2f} s (median), peak RSS {ours_peak / 1e6:.0f} MB "
              f"({ours_peak / arrow_bytes:.2f}x the data), dataset_drift="
              f"{ours['dataset_drift']}, share {ours['share_drifted']:.2f}")

        python = None if args.skip_evidently else evidently_python()
        if python is None:
            _print_columns(ours, None)
            return 0
        theirs_json = directory / "evidently.json"
        theirs_time, theirs_peak, code, tail = measure(
            str(python), PEAK_PROLOGUE + EVIDENTLY_RUNNER,
            [str(reference), str(current), str(theirs_json)])
        if code != 0:
            print(f"Evidently failed ({code}):\n{tail}")
            _print_columns(ours, None)
            return 0
        theirs = json.loads(theirs_json.read_text())
        print(f"Evidently DataDriftPreset: {theirs_time:.2f} s, peak RSS "
              f"{theirs_peak / 1e6:.0f} MB ({theirs_peak / arrow_bytes:.2f}x the data)")
        agree = _print_columns(ours, theirs)
        speedup = theirs_time / ours_time
        met = "met" if speedup >= TARGET_SPEEDUP else "NOT met"
        print(f"\ntime ratio (Evidently / mladvisor): {speedup:.1f}x "
              f"(target >= {TARGET_SPEEDUP:.0f}x: {met})")
        print(f"peak memory: mladvisor {ours_peak / 1e6:.0f} MB, Evidently "
              f"{theirs_peak / 1e6:.0f} MB, ratio {theirs_peak / ours_peak:.1f}x; mladvisor / data "
              f"{ours_peak / arrow_bytes:.2f} (target <= {TARGET_MEMORY_RATIO:.1f}: "
              f"{'met' if ours_peak < TARGET_MEMORY_RATIO * arrow_bytes else 'NOT met'})")
        print(f"per-column verdicts agree: {agree} of {len(ours['features'])}")
        if rows >= 1_000_000:  # the targets are for a million rows (--quick shows less)
            equal = agree == len(ours["features"])
            target("drift speed vs Evidently, 1M rows", speedup, ">=", TARGET_SPEEDUP, "x",
                   note=f"per-column verdicts equal: {agree} of {len(ours['features'])}"
                   + ("" if equal else " (NOT all equal)"))
            target("drift peak memory / data, 1M rows", ours_peak / arrow_bytes, "<=",
                   TARGET_MEMORY_RATIO, "x")
    return 0


def _print_columns(ours: dict, theirs: dict | None) -> int:
    print(f"\n{'column':8} {'method':14} {'mladvisor':>11} {'drift':>6}"
          + (f" {'evidently':>11} {'drift':>6}  agree" if theirs else ""))
    agree = 0
    for feature in ours["features"]:
        # p-value for p-value tests, else the distance: the figure Evidently reports.
        score = feature["p_value"] if feature["p_value"] is not None else feature["statistic"]
        line = (f"{feature['name']:8} {feature['method']:14} {score:11.5g} "
                f"{str(feature['drifted']):>6}")
        if theirs is not None:
            other = theirs.get(feature["name"])
            same = other is not None and other["drifted"] == feature["drifted"]
            agree += same
            line += (f" {other['value']:11.5g} {str(other['drifted']):>6}  "
                     f"{'yes' if same else 'NO'}" if other else "  (not in Evidently's report)")
        print(line)
    return agree


if __name__ == "__main__":
    sys.exit(main())
