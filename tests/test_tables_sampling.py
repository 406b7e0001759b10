"""Row samples of a stream (engine/evidence/tables.py) and the value check every batch passes."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from engine.errors import InputError
from engine.evidence.tables import PositionSample, Reservoir, check_values, row_sample


def _batches(n: int, size: int) -> list[pa.RecordBatch]:
    ids = np.arange(n)
    table = pa.table({"id": ids, "label": np.array([f"row{i}" for i in ids])})
    return table.to_batches(max_chunksize=size)


def _ids(sample: PositionSample | Reservoir, n: int, size: int) -> np.ndarray:
    for batch in _batches(n, size):
        sample.add(batch)
    table = sample.table(_batches(1, 1)[0].schema)
    ids = np.asarray(table.column("id").to_pylist())
    assert table.column("label").to_pylist() == [f"row{i}" for i in ids]   # whole rows
    return ids


@pytest.mark.parametrize("size", [1, 7, 250, 5000])
def test_position_sample_takes_k_distinct_rows_whatever_the_batches(size: int) -> None:
    ids = _ids(PositionSample(300, seed=4, num_rows=5000), 5000, size)
    assert len(ids) == 300 and len(set(ids)) == 300 and ids.min() >= 0 and ids.max() < 5000
    # Drawn once, so batch sizes do not change it; in random order, not the file's.
    assert list(ids) == list(_ids(PositionSample(300, seed=4, num_rows=5000), 5000, 1000))
    assert list(ids) != sorted(ids)


def test_position_sample_is_uniform_and_so_is_each_prefix() -> None:
    n, k, runs = 40, 10, 4000
    whole, prefix = np.zeros(n), np.zeros(n)
    for seed in range(runs):
        ids = _ids(PositionSample(k, seed=seed, num_rows=n), n, 9)
        whole[ids] += 1
        prefix[ids[:3]] += 1
    # Each row is in the sample k/n of the time (binomial sd ~ 27 of 1000), in a prefix of 3
    # rows 3/n of the time.
    assert np.abs(whole - runs * k / n).max() < 120
    assert np.abs(prefix - runs * 3 / n).max() < 90


def test_a_file_with_fewer_rows_than_k_is_sampled_whole_and_shuffled() -> None:
    ids = _ids(PositionSample(100, seed=1, num_rows=30), 30, 8)
    assert sorted(ids) == list(range(30)) and list(ids) != list(range(30))


def test_row_sample_draws_positions_only_when_the_length_is_known() -> None:
    assert isinstance(row_sample(10, 0, 1000), PositionSample)
    assert isinstance(row_sample(10, 0, None), Reservoir)
    ids = _ids(row_sample(50, 0, None), 2000, 64)
    assert len(ids) == 50 and len(set(ids)) == 50


@pytest.mark.parametrize(("values", "message"), [
    ([1.0, np.inf], "row 2: expected a finite number"),
    ([np.nan, -np.inf], "row 2: expected a finite number"),
    ([3e30, 1.0], "row 1: expected a value of at most 1e+30"),
    ([1.0, 2.0, -3e30], "row 3: expected a value of at most 1e+30"),
])
def test_check_values_names_the_first_bad_row(values: list[float], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        check_values("data.csv", "x", np.array(values), 1)


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], [1.0, np.nan, -1e30, 1e30]])
def test_check_values_passes_missing_values_and_the_limit_itself(values: list[float]) -> None:
    check_values("data.csv", "x", np.array(values, dtype=float), 1)
