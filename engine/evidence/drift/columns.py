"""The columns two files share, what one pass learns about each, and each column's kind.

A column is numeric or categorical the way Evidently's type inference (through pandas) reads
it: integers with few values are categories, text with mostly distinct values is free text,
skipped and left out of the drifted share.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.evidence.drift.options import Options
from engine.evidence.drift.values import count_keys, floats, int_codes, strings
from engine.evidence.tables import TableSource

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

NUMERIC, CATEGORICAL = "numeric", "categorical"

INTEGER_CATEGORICAL_LIMIT = 10   # Evidently infers integer columns with <= 10 values categorical
DISTINCT_CAP = 1000              # distinct numeric values counted exactly up to this many
DISTINCT_PREFIX = 4 * DISTINCT_CAP  # values looked at first, to give up on a continuous column
# A text column with more distinct values is an identifier or free text (Evidently reads it as
# text, not as categories): it is reported as skipped and left out of the drifted share.
MAX_CATEGORIES = 100_000
# Evidently's type inference reads a text column whose distinct values exceed half its values as
# free text, not categories; with more than TEXT_MIN_VALUES values we skip it the same way.
TEXT_UNIQUE_SHARE = 0.5
TEXT_MIN_VALUES = 50


@dataclass
class Side:
    """What one pass learns about one column on one side (reference or current)."""

    rows: int = 0
    missing: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    integral: bool = True
    counts: Counter[Any] | None = field(default_factory=Counter)
    hist: np.ndarray | None = None
    hist_sum: np.ndarray | None = None
    ks_between: np.ndarray | None = None
    ks_equal: np.ndarray | None = None

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else 0.0


@dataclass
class Column:
    name: str
    arrow_numeric: bool
    arrow_integer: bool
    ref: Side = field(default_factory=Side)
    cur: Side = field(default_factory=Side)
    kind: str = NUMERIC
    grid: tuple[float, float, int] | None = None   # low, step, bins
    decile_edges: np.ndarray | None = None
    ks_values: np.ndarray | None = None
    skipped: bool = False      # identifier or free text: not tested, not in the share


# --- which columns -------------------------------------------------------------------------

def plan_columns(ref: TableSource, cur: TableSource, options: Options) -> list[Column]:
    """The columns to compare, after checking both files and the named columns agree."""
    _check_same_columns(ref, cur)
    _check_named_columns(ref, set(cur.schema.names), options)
    columns = [c for f in ref.schema if (c := _column(ref, cur, f)) is not None]
    if not columns:
        raise InputError(str(ref.path), "columns", "expected at least one column to compare",
                         "none")
    return columns


def _check_same_columns(ref: TableSource, cur: TableSource) -> None:
    ref_names = [f.name for f in ref.schema]
    cur_names = set(cur.schema.names)
    missing = [n for n in ref_names if n not in cur_names]
    extra = [n for n in cur.schema.names if n not in set(ref_names)]
    if missing or extra:
        got = "; ".join(part for part in (
            f"missing {', '.join(missing[:5])}" if missing else "",
            f"extra {', '.join(extra[:5])}" if extra else "") if part)
        raise InputError(str(cur.path), "columns",
                         f"expected the same columns as {ref.path.name}", got)


def _check_named_columns(ref: TableSource, cur_names: set[str], options: Options) -> None:
    for flag, name in (("--target", options.target), ("--prediction", options.prediction),
                       *(("--sensitive", s) for s in options.sensitive)):
        if name is not None and name not in cur_names:
            raise InputError(str(ref.path), flag, "expected a column of both files", name)
    if options.sensitive and options.prediction is None:
        raise InputError(str(ref.path), "--sensitive",
                         "expected --prediction too: bias compares predictions across groups",
                         None)


def _column(ref: TableSource, cur: TableSource, ref_field: Any) -> Column | None:
    """The column to compare, or None for dates, nested values and bytes (not distributions
    we test); numbers on one side and text on the other is an input error."""
    cur_field = cur.schema.field(ref_field.name)
    if not (_supported(ref_field.type) and _supported(cur_field.type)):
        return None
    numeric = _is_numeric_type(ref_field.type)
    if numeric != _is_numeric_type(cur_field.type):
        raise InputError(str(cur.path), f"column {ref_field.name}",
                         f"expected {'numbers' if numeric else 'categories'} as in "
                         f"{ref.path.name}", str(cur_field.type))
    integer = numeric and _integer_in_file(ref, ref_field)
    return Column(ref_field.name, numeric, integer)


def _is_numeric_type(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_decimal(kind))


def _supported(kind: Any) -> bool:
    import pyarrow as pa

    return not (pa.types.is_temporal(kind) or pa.types.is_nested(kind)
                or pa.types.is_binary(kind) or pa.types.is_null(kind))


def _integer_in_file(source: TableSource, arrow_field: Any) -> bool:
    import pyarrow as pa

    original = source.original_types.get(arrow_field.name, arrow_field.type)
    return bool(pa.types.is_integer(original))


# --- the counting pass ---------------------------------------------------------------------

def count_batch(batch: pa.RecordBatch, columns: list[Column], which: str) -> None:
    """Rows, missing values, moments and value counts of one batch on one side."""
    for column in columns:
        side: Side = getattr(column, which)
        array = batch.column(column.name)
        side.rows += batch.num_rows
        if column.arrow_numeric:
            _count_numbers(side, array)
        else:
            count_categories(side, array)


def _count_numbers(side: Side, array: Any) -> None:
    count_numbers(side, floats(array))


def count_numbers(side: Side, values: np.ndarray) -> np.ndarray:
    """Count one batch's numbers on one side; its finite values, for binning them too."""
    import numpy as np

    finite = np.isfinite(values)
    if not finite.all():
        values = values[finite]
    side.missing += len(finite) - len(values)
    _merge(side, values)
    return values


def _merge(side: Side, values: np.ndarray) -> None:
    """Add finite values to running count, mean, M2 (Chan et al.), range and distinct counts."""
    import numpy as np

    n = len(values)
    if n == 0:
        return
    mean = float(values.mean())
    deviation = values - mean
    np.multiply(deviation, deviation, out=deviation)
    m2 = float(deviation.sum())
    total = side.count + n
    delta = mean - side.mean
    side.mean += delta * n / total
    side.m2 += m2 + delta * delta * side.count * n / total
    side.count = total
    side.low = min(side.low, float(values.min()))
    side.high = max(side.high, float(values.max()))
    if side.integral and not np.all(values == np.floor(values)):
        side.integral = False
    if side.counts is not None:
        _count_distinct_numbers(side, side.counts, values)


def _count_distinct_numbers(side: Side, counts: Counter[Any], values: np.ndarray) -> None:
    """Exact counts while there are at most DISTINCT_CAP values; past that, none."""
    import numpy as np

    # A continuous column shows more than DISTINCT_CAP values in its first few thousand:
    # sorting that prefix decides it without sorting the whole batch.
    prefix = values[:DISTINCT_PREFIX]
    if len(values) > DISTINCT_PREFIX and len(np.unique(prefix)) > DISTINCT_CAP:
        side.counts = None
        return
    keys, counted = np.unique(values, return_counts=True)
    if len(keys) > DISTINCT_CAP:
        side.counts = None
        return
    counts.update(dict(zip(keys.tolist(), counted.tolist(), strict=True)))
    if len(counts) > DISTINCT_CAP:
        side.counts = None


def count_categories(side: Side, array: Any) -> None:
    import pyarrow as pa

    if side.counts is None:
        side.missing += array.null_count
        side.count += len(array) - array.null_count
    elif pa.types.is_dictionary(array.type):
        side.missing += array.null_count
        side.count += len(array) - array.null_count
        _count_dictionary(side.counts, array)
    else:
        keys = strings(array)
        side.missing += keys.null_count
        side.count += len(keys) - keys.null_count
        count_keys(side.counts, keys)
    if side.counts is not None and len(side.counts) > MAX_CATEGORIES:
        side.counts = None


def _count_dictionary(counts: Counter[Any], array: Any) -> None:
    """Count a dictionary-encoded array by its codes, without decoding it."""
    import numpy as np

    indices = int_codes(array.indices)
    if array.null_count:
        indices = indices[indices >= 0]
    counted_codes = np.bincount(indices, minlength=len(array.dictionary))
    keys = strings(array.dictionary).to_pylist()
    for key, count in zip(keys, counted_codes.tolist(), strict=True):
        if count:
            counts[key] += count


# --- kinds ---------------------------------------------------------------------------------

def decide_kind(column: Column, csv: bool) -> None:
    """Numeric or categorical (and skipped as free text), from the reference's counts."""
    ref = column.ref
    if not column.arrow_numeric:
        column.kind = CATEGORICAL
        distinct = len(ref.counts) if ref.counts is not None else MAX_CATEGORIES + 1
        column.skipped = distinct > TEXT_MIN_VALUES and distinct > TEXT_UNIQUE_SHARE * ref.count
        return
    distinct = len(ref.counts) if ref.counts is not None else DISTINCT_CAP + 1
    # Evidently (reading with pandas) sees integer columns with few values as categories;
    # pandas reads a CSV integer column with blanks as floats, hence numeric.
    integer = column.arrow_integer and not (csv and ref.missing > 0)
    column.kind = CATEGORICAL if integer and distinct <= INTEGER_CATEGORICAL_LIMIT else NUMERIC
