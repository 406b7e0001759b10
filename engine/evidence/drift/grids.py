"""Numeric grids known before any row is read, from the Parquet files' own statistics.

Parquet stores each row group's minimum and maximum: over both files they bound every value,
so a grid spanning them can bin the reference while it is first counted, and the current file
at the same time, instead of waiting for the reference's moments and reading it again. The
binned Wasserstein error stays under half a bin (stattests.py): a grid whose bins are wider
than the default grid's (GRID_STEP_STD reference standard deviations, when the values span
more than MAX_GRID_BINS such steps) is binned again on the default grid (`too_coarse`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine.evidence.drift.binning import GRID_STEP_STD, MAX_GRID_BINS
from engine.evidence.drift.columns import Column
from engine.evidence.drift.stattests import WASSERSTEIN_MIN_NORM
from engine.evidence.tables import TableSource

if TYPE_CHECKING:
    import pyarrow.parquet as pq

Grid = tuple[float, float, int]   # low, step, bins (binning.py)


def file_grids(ref: TableSource, cur: TableSource,
               columns: list[Column]) -> dict[str, Grid] | None:
    """A grid per numeric column, or None when a file is CSV or a column's row groups lack
    statistics (the passes then take the reference's moments first)."""
    if not (ref.parquet and cur.parquet):
        return None
    import pyarrow.parquet as pq

    try:
        metas = [pq.ParquetFile(s.path).metadata for s in (ref, cur)]
    except Exception:  # noqa: BLE001 - the passes report an unreadable file
        return None
    grids: dict[str, Grid] = {}
    for column in columns:
        if not column.arrow_numeric:
            continue
        bounds = [_bounds(meta, column.name) for meta in metas]
        if any(b is None for b in bounds):
            return None
        low = min(b[0] for b in bounds if b is not None)
        high = max(b[1] for b in bounds if b is not None)
        step = max((high - low) / MAX_GRID_BINS, WASSERSTEIN_MIN_NORM * GRID_STEP_STD)
        grids[column.name] = (low, step, int(math.ceil((high - low) / step)) + 1)
    return grids


def _bounds(meta: pq.FileMetaData, name: str) -> tuple[float, float] | None:
    """The column's least and greatest value over all row groups, None if any is unknown."""
    leaves = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if leaves.count(name) != 1:
        return None
    index = leaves.index(name)
    low, high = math.inf, -math.inf
    for group in range(meta.num_row_groups):
        chunk = meta.row_group(group).column(index)
        stats = chunk.statistics
        if chunk.num_values == 0 or (stats is not None and stats.null_count == chunk.num_values):
            continue
        if stats is None or not stats.has_min_max:
            return None
        try:
            low, high = min(low, float(stats.min)), max(high, float(stats.max))
        except (TypeError, ValueError):
            return None
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return low, high


def too_coarse(column: Column) -> bool:
    """Bins wider than the default grid's for this reference: bin it again on that grid."""
    if column.grid is None:
        return False
    return column.grid[1] > GRID_STEP_STD * max(column.ref.std, WASSERSTEIN_MIN_NORM)
