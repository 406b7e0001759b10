"""Data larger than memory: `mladvisor drift` keeps its peak resident memory well below the data.

A child process runs `mladvisor drift` on a reference file whose decoded (Arrow) size is about
1.5 GB and reports its own peak resident set size (VmHWM) when it exits; the test asserts that
peak is under half the decoded size. Resident memory is what bounded memory means: an
address-space cap (RLIMIT_AS, used here before) counts mappings instead, and made the child fail
at random when a shared library could not map a segment under it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROWS = 4_000_000
CURRENT_ROWS = 500_000
LABEL_CHARS = 120
# What the drift run may add to its resident memory, as a share of the reference's decoded size.
# Measured: 0.12 streaming 65,536-row batches; 0.32 with the whole file as one batch.
MAX_WORKING_SET_SHARE = 0.25

# The child imports what drift uses, notes its resident set (the baseline, its libraries),
# runs `mladvisor drift`, and at exit prints the baseline and its peak resident set (VmHWM).
CHILD = r"""
import atexit, sys


def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


import numpy, pyarrow.compute, pyarrow.parquet, tqdm  # noqa - all a large reference's run loads
from engine.cli import cli

baseline = status("VmRSS")
atexit.register(lambda: print(f"baseline-rss: {baseline} peak-rss: {status('VmHWM')}",
                              flush=True))
reference, current, out, batch_rows = sys.argv[1:5]
cli.main(["drift", reference, current, "--out", out, "--batch-rows", batch_rows],
         prog_name="mladvisor", standalone_mode=True)
"""


def _labels(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}-".ljust(LABEL_CHARS, "x") for i in range(count)]


def _write(path: Path, rows: int, seed: int, *, shift: bool) -> None:
    """Write in row groups of 100,000 rows; string columns stored dictionary-encoded."""
    rng = np.random.default_rng(seed)
    names = {"city": _labels("city", 6), "plan": _labels("plan", 4), "device": _labels("dev", 5)}
    schema = pa.schema([("amount", pa.float64()), ("tenure", pa.float64()),
                        *((n, pa.string()) for n in names)])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            arrays = [pa.array(rng.normal(100 + (25 if shift else 0), 25, n)),
                      pa.array(rng.exponential(12, n))]
            for name, labels in names.items():
                weights = np.ones(len(labels))
                if shift and name == "city":
                    weights[0] = 8
                codes = rng.choice(len(labels), n, p=weights / weights.sum())
                arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                                             pa.array(labels)))
            table = pa.table(arrays, names=schema.names)
            writer.write_table(table.cast(schema), row_group_size=100_000)


def _decoded_bytes(path: Path) -> int:
    """The Arrow size of the file read whole, measured one row group at a time."""
    handle = pq.ParquetFile(path)
    return sum(handle.read_row_group(i).nbytes for i in range(handle.num_row_groups))


@pytest.mark.slow
def test_drift_peak_memory_stays_well_below_the_data_size(tmp_path: Path) -> None:
    reference, current = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    _write(reference, ROWS, 1, shift=False)
    _write(current, CURRENT_ROWS, 2, shift=True)
    decoded = _decoded_bytes(reference)
    assert decoded > 1_000_000_000  # the data is large next to the bound below
    out = tmp_path / "drift.json"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(reference), str(current), str(out), "65536"],
        capture_output=True, text=True, timeout=1800, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split()
    baseline = int(words[words.index("baseline-rss:") + 1])
    peak = int(words[words.index("peak-rss:") + 1])
    assert peak - baseline < MAX_WORKING_SET_SHARE * decoded, (
        f"drift added {(peak - baseline) / 1e6:.0f} MB to a {baseline / 1e6:.0f} MB baseline; "
        f"the data decodes to {decoded / 1e6:.0f} MB")
    doc = json.loads(out.read_text())
    verdicts = {f["name"]: f["drifted"] for f in doc["features"]}
    assert verdicts == {"amount": True, "tenure": False, "city": True, "plan": False,
                        "device": False}
    assert doc["reference_rows"] == ROWS and doc["current_rows"] == CURRENT_ROWS
    amount = next(f for f in doc["features"] if f["name"] == "amount")
    assert amount["method"] == "wasserstein"
    assert amount["statistic"] == pytest.approx(1.0, abs=0.03)  # a shift of one std
