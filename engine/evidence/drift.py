"""Data drift, performance and bias of a deployed model, computed in chunks.

Per column, the test Evidently's DataDriftPreset picks by default (so verdicts are comparable):
a reference of at most 1,000 rows gets K-S (numeric, > 5 values), chi-square (categorical) or a
two-proportion z-test (two values) at p < 0.05; a larger reference gets the Wasserstein distance
normalised by the reference standard deviation (numeric) or the Jensen-Shannon distance
(categorical, or numeric with at most 5 values), drifted at >= 0.1. The data set drifts when at
least half of the columns do.

Files are streamed as record batches and never held whole, so a file larger than memory can be
checked. Statistics come from counts:
- categorical: exact value counts;
- K-S: exact, from current counts at the reference's distinct values (a small reference is held);
- Wasserstein: binned. Bins are a uniform grid of 0.005 reference standard deviations from 10
  deviations below the reference minimum to 10 above its maximum (at most 50,000 bins, wider
  for extremely heavy tails; values beyond fall in two overflow bins). A value's bin is found by
  arithmetic, not search. Each bin is replaced by a point mass at the mean of the values in it
  and the exact distance between the two point sets is taken. The error is at most the mean
  distance of a value to its bin's mean, summed over both sides (under half a bin width:
  <= 0.005 normalised on the default grid, in practice ~1e-4 because both sides' errors mostly
  cancel), so verdicts at the 0.1 threshold agree with exact ones except for distances within
  that margin of it (tests check this on several distributions).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.evidence.progress import progress
from engine.evidence.tables import DEFAULT_BATCH_ROWS, Reservoir, TableSource
from engine.model.drift import SCHEMA_ID
from engine.util.table import table_lines

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# Evidently 0.7 DataDriftPreset defaults (evidently/legacy/calculations/stattests/registry.py).
SMALL_REFERENCE_ROWS = 1000      # reference rows up to which p-value tests are used
P_VALUE_THRESHOLD = 0.05         # ks, chisquare, z: drifted when p < 0.05
WASSERSTEIN_THRESHOLD = 0.1      # normalised Wasserstein distance: drifted when >= 0.1
JENSEN_SHANNON_THRESHOLD = 0.1   # Jensen-Shannon distance (natural log): drifted when >= 0.1
DATASET_DRIFT_SHARE = 0.5        # data set drifts when >= half of the columns drift
FEW_VALUES = 5                   # numeric columns with <= 5 distinct values are tested as counts
WASSERSTEIN_MIN_NORM = 0.001     # Evidently's floor on the reference standard deviation
INTEGER_CATEGORICAL_LIMIT = 10   # Evidently infers integer columns with <= 10 values categorical

# Population stability index, the credit-scoring convention: reference deciles, empty bins
# floored at 0.0001; 0.1 is a moderate and 0.25 a major shift. Reported, not used for verdicts.
PSI_BINS = 10
PSI_EMPTY_SHARE = 0.0001

# Domain classifier (our convention): gradient boosting separates a sample of reference rows
# from current rows; a cross-validated ROC AUC 0.05 above chance signals multivariate drift.
DOMAIN_SAMPLE_ROWS = 5000
DOMAIN_AUC_THRESHOLD = 0.55
DOMAIN_MIN_ROWS = 20

# Fairness conventions: the four-fifths rule for disparate impact; 0.1 for parity differences.
DISPARATE_IMPACT_THRESHOLD = 0.8
PARITY_DIFFERENCE_THRESHOLD = 0.1
MIN_GROUP_ROWS = 30              # smaller groups are ignored when two or more groups are larger
SENSITIVE_NUMERIC_BINS = 4       # a numeric attribute with many values is cut at its quartiles

# Streaming approximation (see the module docstring).
SAMPLE_ROWS = 20_000             # random reference/current rows kept (bottom-k sampling)
GRID_STEP_STD = 0.005
GRID_SPAN_STD = 10.0
MAX_GRID_BINS = 50_000
DISTINCT_CAP = 1000              # distinct numeric values counted exactly up to this many
# A text column with more distinct values is an identifier or free text (Evidently reads it as
# text, not as categories): it is reported as skipped and left out of the drifted share.
MAX_CATEGORIES = 100_000
# Evidently's type inference reads a text column whose distinct values exceed half its values as
# free text, not categories; with more than TEXT_MIN_VALUES values we skip it the same way.
TEXT_UNIQUE_SHARE = 0.5
TEXT_MIN_VALUES = 50
REGRESSION_MIN_VALUES = 20       # a numeric target with more values (or fractions) is regression
SEED = 0

NUMERIC, CATEGORICAL = "numeric", "categorical"


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


@dataclass
class Options:
    target: str | None = None
    prediction: str | None = None
    sensitive: tuple[str, ...] = ()
    positive_label: str | None = None
    multivariate: bool = True
    batch_rows: int = DEFAULT_BATCH_ROWS


def compute_drift(reference: Path, current: Path, options: Options | None = None) -> dict[str, Any]:
    """The `mladvisor.drift/1` document for two files with the same columns."""
    options = options or Options()
    ref_src = TableSource(reference, options.batch_rows)
    cur_src = TableSource(current, options.batch_rows)
    columns = _columns(ref_src, cur_src, options)
    by_name = {c.name: c for c in columns}
    labels = _Labels(options, by_name, str(current))
    warm = _warm_imports() if _address_space_unlimited() else None

    ref_sample = Reservoir(SAMPLE_ROWS, SEED)
    with progress(ref_src.num_rows, "reference 1/2") as bar:
        for batch in ref_src.batches():
            _scan(batch, columns, "ref", ref_sample)
            bar.update(batch.num_rows)
    ref_rows = columns[0].ref.rows if columns else 0
    if ref_rows == 0:
        raise InputError(str(reference), "", "expected at least one data row", "no rows")
    ref_table = ref_sample.table(ref_src.schema)
    _prepare(columns, ref_table, csv=not ref_src.parquet)
    labels.prepare(ref_table, by_name)

    # Second reference pass: binned counts and labels. A reference the sample holds whole is
    # not read again.
    whole = ref_rows <= SAMPLE_ROWS
    needed = [c.name for c in columns if c.grid is not None]
    needed += [n for n in (options.target, options.prediction) if n and n not in needed]
    batches = ref_table.to_batches() if whole else ref_src.batches(needed)
    with progress(None if whole else ref_src.num_rows, "reference 2/2") as bar:
        for batch in batches:
            _bin(batch, columns, "ref")
            labels.add(batch, "ref")
            bar.update(batch.num_rows)

    cur_sample = Reservoir(SAMPLE_ROWS, SEED + 1)
    with progress(cur_src.num_rows, "current") as bar:
        for batch in cur_src.batches():
            _scan(batch, columns, "cur", cur_sample)
            _bin(batch, columns, "cur")
            labels.add(batch, "cur")
            bar.update(batch.num_rows)
    cur_rows = columns[0].cur.rows if columns else 0
    if cur_rows == 0:
        raise InputError(str(current), "", "expected at least one data row", "no rows")
    cur_table = cur_sample.table(cur_src.schema)
    if warm is not None:
        warm.join()

    features = [_test(c, ref_table, cur_table, cur_rows) for c in columns]
    tested = [f for f in features if f["method"] != "skipped"]
    drifted = sum(1 for f in tested if f["drifted"])
    share = drifted / len(tested) if tested else 0.0
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "dataset_drift": bool(tested) and share >= DATASET_DRIFT_SHARE,
        "share_drifted": round(share, 6),
        "features": features,
        "reference_rows": ref_rows,
        "current_rows": cur_rows,
    }
    if options.multivariate:
        multivariate = _domain_classifier(columns, ref_table, cur_table)
        if multivariate is not None:
            doc["multivariate"] = multivariate
    performance = labels.performance()
    if performance is not None:
        doc["performance"] = performance
    bias = labels.bias()
    if bias is not None:
        doc["bias"] = bias
    doc["thresholds"] = {
        "p_value": P_VALUE_THRESHOLD, "wasserstein": WASSERSTEIN_THRESHOLD,
        "jensenshannon": JENSEN_SHANNON_THRESHOLD, "dataset_drift_share": DATASET_DRIFT_SHARE,
        "small_reference_rows": SMALL_REFERENCE_ROWS, "domain_auc": DOMAIN_AUC_THRESHOLD,
        "disparate_impact": DISPARATE_IMPACT_THRESHOLD,
        "parity_difference": PARITY_DIFFERENCE_THRESHOLD,
    }
    return doc


def _address_space_unlimited() -> bool:
    """False under an address-space cap (RLIMIT_AS), where a helper thread's stack and malloc
    arena are better left to the data."""
    try:
        import resource

        return resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):
        return True


def _warm_imports() -> threading.Thread:
    """Import scipy and scikit-learn (about a second) while the passes read and count: the
    reading and numpy work release the GIL, so on two cores the import is mostly free."""
    import pyarrow.compute  # noqa: F401 - the passes' own imports, before the thread starts
    import tqdm  # noqa: F401

    def load() -> None:
        try:
            import scipy.spatial.distance  # noqa: F401
            import scipy.stats  # noqa: F401
            import sklearn.ensemble  # noqa: F401
            import sklearn.metrics  # noqa: F401
            import sklearn.model_selection  # noqa: F401
        except Exception:  # noqa: BLE001 - the real import later reports any failure
            pass

    thread = threading.Thread(target=load, name="mladvisor-warm-imports", daemon=True)
    thread.start()
    return thread


# --- columns ---------------------------------------------------------------------------------

def _is_numeric_type(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_decimal(kind))


def _supported(kind: Any) -> bool:
    import pyarrow as pa

    return not (pa.types.is_temporal(kind) or pa.types.is_nested(kind)
                or pa.types.is_binary(kind) or pa.types.is_null(kind))


def _columns(ref: TableSource, cur: TableSource, options: Options) -> list[Column]:
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
    for flag, name in (("--target", options.target), ("--prediction", options.prediction),
                       *(("--sensitive", s) for s in options.sensitive)):
        if name is not None and name not in cur_names:
            raise InputError(str(ref.path), flag, "expected a column of both files", name)
    if options.sensitive and options.prediction is None:
        raise InputError(str(ref.path), "--sensitive",
                         "expected --prediction too: bias compares predictions across groups",
                         None)
    columns: list[Column] = []
    for ref_field in ref.schema:
        cur_field = cur.schema.field(ref_field.name)
        if not (_supported(ref_field.type) and _supported(cur_field.type)):
            continue  # dates, nested values and bytes are not distributions we test
        numeric = _is_numeric_type(ref_field.type)
        if numeric != _is_numeric_type(cur_field.type):
            raise InputError(str(cur.path), f"column {ref_field.name}",
                             f"expected {'numbers' if numeric else 'categories'} as in "
                             f"{ref.path.name}", str(cur_field.type))
        integer = numeric and _integer_in_file(ref, ref_field)
        columns.append(Column(ref_field.name, numeric, integer))
    if not columns:
        raise InputError(str(ref.path), "columns", "expected at least one column to compare",
                         "none")
    return columns


def _integer_in_file(source: TableSource, arrow_field: Any) -> bool:
    import pyarrow as pa

    original = source.original_types.get(arrow_field.name, arrow_field.type)
    return bool(pa.types.is_integer(original))


def _floats(array: Any) -> np.ndarray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_float64(array.type):
        array = pc.cast(array, pa.float64())
    values = array.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _strings(array: Any) -> Any:
    """Category keys as strings; integral floats print without a decimal point."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        import numpy as np

        values = _floats(array)
        finite = np.isfinite(values)
        if np.all(values[finite] == np.floor(values[finite])):
            array = pa.array(np.where(finite, values, 0).astype(np.int64), mask=~finite)
        else:
            array = pa.array(values, mask=~finite)
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return array


def _merge(side: Side, values: np.ndarray) -> None:
    """Add finite values to running count, mean, M2 (Chan et al.), range and distinct counts."""
    import numpy as np

    n = len(values)
    if n == 0:
        return
    mean = float(values.mean())
    m2 = float(((values - mean) ** 2).sum())
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
        keys, counts = np.unique(values, return_counts=True)
        if len(keys) > DISTINCT_CAP:
            side.counts = None
        else:
            side.counts.update(dict(zip(keys.tolist(), counts.tolist(), strict=True)))
            if len(side.counts) > DISTINCT_CAP:
                side.counts = None


def _scan(batch: pa.RecordBatch, columns: list[Column], which: str, sample: Reservoir) -> None:
    """Pass one: rows, missing values, moments and value counts."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    sample.add(batch)
    for column in columns:
        side: Side = getattr(column, which)
        array = batch.column(column.name)
        side.rows += batch.num_rows
        if column.arrow_numeric:
            values = _floats(array)
            finite = values[np.isfinite(values)]
            side.missing += len(values) - len(finite)
            _merge(side, finite)
        elif side.counts is None:
            side.missing += array.null_count
            side.count += len(array) - array.null_count
        elif pa.types.is_dictionary(array.type):
            side.missing += array.null_count
            side.count += len(array) - array.null_count
            indices = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False)
            counted_codes = np.bincount(indices[indices >= 0], minlength=len(array.dictionary))
            keys = _strings(array.dictionary).to_pylist()
            for key, count in zip(keys, counted_codes.tolist(), strict=True):
                if count:
                    side.counts[key] += count
        else:
            strings = _strings(array)
            side.missing += strings.null_count
            side.count += len(strings) - strings.null_count
            counted = pc.value_counts(strings)
            for key, count in zip(counted.field("values").to_pylist(),
                                  counted.field("counts").to_pylist(), strict=True):
                if key is not None:
                    side.counts[key] += count
        if not column.arrow_numeric and side.counts is not None \
                and len(side.counts) > MAX_CATEGORIES:
            side.counts = None


def _prepare(columns: list[Column], ref_table: pa.Table, csv: bool) -> None:
    """Between the passes: decide kinds and bin edges from the reference and its sample."""
    import numpy as np

    for column in columns:
        ref = column.ref
        if not column.arrow_numeric:
            column.kind = CATEGORICAL
            distinct = len(ref.counts) if ref.counts is not None else MAX_CATEGORIES + 1
            column.skipped = distinct > TEXT_MIN_VALUES and distinct > TEXT_UNIQUE_SHARE * ref.count
            continue
        distinct = len(ref.counts) if ref.counts is not None else DISTINCT_CAP + 1
        # Evidently (reading with pandas) sees integer columns with few values as categories;
        # pandas reads a CSV integer column with blanks as floats, hence numeric.
        integer = column.arrow_integer and not (csv and ref.missing > 0)
        column.kind = (CATEGORICAL if integer and distinct <= INTEGER_CATEGORICAL_LIMIT
                       else NUMERIC)
        values = _floats(ref_table.column(column.name))
        values = np.sort(values[np.isfinite(values)])
        if len(values) == 0:
            continue
        std = max(ref.std, WASSERSTEIN_MIN_NORM)
        low, high = ref.low - GRID_SPAN_STD * std, ref.high + GRID_SPAN_STD * std
        step = max(GRID_STEP_STD * std, (high - low) / MAX_GRID_BINS)
        column.grid = (low, step, int(math.ceil((high - low) / step)) + 1)
        deciles = np.quantile(values, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
        column.decile_edges = np.unique(deciles)
        if ref.count <= SMALL_REFERENCE_ROWS:
            column.ks_values = np.unique(values)


def _bin(batch: pa.RecordBatch, columns: list[Column], which: str) -> None:
    """Pass two: binned counts (and sums) of numeric columns against the reference's edges."""
    import numpy as np

    for column in columns:
        if column.grid is None:
            continue
        side: Side = getattr(column, which)
        values = _floats(batch.column(column.name))
        values = values[np.isfinite(values)]
        low, step, bins = column.grid
        # Bin 0 and bins+1 are the overflow bins below and above the grid.
        index = np.floor((values - low) * (1.0 / step))
        np.clip(index, -1, bins, out=index)
        index = index.astype(np.int64) + 1
        size = bins + 2
        hist = np.bincount(index, minlength=size)
        sums = np.bincount(index, weights=values, minlength=size)
        side.hist = hist if side.hist is None else side.hist + hist
        side.hist_sum = sums if side.hist_sum is None else side.hist_sum + sums
        if which == "cur" and column.ks_values is not None:
            u = column.ks_values
            below_or_at = np.searchsorted(u, values, side="right")
            equal = np.zeros(len(values), dtype=bool)
            inside = below_or_at > 0
            equal[inside] = u[below_or_at[inside] - 1] == values[inside]
            between = np.bincount(below_or_at[~equal], minlength=len(u) + 1)
            at = np.bincount(below_or_at[equal] - 1, minlength=len(u))
            side.ks_between = between if side.ks_between is None else side.ks_between + between
            side.ks_equal = at if side.ks_equal is None else side.ks_equal + at


# --- tests -----------------------------------------------------------------------------------

def _sig(value: float | None) -> float | None:
    """Six significant digits: stable output without flattening tiny p-values to zero."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def _test(column: Column, ref_table: pa.Table, cur_table: pa.Table, cur_rows: int) -> dict:
    ref, cur = column.ref, column.cur
    entry: dict[str, Any] = {"name": column.name, "kind": column.kind}
    if column.skipped or (column.kind == CATEGORICAL and not column.arrow_numeric and (
            ref.counts is None or cur.counts is None)):
        entry.update(method="skipped", statistic=None, p_value=None, drifted=False,
                     threshold=None)
    elif ref.count == 0 or cur.count == 0:
        # Evidently refuses an empty column; a column that emptied on one side has drifted.
        entry.update(method="missing", statistic=None, p_value=None,
                     drifted=(ref.count == 0) != (cur.count == 0), threshold=None)
    else:
        method, statistic, p_value, threshold, drifted = _choose_and_run(
            column, ref_table, cur_table, cur_rows)
        entry.update(method=method, statistic=_sig(statistic), p_value=_sig(p_value),
                     drifted=bool(drifted), threshold=threshold)
    entry["psi"] = _sig(_psi(column))
    entry["missing_share_reference"] = _sig(ref.missing / ref.rows) if ref.rows else None
    entry["missing_share_current"] = _sig(cur.missing / cur.rows) if cur.rows else None
    return entry


def _choose_and_run(column: Column, ref_table: pa.Table, cur_table: pa.Table,
                    cur_rows: int) -> tuple[str, float | None, float | None, float, bool]:
    ref, cur = column.ref, column.cur
    if ref.counts is not None and cur.counts is not None:
        n_values = len(set(ref.counts) | set(cur.counts))
    else:
        n_values = DISTINCT_CAP + 1
    as_counts = n_values <= FEW_VALUES or (
        column.kind == CATEGORICAL and ref.counts is not None and cur.counts is not None)
    if ref.count <= SMALL_REFERENCE_ROWS:
        if as_counts:
            if n_values > 2:
                chi2, p_value = _chisquare(ref.counts, cur.counts)
                return "chisquare", chi2, p_value, P_VALUE_THRESHOLD, _below(p_value)
            z, p_value = _z_test(ref.counts, cur.counts)
            return "z", z, p_value, P_VALUE_THRESHOLD, _below(p_value)
        statistic, p_value = _ks(column, ref_table, cur_table, cur_rows)
        return "ks", statistic, p_value, P_VALUE_THRESHOLD, _below(p_value)
    if as_counts:
        distance = _jensen_shannon(ref.counts, cur.counts)
        return ("jensenshannon", distance, None, JENSEN_SHANNON_THRESHOLD,
                distance >= JENSEN_SHANNON_THRESHOLD)
    distance = _wasserstein_binned(column)
    return "wasserstein", distance, None, WASSERSTEIN_THRESHOLD, distance >= WASSERSTEIN_THRESHOLD


def _below(p_value: float | None) -> bool:
    return p_value is not None and math.isfinite(p_value) and p_value < P_VALUE_THRESHOLD


def _aligned(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[Any, Any, list[Any]]:
    import numpy as np

    ref, cur = ref or Counter(), cur or Counter()
    keys = sorted(set(ref) | set(cur), key=lambda k: (str(type(k)), k))
    return (np.array([ref.get(k, 0) for k in keys], dtype=float),
            np.array([cur.get(k, 0) for k in keys], dtype=float), keys)


def _chisquare(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[float, float]:
    from scipy.stats import chisquare

    r, c, _ = _aligned(ref, cur)
    expected = r * (c.sum() / r.sum())
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")
        result = chisquare(c, expected)
    return float(result.statistic), float(result.pvalue)


def _z_test(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[float | None, float]:
    """Two-proportion z-test on the share of the first value (Evidently's z_stat_test)."""
    from scipy.stats import norm

    r, c, keys = _aligned(ref, cur)
    if len(keys) == 1:
        return 0.0, 1.0
    n1, n2 = r.sum(), c.sum()
    p1, p2 = 1 - r[0] / n1, 1 - c[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    denominator = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if denominator == 0:
        return None, float("nan")
    z = (p1 - p2) / denominator
    return float(z), float(2 * (1 - norm.cdf(abs(z))))


def _jensen_shannon(ref: Counter[Any] | None, cur: Counter[Any] | None) -> float:
    from scipy.spatial.distance import jensenshannon

    r, c, _ = _aligned(ref, cur)
    return float(jensenshannon(r / r.sum(), c / c.sum()))


def _ks(column: Column, ref_table: pa.Table, cur_table: pa.Table,
        cur_rows: int) -> tuple[float, float]:
    """Two-sample K-S, exact: scipy on both samples when the current sample holds them all,
    otherwise the statistic from current counts at the reference values and scipy's
    asymptotic p-value (the one scipy itself uses at these sizes)."""
    import numpy as np
    from scipy.stats import distributions, ks_2samp

    ref_values = _floats(ref_table.column(column.name))
    ref_values = ref_values[np.isfinite(ref_values)]
    if cur_rows <= SAMPLE_ROWS:
        cur_values = _floats(cur_table.column(column.name))
        cur_values = cur_values[np.isfinite(cur_values)]
        result = ks_2samp(ref_values, cur_values)
        return float(result.statistic), float(result.pvalue)
    u = column.ks_values
    assert u is not None and column.cur.ks_between is not None
    assert column.cur.ks_equal is not None
    between, at = column.cur.ks_between, column.cur.ks_equal
    n_ref, n_cur = len(ref_values), int(between.sum() + at.sum())
    ref_cdf = np.searchsorted(np.sort(ref_values), u, side="right") / n_ref
    cur_at = np.cumsum(between[:-1] + at) / n_cur           # F_cur(u_j)
    cur_before_next = cur_at + between[1:] / n_cur           # F_cur just below u_{j+1}
    statistic = float(max(between[0] / n_cur, np.abs(ref_cdf - cur_at).max(),
                          np.abs(ref_cdf - cur_before_next).max()))
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    p_value = float(distributions.kstwo.sf(statistic, np.round(m * n / (m + n))))
    return statistic, min(max(p_value, 0.0), 1.0)


def _wasserstein_binned(column: Column) -> float:
    """Normalised Wasserstein distance between the binned distributions (module docstring)."""
    from scipy.stats import wasserstein_distance

    ref, cur = column.ref, column.cur
    assert ref.hist is not None and cur.hist is not None
    assert ref.hist_sum is not None and cur.hist_sum is not None
    r_mask, c_mask = ref.hist > 0, cur.hist > 0
    r_points = ref.hist_sum[r_mask] / ref.hist[r_mask]
    c_points = cur.hist_sum[c_mask] / cur.hist[c_mask]
    distance = wasserstein_distance(r_points, c_points, ref.hist[r_mask].astype(float),
                                    cur.hist[c_mask].astype(float))
    return float(distance / max(ref.std, WASSERSTEIN_MIN_NORM))


def _psi(column: Column) -> float | None:
    import numpy as np

    ref, cur = column.ref, column.cur
    if column.kind == CATEGORICAL or column.grid is None:
        if not ref.counts or not cur.counts:
            return None
        r, c, _ = _aligned(ref.counts, cur.counts)
    else:
        if ref.hist is None or cur.hist is None or column.decile_edges is None:
            return None
        # Decile bins from the grid counts: each decile edge snapped to its grid bin's start.
        low, step, bins = column.grid
        starts = np.clip(np.floor((column.decile_edges - low) / step), -1, bins).astype(int) + 1
        starts = np.unique(np.concatenate([[0], starts]))
        r = np.add.reduceat(ref.hist, starts).astype(float)
        c = np.add.reduceat(cur.hist, starts).astype(float)
    if r.sum() == 0 or c.sum() == 0:
        return None
    r = np.maximum(r / r.sum(), PSI_EMPTY_SHARE)
    c = np.maximum(c / c.sum(), PSI_EMPTY_SHARE)
    return float(((c - r) * np.log(c / r)).sum())


class _quiet:
    """Silence numpy's divide warnings (a category new in current data is an infinite chi2)."""

    def __enter__(self) -> None:
        import numpy as np

        self._old = np.seterr(all="ignore")

    def __exit__(self, *exc: object) -> None:
        import numpy as np

        np.seterr(**self._old)


# --- multivariate ----------------------------------------------------------------------------

def _domain_classifier(columns: list[Column], ref_table: pa.Table,
                       cur_table: pa.Table) -> dict[str, Any] | None:
    """ROC AUC of gradient boosting telling sampled reference rows from current rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    ref_part = ref_table.slice(0, DOMAIN_SAMPLE_ROWS)
    cur_part = cur_table.slice(0, DOMAIN_SAMPLE_ROWS)
    if ref_part.num_rows < DOMAIN_MIN_ROWS or cur_part.num_rows < DOMAIN_MIN_ROWS:
        return None
    blocks, categorical = [], []
    for column in columns:
        if column.arrow_numeric and column.kind == NUMERIC:
            values = np.concatenate([_floats(ref_part.column(column.name)),
                                     _floats(cur_part.column(column.name))])
            values[~np.isfinite(values)] = np.nan
            blocks.append(values)
            categorical.append(False)
        elif (not column.skipped and column.ref.counts is not None
              and column.cur.counts is not None):
            keys = pa.concat_arrays([_strings(ref_part.column(column.name)),
                                     _strings(cur_part.column(column.name))])
            encoded_keys = pc.dictionary_encode(keys)
            codes = pc.fill_null(encoded_keys.indices, -1).to_numpy(zero_copy_only=False)
            encoded = codes.astype(float)
            encoded[codes < 0] = np.nan
            blocks.append(encoded)
            categorical.append(len(encoded_keys.dictionary) <= 250)
    if not blocks:
        return None
    X = np.column_stack(blocks)
    y = np.r_[np.zeros(ref_part.num_rows), np.ones(cur_part.num_rows)]
    model = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15,
                                           categorical_features=categorical, random_state=SEED)
    folds = StratifiedKFold(3, shuffle=True, random_state=SEED)
    # One thread: OpenMP's spinning workers cost more than they give on a busy machine.
    with threadpool_limits(limits=1):
        proba = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, proba))
    return {"method": "domain-classifier", "auc": round(auc, 6),
            "drifted": auc >= DOMAIN_AUC_THRESHOLD, "threshold": DOMAIN_AUC_THRESHOLD,
            "sample_rows": int(min(ref_part.num_rows, cur_part.num_rows))}


# --- labels: performance and bias ------------------------------------------------------------

SEPARATOR = "\x1f"


class _Labels:
    """Counts of (target, prediction) and (group, prediction, target), streamed."""

    def __init__(self, options: Options, by_name: dict[str, Column], file: str) -> None:
        self.file = file
        self.options = options
        self.by_name = by_name
        self.regression = False
        self.pairs: dict[str, Counter[str]] = {"ref": Counter(), "cur": Counter()}
        self.squared: dict[str, list[float]] = {"ref": [0.0, 0], "cur": [0.0, 0]}
        self.groups: dict[str, Counter[str]] = {s: Counter() for s in options.sensitive}
        self.cuts: dict[str, np.ndarray] = {}

    def prepare(self, ref_table: pa.Table, by_name: dict[str, Column]) -> None:
        import numpy as np

        target = self.options.target
        if target is not None and by_name.get(target) is not None:
            column = by_name[target]
            ref = column.ref
            many = ref.counts is None or len(ref.counts) > REGRESSION_MIN_VALUES
            self.regression = column.arrow_numeric and (many or not ref.integral)
        for name in self.options.sensitive:
            attribute = by_name.get(name)
            if attribute is None or not attribute.arrow_numeric:
                continue
            counts = attribute.ref.counts
            if counts is None or len(counts) > INTEGER_CATEGORICAL_LIMIT:
                values = _floats(ref_table.column(name))
                values = values[np.isfinite(values)]
                cuts = np.quantile(values, np.linspace(0, 1, SENSITIVE_NUMERIC_BINS + 1)[1:-1])
                self.cuts[name] = np.unique(cuts)

    def add(self, batch: pa.RecordBatch, which: str) -> None:
        import numpy as np
        import pyarrow.compute as pc

        target, prediction = self.options.target, self.options.prediction
        if target is not None and prediction is not None:
            if self.regression:
                t, p = _floats(batch.column(target)), _floats(batch.column(prediction))
                ok = np.isfinite(t) & np.isfinite(p)
                self.squared[which][0] += float(((t[ok] - p[ok]) ** 2).sum())
                self.squared[which][1] += int(ok.sum())
            else:
                keys = pc.binary_join_element_wise(_strings(batch.column(target)),
                                                   _strings(batch.column(prediction)), SEPARATOR)
                _count(self.pairs[which], keys)
        if which != "cur" or prediction is None or self.regression:
            return
        parts = [_strings(batch.column(prediction))]
        if target is not None:
            parts.append(_strings(batch.column(target)))
        for name in self.options.sensitive:
            group = self._group(batch, name)
            _count(self.groups[name], pc.binary_join_element_wise(group, *parts, SEPARATOR))

    def _group(self, batch: pa.RecordBatch, name: str) -> Any:
        import numpy as np
        import pyarrow as pa

        if name not in self.cuts:
            return _strings(batch.column(name))
        cuts = self.cuts[name]
        values = _floats(batch.column(name))
        index = np.searchsorted(cuts, values, side="right")
        bounds = [-math.inf, *cuts.tolist(), math.inf]
        labels = np.array([f"[{_short(bounds[i])}, {_short(bounds[i + 1])})"
                           for i in range(len(bounds) - 1)], dtype=object)
        out = labels[index]
        return pa.array(out, type=pa.string(), mask=~np.isfinite(values))

    def performance(self) -> dict[str, Any] | None:
        if self.options.target is None or self.options.prediction is None:
            return None
        if self.regression:
            values = {}
            for which in ("ref", "cur"):
                total, n = self.squared[which]
                values[which] = (_sig(math.sqrt(total / n)) if n else None, int(n))
            return {"metric": "rmse", "reference": values["ref"][0],
                    "current": values["cur"][0], "reference_rows": values["ref"][1],
                    "current_rows": values["cur"][1]}
        ref_f1, ref_n = _f1_macro(self.pairs["ref"])
        cur_f1, cur_n = _f1_macro(self.pairs["cur"])
        return {"metric": "f1_macro", "reference": _sig(ref_f1), "current": _sig(cur_f1),
                "reference_rows": ref_n, "current_rows": cur_n}

    def positive_label(self) -> str | None:
        labels: set[str] = set()
        for counter in self.groups.values():
            for key in counter:
                labels.update(key.split(SEPARATOR)[1:])
        if self.options.positive_label is not None:
            if labels and self.options.positive_label not in labels:
                shown = ", ".join(sorted(labels)[:8])
                raise InputError(self.file, "--positive-label",
                                 f"expected one of the labels ({shown})",
                                 self.options.positive_label)
            return self.options.positive_label
        if not labels:
            return None
        lowered = {label.lower() for label in labels}
        for positive in ("1", "true"):
            if positive in lowered and lowered <= {"0", "1", "true", "false"}:
                return next(label for label in labels if label.lower() == positive)
        # Otherwise the larger label when sorted, as scikit-learn orders a binary target.
        return sorted(labels)[-1]

    def bias(self) -> list[dict[str, Any]] | None:
        if not self.options.sensitive or self.options.prediction is None or self.regression:
            return None
        positive = self.positive_label()
        checks: list[dict[str, Any]] = []
        for name in self.options.sensitive:
            rows: Counter[str] = Counter()
            selected: Counter[str] = Counter()
            positives: Counter[str] = Counter()
            true_positives: Counter[str] = Counter()
            for key, count in self.groups[name].items():
                group, predicted, *actual = key.split(SEPARATOR)
                rows[group] += count
                selected[group] += count if predicted == positive else 0
                if actual:
                    is_positive = actual[0] == positive
                    positives[group] += count if is_positive else 0
                    true_positives[group] += count if is_positive and predicted == positive else 0
            groups = _large_enough(rows)
            rates = {g: selected[g] / rows[g] for g in groups}
            checks.extend(_rate_checks(name, rates, positive))
            if self.options.target is not None:
                tpr = {g: true_positives[g] / positives[g] for g in groups if positives[g]}
                value = max(tpr.values()) - min(tpr.values()) if len(tpr) >= 2 else None
                checks.append(_check(name, "equal_opportunity_difference", value,
                                     PARITY_DIFFERENCE_THRESHOLD, value is not None
                                     and value > PARITY_DIFFERENCE_THRESHOLD, positive, tpr))
        return checks


def _short(value: float) -> str:
    return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:.6g}"


def _count(counter: Counter[str], keys: Any) -> None:
    import pyarrow.compute as pc

    counted = pc.value_counts(keys)
    for key, count in zip(counted.field("values").to_pylist(),
                          counted.field("counts").to_pylist(), strict=True):
        if key is not None:
            counter[key] += count


def _large_enough(rows: Counter[str]) -> list[str]:
    large = sorted(g for g, n in rows.items() if n >= MIN_GROUP_ROWS)
    return large if len(large) >= 2 else sorted(rows)


def _rate_checks(name: str, rates: dict[str, float], positive: str | None) -> list[dict]:
    if len(rates) < 2:
        return [_check(name, "disparate_impact", None, DISPARATE_IMPACT_THRESHOLD, False,
                       positive, rates),
                _check(name, "demographic_parity_difference", None,
                       PARITY_DIFFERENCE_THRESHOLD, False, positive, rates)]
    high, low = max(rates.values()), min(rates.values())
    impact = low / high if high > 0 else 1.0
    difference = high - low
    return [_check(name, "disparate_impact", impact, DISPARATE_IMPACT_THRESHOLD,
                   impact < DISPARATE_IMPACT_THRESHOLD, positive, rates),
            _check(name, "demographic_parity_difference", difference,
                   PARITY_DIFFERENCE_THRESHOLD, difference > PARITY_DIFFERENCE_THRESHOLD,
                   positive, rates)]


def _check(name: str, metric: str, value: float | None, threshold: float, violated: bool,
           positive: str | None, groups: dict[str, float]) -> dict[str, Any]:
    return {"attribute": name, "metric": metric, "value": _sig(value), "threshold": threshold,
            "violated": bool(violated), "positive_label": positive,
            "groups": {g: _sig(v) for g, v in sorted(groups.items())}}


def _f1_macro(pairs: Counter[str]) -> tuple[float | None, int]:
    """Macro F1 over the labels seen in targets or predictions (scikit-learn's definition)."""
    total = sum(pairs.values())
    if total == 0:
        return None, 0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    labels: set[str] = set()
    for key, count in pairs.items():
        actual, predicted = key.split(SEPARATOR)
        labels.update((actual, predicted))
        if actual == predicted:
            tp[actual] += count
        else:
            fp[predicted] += count
            fn[actual] += count
    scores = [2 * tp[k] / (2 * tp[k] + fp[k] + fn[k]) if (2 * tp[k] + fp[k] + fn[k]) else 0.0
              for k in labels]
    return sum(scores) / len(scores), total


# --- rendering -------------------------------------------------------------------------------

def to_json(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def to_table(doc: dict[str, Any]) -> str:
    """A readable summary for the terminal."""
    features = doc["features"]
    drifted = sum(1 for f in features if f["drifted"])
    lines = [f"reference: {doc['reference_rows']} rows   current: {doc['current_rows']} rows",
             f"dataset drift: {'YES' if doc['dataset_drift'] else 'no'} "
             f"({drifted} of {len(features)} columns drifted, share {doc['share_drifted']:.2f}; "
             f"threshold {DATASET_DRIFT_SHARE})", ""]
    header = ["column", "kind", "method", "statistic", "p_value", "psi", "missing ref>cur",
              "drifted"]
    body = [[f["name"], f["kind"], f["method"], _num(f["statistic"]), _num(f["p_value"]),
             _num(f["psi"]),
             f"{_pct(f['missing_share_reference'])}>{_pct(f['missing_share_current'])}",
             "DRIFT" if f["drifted"] else "-"] for f in features]
    lines.extend(table_lines(header, body, strip=True))
    multivariate = doc.get("multivariate")
    if multivariate:
        lines.append("")
        lines.append(f"multivariate: domain classifier AUC {multivariate['auc']:.3f} "
                     f"({'DRIFT' if multivariate['drifted'] else 'no drift'}; threshold "
                     f"{DOMAIN_AUC_THRESHOLD})")
    performance = doc.get("performance")
    if performance:
        lines.append(f"performance: {performance['metric']} reference "
                     f"{_num(performance['reference'])} -> current {_num(performance['current'])}")
    for check in doc.get("bias") or []:
        flag = "VIOLATED" if check["violated"] else "ok"
        lines.append(f"bias: {check['attribute']} {check['metric']} {_num(check['value'])} "
                     f"(threshold {check['threshold']}) {flag}")
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
