"""Data larger than memory: `mladvisor drift` under an address-space cap below the data's size.

The child process gets `RLIMIT_AS` below the reference file's in-memory (Arrow) size, shows that
reading the file whole fails under that cap, then runs `mladvisor drift` on it, which streams
record batches and keeps only counts. Arrow's system allocator, one BLAS/OpenMP thread and two
malloc arenas keep the interpreter's own reserved address space small enough to measure.
"""

from __future__ import annotations

import json
import os
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
CAP_BYTES = 1_000_000_000

CHILD = r"""
import resource, sys
cap, reference, current, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
import pyarrow.parquet as pq
from engine.cli import cli
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
try:
    pq.read_table(reference)
    print("whole-read: ok")
except MemoryError:
    print("whole-read: MemoryError")
sys.stdout.flush()
cli.main(["drift", reference, current, "--out", out, "--batch-rows", "65536"],
         prog_name="mladvisor", standalone_mode=True)
"""


def _labels(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}-".ljust(LABEL_CHARS, "x") for i in range(count)]


def _write(path: Path, rows: int, seed: int, *, shift: bool) -> int:
    """Write in row groups; return the Arrow in-memory size of the decoded table."""
    rng = np.random.default_rng(seed)
    names = {"city": _labels("city", 6), "plan": _labels("plan", 4), "device": _labels("dev", 5)}
    schema = pa.schema([("amount", pa.float64()), ("tenure", pa.float64()),
                        *((n, pa.string()) for n in names)])
    size = 0
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
            size += n * (8 + 8) + sum(n * (LABEL_CHARS + 4) for _ in names)
            writer.write_table(table.cast(schema), row_group_size=100_000)
    return size


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS semantics are Linux-specific")
def test_drift_runs_under_a_memory_cap_below_the_data_size(tmp_path: Path) -> None:
    reference, current = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    in_memory = _write(reference, ROWS, 1, shift=False)
    _write(current, CURRENT_ROWS, 2, shift=True)
    assert in_memory > 1.5 * CAP_BYTES  # the cap is well below the data's in-memory size
    out = tmp_path / "drift.json"
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(CAP_BYTES), str(reference), str(current), str(out)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "whole-read: MemoryError" in result.stdout  # the file does not fit under the cap
    doc = json.loads(out.read_text())
    verdicts = {f["name"]: f["drifted"] for f in doc["features"]}
    assert verdicts == {"amount": True, "tenure": False, "city": True, "plan": False,
                        "device": False}
    assert doc["reference_rows"] == ROWS and doc["current_rows"] == CURRENT_ROWS
    amount = next(f for f in doc["features"] if f["name"] == "amount")
    assert amount["method"] == "wasserstein"
    assert amount["statistic"] == pytest.approx(1.0, abs=0.03)  # a shift of one std
