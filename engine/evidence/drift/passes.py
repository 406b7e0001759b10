"""The passes over the two files: batches streamed, never held whole, so a file larger than
memory can be checked.

When both files are Parquet with statistics and no labels are asked for, the numeric grids are
known before reading (grids.py) and each file is read once, both at the same time (the reading
and numpy work release the GIL, so two cores share it): reference and current are counted,
binned and sampled in one pass each. Otherwise, in order:

1. Reference: rows, missing values, moments and value counts, and a random sample of rows.
   Between the passes the reference decides each column's kind and its numeric bins.
2. Reference again: binned counts and labels (a reference the sample holds whole is not read
   again, and only the columns that need it are).
3. Current: everything at once, against the reference's kinds and bins.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from engine.errors import InputError
from engine.evidence.drift.binning import (
    bin_batch,
    count_and_bin_batch,
    count_at_ks_values,
    prepare_bins,
)
from engine.evidence.drift.columns import Column, count_batch, decide_kind
from engine.evidence.drift.grids import file_grids, too_coarse
from engine.evidence.drift.labels import Labels
from engine.evidence.drift.samples import SAMPLE_ROWS, SEED, Samples
from engine.evidence.progress import progress
from engine.evidence.tables import TableSource, row_sample

if TYPE_CHECKING:
    import pyarrow as pa


def read_passes(ref_src: TableSource, cur_src: TableSource, columns: list[Column],
                labels: Labels) -> Samples:
    """Run the passes, filling `columns` and `labels`; the samples of both sides."""
    grids = None if labels.wanted else file_grids(ref_src, cur_src, columns)
    if grids is not None:
        ref_table, cur_table = _read_both(ref_src, cur_src, columns, grids)
    else:
        ref_table, cur_table = _read_in_order(ref_src, cur_src, columns, labels)
    return Samples(ref_table, cur_table, columns[0].cur.rows if columns else 0)


def _read_in_order(ref_src: TableSource, cur_src: TableSource, columns: list[Column],
                   labels: Labels) -> tuple[pa.Table, pa.Table]:
    ref_table = _count_reference(ref_src, columns)
    for column in columns:
        decide_kind(column, csv=not ref_src.parquet)
        if column.arrow_numeric:
            prepare_bins(column, ref_table)
    labels.prepare(ref_table, {c.name: c for c in columns})
    _bin_reference(ref_src, ref_table, columns, labels)
    return ref_table, _read_current(cur_src, columns, labels)


def _read_both(ref_src: TableSource, cur_src: TableSource, columns: list[Column],
               grids: dict[str, tuple[float, float, int]]) -> tuple[pa.Table, pa.Table]:
    """Both files at once, each read once, binned on the files' grids; then what these could
    not give: columns binned again on a finer grid, K-S counts for a small reference."""
    for column in columns:
        column.grid = grids.get(column.name)
    with ThreadPoolExecutor(1, thread_name_prefix="mladvisor-reference") as pool:
        ref_future = pool.submit(_one_pass, ref_src, columns, "ref", SEED, 0)
        try:
            cur_table = _one_pass(cur_src, columns, "cur", SEED + 1, 1)
        except InputError:
            ref_future.result()   # the reference's own error first, as when read in order
            raise
        ref_table = ref_future.result()
    coarse = [c for c in columns if too_coarse(c)]
    for column in coarse:
        column.grid = column.ref.hist = column.ref.hist_sum = None
        column.cur.hist = column.cur.hist_sum = None
    for column in columns:
        decide_kind(column, csv=False)
        if column.arrow_numeric:
            prepare_bins(column, ref_table)
    _rebin(ref_src, coarse, "ref")
    _rebin(cur_src, coarse, "cur")
    ks = [c for c in columns if c.ks_values is not None]
    if ks and columns[0].cur.rows > SAMPLE_ROWS:
        for batch in cur_src.batches([c.name for c in ks]):
            count_at_ks_values(batch, ks)
    return ref_table, cur_table


def _one_pass(src: TableSource, columns: list[Column], which: str, seed: int,
              position: int) -> pa.Table:
    sample = row_sample(SAMPLE_ROWS, seed, src.num_rows)
    with progress(src.num_rows, "reference" if which == "ref" else "current",
                  position=position) as bar:
        for batch in src.batches():
            sample.add(batch)
            count_and_bin_batch(batch, columns, which)
            bar.update(batch.num_rows)
    if (getattr(columns[0], which).rows if columns else 0) == 0:
        raise InputError(str(src.path), "", "expected at least one data row", "no rows")
    return sample.table(src.schema)


def _rebin(src: TableSource, columns: list[Column], which: str) -> None:
    """Bin `columns` of one file again (their grids were replaced)."""
    if not columns:
        return
    for batch in src.batches([c.name for c in columns]):
        bin_batch(batch, columns, which, ks=False)


def _count_reference(ref_src: TableSource, columns: list[Column]) -> pa.Table:
    sample = row_sample(SAMPLE_ROWS, SEED, ref_src.num_rows)
    with progress(ref_src.num_rows, "reference 1/2") as bar:
        for batch in ref_src.batches():
            sample.add(batch)
            count_batch(batch, columns, "ref")
            bar.update(batch.num_rows)
    if (columns[0].ref.rows if columns else 0) == 0:
        raise InputError(str(ref_src.path), "", "expected at least one data row", "no rows")
    return sample.table(ref_src.schema)


def _bin_reference(ref_src: TableSource, ref_table: pa.Table, columns: list[Column],
                   labels: Labels) -> None:
    whole = columns[0].ref.rows <= SAMPLE_ROWS
    options = labels.options
    needed = [c.name for c in columns if c.grid is not None]
    needed += [n for n in (options.target, options.prediction) if n and n not in needed]
    batches = ref_table.to_batches() if whole else ref_src.batches(needed)
    with progress(None if whole else ref_src.num_rows, "reference 2/2") as bar:
        for batch in batches:
            bin_batch(batch, columns, "ref")
            labels.add(batch, "ref")
            bar.update(batch.num_rows)


def _read_current(cur_src: TableSource, columns: list[Column], labels: Labels) -> pa.Table:
    sample = row_sample(SAMPLE_ROWS, SEED + 1, cur_src.num_rows)
    with progress(cur_src.num_rows, "current") as bar:
        for batch in cur_src.batches():
            sample.add(batch)
            count_batch(batch, columns, "cur")
            bin_batch(batch, columns, "cur")
            labels.add(batch, "cur")
            bar.update(batch.num_rows)
    if (columns[0].cur.rows if columns else 0) == 0:
        raise InputError(str(cur_src.path), "", "expected at least one data row", "no rows")
    return sample.table(cur_src.schema)
