"""What the default engine's passes learn about each column, computed by Spark jobs instead.

Each job is an aggregation that Spark merges across partitions, so the data never leaves the
cluster; only per-column summaries reach the driver: (1) per side, rows, missing values, mean
and variance, range, an approximate distinct count and, on the reference, approximate deciles
(`percentile_approx`); (2) per side, exact value counts of the columns with few enough values;
(3) per side, counts and sums on each numeric column's fixed grid (the default engine's grid,
from the reference's range and standard deviation); (4) for a reference small enough for K-S,
current counts at and between the reference's values. The statistics are then finished in
Python by the default engine's own tests (stattests.py).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.evidence.drift.binning import default_grid
from engine.evidence.drift.columns import DISTINCT_CAP, MAX_CATEGORIES, Column, Side
from engine.evidence.drift.psi import PSI_BINS
from engine.util import limits

if TYPE_CHECKING:
    import numpy as np
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import DataFrame

# percentile_approx's accuracy: the rank error of a decile is at most 1/QUANTILE_ACCURACY.
QUANTILE_ACCURACY = 1_000
DISTINCT_RSD = 0.01              # approx_count_distinct's relative standard deviation
# Exact value counts are taken when the approximate distinct count is within this margin of
# the caps (DISTINCT_CAP, MAX_CATEGORIES); the caps are then applied to the exact counts.
COUNT_MARGIN = 1.1


def _col(name: str) -> SparkColumn:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _value(column: Column) -> SparkColumn:
    """A numeric column as doubles, NaN as missing; other columns as strings."""
    from pyspark.sql import functions as F

    if not column.arrow_numeric:
        return _col(column.name).cast("string")
    x = _col(column.name).cast("double")
    return F.when(x.isNotNull() & ~F.isnan(x), x)


def moments(df: DataFrame, columns: list[Column], which: str,
            file: str) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Job 1 on one side: rows, missing, moments and range into the columns' sides; the
    approximate distinct count of each column and (reference) each numeric column's deciles."""
    from pyspark.sql import functions as F

    exprs = [F.count(F.lit(1)).alias("rows")]
    for i, column in enumerate(columns):
        v = _value(column)
        exprs += [F.count(v).alias(f"n{i}"),
                  F.approx_count_distinct(v, DISTINCT_RSD).alias(f"d{i}")]
        if column.arrow_numeric:
            exprs += [F.avg(v).alias(f"mean{i}"), F.var_pop(v).alias(f"var{i}"),
                      F.min(v).alias(f"min{i}"), F.max(v).alias(f"max{i}"),
                      F.count(F.when(F.abs(v) > limits.MAX_DATA_VALUE, 1)).alias(f"big{i}")]
            if which == "ref":
                ranks = [k / PSI_BINS for k in range(1, PSI_BINS)]
                exprs.append(F.percentile_approx(v, ranks, QUANTILE_ACCURACY).alias(f"q{i}"))
    row = df.agg(*exprs).collect()[0].asDict()
    distinct: dict[str, int] = {}
    deciles: dict[str, list[float]] = {}
    for i, column in enumerate(columns):
        _fill_side(getattr(column, which), row, i, file, column)
        distinct[column.name] = int(row[f"d{i}"])
        if row.get(f"q{i}"):
            deciles[column.name] = [float(q) for q in row[f"q{i}"]]
    return distinct, deciles


def _fill_side(side: Side, row: dict[str, Any], i: int, file: str, column: Column) -> None:
    side.rows = int(row["rows"])
    side.count = int(row[f"n{i}"])
    side.missing = side.rows - side.count
    if not column.arrow_numeric or side.count == 0:
        return
    if row[f"big{i}"]:
        raise InputError(file, f"column {column.name}", "expected finite numbers of at most "
                         f"{limits.MAX_DATA_VALUE:g} in size (the input limit)",
                         f"{row[f'big{i}']} larger or infinite values")
    side.mean = float(row[f"mean{i}"])
    side.m2 = float(row[f"var{i}"]) * side.count
    side.low, side.high = float(row[f"min{i}"]), float(row[f"max{i}"])


def value_counts(df: DataFrame, columns: list[Column], which: str,
                 distinct: dict[str, int]) -> None:
    """Job 2 on one side: exact counts of every column whose distinct values may be under
    its cap (numbers: DISTINCT_CAP, text: MAX_CATEGORIES); counts of the others stay None."""
    from pyspark.sql import functions as F

    wanted = []
    for i, column in enumerate(columns):
        side: Side = getattr(column, which)
        cap = DISTINCT_CAP if column.arrow_numeric else MAX_CATEGORIES
        side.counts = None
        if distinct[column.name] <= cap * COUNT_MARGIN:
            side.counts = Counter()
            wanted.append((i, column))
    if not wanted:
        return
    parts = [F.struct(F.lit(i).alias("i"),
                      (_value(c) if not c.arrow_numeric else F.lit(None).cast("string")).alias("s"),
                      (_value(c) if c.arrow_numeric else F.lit(None).cast("double")).alias("d"))
             for i, c in wanted]
    pairs = df.select(F.explode(F.array(*parts)).alias("p")).select("p.i", "p.s", "p.d")
    pairs = pairs.where(F.col("s").isNotNull() | F.col("d").isNotNull())
    for row in pairs.groupBy("i", "s", "d").count().collect():
        column = columns[row["i"]]
        key = row["s"] if row["s"] is not None else float(row["d"])
        getattr(column, which).counts[key] += int(row["count"])
    for _, column in wanted:
        side = getattr(column, which)
        cap = DISTINCT_CAP if column.arrow_numeric else MAX_CATEGORIES
        if side.counts is not None and len(side.counts) > cap:
            side.counts = None


def prepare_grids(columns: list[Column], deciles: dict[str, list[float]]) -> None:
    """Each numeric column's grid from the reference (as the default engine's), and its PSI
    edges from the approximate deciles."""
    import numpy as np

    for column in columns:
        if column.arrow_numeric and column.ref.count > 0:
            column.grid = default_grid(column.ref)
            if deciles.get(column.name):
                column.decile_edges = np.unique(np.array(deciles[column.name], dtype=float))


def binned(df: DataFrame, columns: list[Column], which: str) -> None:
    """Job 3 on one side: counts and sums of each numeric column on its grid (bin 0 and the
    last bin hold what falls below and above it)."""
    import numpy as np
    from pyspark.sql import functions as F

    wanted = [(i, c) for i, c in enumerate(columns) if c.grid is not None]
    if not wanted:
        return
    parts = []
    for i, column in wanted:
        assert column.grid is not None
        low, step, bins = column.grid
        v = _value(column)
        index = F.least(F.greatest(F.floor((v - F.lit(low)) * F.lit(1.0 / step)), F.lit(-1)),
                        F.lit(bins)).cast("long") + F.lit(1)
        parts.append(F.struct(F.lit(i).alias("i"), index.alias("b"), v.alias("v")))
    cells = df.select(F.explode(F.array(*parts)).alias("p")).select("p.i", "p.b", "p.v")
    cells = cells.where(F.col("v").isNotNull())
    hists: dict[int, tuple[np.ndarray, np.ndarray]] = {
        i: (np.zeros(c.grid[2] + 2, dtype=np.int64), np.zeros(c.grid[2] + 2))
        for i, c in wanted if c.grid is not None}
    sums_by_bin = cells.groupBy("i", "b").agg(F.count("v").alias("n"), F.sum("v").alias("s"))
    for row in sums_by_bin.collect():
        hist, sums = hists[row["i"]]
        hist[row["b"]] += int(row["n"])
        sums[row["b"]] += float(row["s"])
    for i, column in wanted:
        side: Side = getattr(column, which)
        side.hist, side.hist_sum = hists[i]


def ks_counts(df: DataFrame, columns: list[Column]) -> None:
    """Job 4, current side, columns with a small reference: counts below, at and between the
    reference's values, from buckets split at each value u and just above it (nextafter)."""
    import numpy as np
    from pyspark.ml.feature import Bucketizer

    for column in columns:
        u = column.ks_values
        if u is None:
            continue
        above = np.nextafter(u, math.inf)
        edges = np.unique(np.concatenate([[-math.inf], u, above, [math.inf]]))
        values = df.select(_value(column).alias("v")).where("v IS NOT NULL")
        bucketed = Bucketizer(splits=edges.tolist(), inputCol="v", outputCol="k").transform(values)
        between = np.zeros(len(u) + 1, dtype=np.int64)
        at = np.zeros(len(u), dtype=np.int64)
        for row in bucketed.groupBy("k").count().collect():
            lower = edges[int(row["k"])]
            j = int(np.searchsorted(u, lower, side="left"))
            if j < len(u) and u[j] == lower:
                at[j] += int(row["count"])
            else:
                between[j] += int(row["count"])
        column.cur.ks_between, column.cur.ks_equal = between, at
