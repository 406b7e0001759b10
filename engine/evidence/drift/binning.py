"""Binned counts of numeric columns, so Wasserstein, PSI and K-S need no values held.

Bins are a uniform grid of GRID_STEP_STD reference standard deviations from GRID_SPAN_STD
deviations below the reference minimum to as many above its maximum (at most MAX_GRID_BINS
bins, wider for extremely heavy tails; values beyond fall in two overflow bins). A value's bin
is found by arithmetic, not search; each bin also sums its values, so the Wasserstein test can
put a point mass at their mean. A small reference also keeps its distinct values, at which the
current side is counted for an exact K-S statistic.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine.evidence.drift.columns import Column, Side, count_categories, count_numbers
from engine.evidence.drift.psi import PSI_BINS
from engine.evidence.drift.stattests import SMALL_REFERENCE_ROWS, WASSERSTEIN_MIN_NORM
from engine.evidence.drift.values import floats

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

GRID_STEP_STD = 0.005
GRID_SPAN_STD = 10.0
MAX_GRID_BINS = 50_000


def prepare_bins(column: Column, ref_table: pa.Table) -> None:
    """Grid (unless set already), PSI decile edges and (small reference) K-S values, from the
    reference's moments and sample."""
    import numpy as np

    ref = column.ref
    values = floats(ref_table.column(column.name))
    values = np.sort(values[np.isfinite(values)])
    if len(values) == 0:
        return
    if column.grid is None:   # a grid from the files' statistics (grids.py) is kept
        column.grid = default_grid(ref)
    deciles = np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
    column.decile_edges = np.unique(deciles)
    if ref.count <= SMALL_REFERENCE_ROWS:
        column.ks_values = np.unique(values)


def default_grid(ref: Side) -> tuple[float, float, int]:
    """The reference's range widened by GRID_SPAN_STD, in steps of GRID_STEP_STD (std units)."""
    std = max(ref.std, WASSERSTEIN_MIN_NORM)
    low, high = ref.low - GRID_SPAN_STD * std, ref.high + GRID_SPAN_STD * std
    step = max(GRID_STEP_STD * std, (high - low) / MAX_GRID_BINS)
    return low, step, int(math.ceil((high - low) / step)) + 1


def bin_batch(batch: pa.RecordBatch, columns: list[Column], which: str,
              ks: bool = True) -> None:
    """Binned counts (and sums) of numeric columns on their grids; with `ks`, current counts
    at a small reference's values too."""
    import numpy as np

    for column in columns:
        if column.grid is None:
            continue
        side: Side = getattr(column, which)
        values = floats(batch.column(column.name))
        values = values[np.isfinite(values)]
        _add_to_grid(side, column.grid, values)
        if ks and which == "cur" and column.ks_values is not None:
            _add_at_ks_values(side, column.ks_values, values)


def count_and_bin_batch(batch: pa.RecordBatch, columns: list[Column], which: str) -> None:
    """count_batch and bin_batch in one: each numeric column's finite values found once."""
    for column in columns:
        side: Side = getattr(column, which)
        array = batch.column(column.name)
        side.rows += batch.num_rows
        if not column.arrow_numeric:
            count_categories(side, array)
            continue
        values = count_numbers(side, floats(array))
        if column.grid is not None:
            _add_to_grid(side, column.grid, values)
            if which == "cur" and column.ks_values is not None:
                _add_at_ks_values(side, column.ks_values, values)


def count_at_ks_values(batch: pa.RecordBatch, columns: list[Column]) -> None:
    """Current counts at the reference's values, for columns that have them."""
    import numpy as np

    for column in columns:
        if column.ks_values is None:
            continue
        values = floats(batch.column(column.name))
        _add_at_ks_values(column.cur, column.ks_values, values[np.isfinite(values)])


def _add_to_grid(side: Side, grid: tuple[float, float, int], values: np.ndarray) -> None:
    import numpy as np

    low, step, bins = grid
    # Bin 0 and bins+1 are the overflow bins below and above the grid. In place: a pass
    # makes thousands of these batch-sized temporaries.
    scaled = values - low
    scaled *= 1.0 / step
    np.floor(scaled, out=scaled)
    np.clip(scaled, -1, bins, out=scaled)
    index = scaled.astype(np.intp)
    index += 1
    size = bins + 2
    hist = np.bincount(index, minlength=size)
    sums = np.bincount(index, weights=values, minlength=size)
    side.hist = hist if side.hist is None else side.hist + hist
    side.hist_sum = sums if side.hist_sum is None else side.hist_sum + sums


def _add_at_ks_values(side: Side, u: np.ndarray, values: np.ndarray) -> None:
    """Count values equal to each reference value `u[j]` and between consecutive ones."""
    import numpy as np

    below_or_at = np.searchsorted(u, values, side="right")
    equal = np.zeros(len(values), dtype=bool)
    inside = below_or_at > 0
    equal[inside] = u[below_or_at[inside] - 1] == values[inside]
    between = np.bincount(below_or_at[~equal], minlength=len(u) + 1)
    at = np.bincount(below_or_at[equal] - 1, minlength=len(u))
    side.ks_between = between if side.ks_between is None else side.ks_between + between
    side.ks_equal = at if side.ks_equal is None else side.ks_equal + at
