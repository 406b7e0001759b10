"""The drift tests, as a table of small records, and Evidently's default choice among them.

Each test is registered once with the column kinds it applies to, its default threshold and
which side of it means drift, the way Evidently's stattest registry does. The choice for a
column is Evidently's DataDriftPreset default (so verdicts are comparable), a lookup by the
reference's size and the column's kind: a reference of at most SMALL_REFERENCE_ROWS rows gets
K-S (continuous), chi-square (more than two values) or a two-proportion z-test (two values) at
p < 0.05; a larger reference gets the Wasserstein distance normalised by the reference standard
deviation (continuous) or the Jensen-Shannon distance (counted values), drifted at >= 0.1.

Statistics come from what the passes counted: exact value counts for counted columns; K-S
exact, from current counts at the reference's distinct values (a small reference is held);
Wasserstein from the binned counts (engine/evidence/drift/binning.py). Each bin is replaced by
a point mass at the mean of the values in it and the exact distance between the two point sets
is taken. The error is at most the mean distance of a value to its bin's mean, summed over both
sides (under half a bin width: <= 0.005 normalised on the default grid, in practice ~1e-4
because both sides' errors mostly cancel), so verdicts at the 0.1 threshold agree with exact
ones except for distances within that margin of it (tests check this on several
distributions).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.evidence.drift.columns import CATEGORICAL, DISTINCT_CAP, Column
from engine.evidence.drift.samples import SAMPLE_ROWS, Samples
from engine.evidence.drift.values import floats

# Evidently 0.7 DataDriftPreset defaults (evidently/legacy/calculations/stattests/registry.py).
SMALL_REFERENCE_ROWS = 1000      # reference rows up to which p-value tests are used
P_VALUE_THRESHOLD = 0.05         # ks, chisquare, z: drifted when p < 0.05
WASSERSTEIN_THRESHOLD = 0.1      # normalised Wasserstein distance: drifted when >= 0.1
JENSEN_SHANNON_THRESHOLD = 0.1   # Jensen-Shannon distance (natural log): drifted when >= 0.1
FEW_VALUES = 5                   # numeric columns with <= 5 distinct values are tested as counts
WASSERSTEIN_MIN_NORM = 0.001     # Evidently's floor on the reference standard deviation

# The kinds of column a test applies to: numbers compared as a distribution, or counted values
# (categories, or numbers with few values), with more than two values or just two.
CONTINUOUS, DISCRETE, BINARY = "continuous", "discrete", "binary"
# Reference sizes the default choice tells apart.
SMALL, LARGE = "small", "large"

Statistic = tuple[float | None, float | None]   # statistic, p-value (None for a distance)


@dataclass(frozen=True)
class StatTest:
    """One registered drift test."""

    name: str                   # the `method` of the drift summary
    kinds: frozenset[str]       # column kinds it applies to
    threshold: float            # default threshold
    drift_below: bool           # a p-value drifts below the threshold, a distance at or above
    run: Callable[[Column, Samples], Statistic]

    def drifted(self, statistic: float | None, p_value: float | None) -> bool:
        if self.drift_below:
            return p_value is not None and math.isfinite(p_value) and p_value < self.threshold
        return statistic is not None and statistic >= self.threshold


def _run_ks(column: Column, samples: Samples) -> Statistic:
    return _ks(column, samples)


def _run_chisquare(column: Column, samples: Samples) -> Statistic:
    return _chisquare(column.ref.counts, column.cur.counts)


def _run_z(column: Column, samples: Samples) -> Statistic:
    return _z_test(column.ref.counts, column.cur.counts)


def _run_wasserstein(column: Column, samples: Samples) -> Statistic:
    return _wasserstein_binned(column), None


def _run_jensen_shannon(column: Column, samples: Samples) -> Statistic:
    return _jensen_shannon(column.ref.counts, column.cur.counts), None


KS = StatTest("ks", frozenset({CONTINUOUS}), P_VALUE_THRESHOLD, True, _run_ks)
CHISQUARE = StatTest("chisquare", frozenset({DISCRETE, BINARY}), P_VALUE_THRESHOLD, True,
                     _run_chisquare)
Z = StatTest("z", frozenset({BINARY}), P_VALUE_THRESHOLD, True, _run_z)
WASSERSTEIN = StatTest("wasserstein", frozenset({CONTINUOUS}), WASSERSTEIN_THRESHOLD, False,
                       _run_wasserstein)
JENSEN_SHANNON = StatTest("jensenshannon", frozenset({DISCRETE, BINARY}),
                          JENSEN_SHANNON_THRESHOLD, False, _run_jensen_shannon)

STATTESTS: dict[str, StatTest] = {t.name: t for t in (KS, CHISQUARE, Z, WASSERSTEIN,
                                                      JENSEN_SHANNON)}

# Evidently's default choice: (reference size, column kind) -> test.
DEFAULT_TESTS: dict[tuple[str, str], StatTest] = {
    (SMALL, CONTINUOUS): KS, (SMALL, DISCRETE): CHISQUARE, (SMALL, BINARY): Z,
    (LARGE, CONTINUOUS): WASSERSTEIN, (LARGE, DISCRETE): JENSEN_SHANNON,
    (LARGE, BINARY): JENSEN_SHANNON,
}


def kind_for_test(column: Column) -> str:
    """Counted when both sides have at most FEW_VALUES values, or the column is categorical
    and both sides were counted; otherwise continuous."""
    counted = _n_values(column)
    n_values = DISTINCT_CAP + 1 if counted is None else counted
    if n_values > FEW_VALUES and not (column.kind == CATEGORICAL and counted is not None):
        return CONTINUOUS
    return DISCRETE if n_values > 2 else BINARY


def _n_values(column: Column) -> int | None:
    """Distinct values over both sides, or None when a side has too many to count."""
    ref, cur = column.ref.counts, column.cur.counts
    if ref is None or cur is None:
        return None
    return len(set(ref) | set(cur))


def choose(column: Column) -> StatTest:
    size = SMALL if column.ref.count <= SMALL_REFERENCE_ROWS else LARGE
    return DEFAULT_TESTS[(size, kind_for_test(column))]


# --- the statistics ------------------------------------------------------------------------

def aligned(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[Any, Any, list[Any]]:
    """Both sides' counts over the union of their values, in one order."""
    import numpy as np

    ref, cur = ref or Counter(), cur or Counter()
    keys = sorted(set(ref) | set(cur), key=lambda k: (str(type(k)), k))
    return (np.array([ref.get(k, 0) for k in keys], dtype=float),
            np.array([cur.get(k, 0) for k in keys], dtype=float), keys)


def _chisquare(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[float, float]:
    from scipy.stats import chisquare

    r, c, _ = aligned(ref, cur)
    expected = r * (c.sum() / r.sum())
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")
        result = chisquare(c, expected)
    return float(result.statistic), float(result.pvalue)


def _z_test(ref: Counter[Any] | None, cur: Counter[Any] | None) -> tuple[float | None, float]:
    """Two-proportion z-test on the share of the first value (Evidently's z_stat_test)."""
    from scipy.stats import norm

    r, c, keys = aligned(ref, cur)
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
    """scipy.spatial.distance.jensenshannon (natural log) in numpy: importing scipy.stats
    costs more than a large reference's whole test."""
    import numpy as np

    r, c, _ = aligned(ref, cur)
    p, q = r / r.sum(), c / c.sum()
    m = (p + q) / 2

    def kl(a: Any) -> float:
        inside = a > 0
        return float((a[inside] * np.log(a[inside] / m[inside])).sum())

    return math.sqrt(max((kl(p) + kl(q)) / 2, 0.0))


def wasserstein_1d(u: Any, v: Any, u_weights: Any, v_weights: Any) -> float:
    """scipy.stats.wasserstein_distance of two weighted point sets (its algorithm: the area
    between the two CDFs), in numpy for the same reason."""
    import numpy as np

    u_order, v_order = np.argsort(u), np.argsort(v)
    points = np.sort(np.concatenate([u, v]), kind="mergesort")
    deltas = np.diff(points)
    u_cum = np.concatenate([[0.0], np.cumsum(u_weights[u_order])])
    v_cum = np.concatenate([[0.0], np.cumsum(v_weights[v_order])])
    u_cdf = u_cum[np.searchsorted(u[u_order], points[:-1], "right")] / u_cum[-1]
    v_cdf = v_cum[np.searchsorted(v[v_order], points[:-1], "right")] / v_cum[-1]
    return float(np.sum(np.abs(u_cdf - v_cdf) * deltas))


def _ks(column: Column, samples: Samples) -> tuple[float, float]:
    """Two-sample K-S, exact: scipy on both samples when the current sample holds them all,
    otherwise the statistic from current counts at the reference values and scipy's
    asymptotic p-value (the one scipy itself uses at these sizes)."""
    import numpy as np
    from scipy.stats import distributions, ks_2samp

    ref_values = floats(samples.ref_table.column(column.name))
    ref_values = ref_values[np.isfinite(ref_values)]
    if samples.cur_rows <= SAMPLE_ROWS:
        cur_values = floats(samples.cur_table.column(column.name))
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
    ref, cur = column.ref, column.cur
    assert ref.hist is not None and cur.hist is not None
    assert ref.hist_sum is not None and cur.hist_sum is not None
    r_mask, c_mask = ref.hist > 0, cur.hist > 0
    r_points = ref.hist_sum[r_mask] / ref.hist[r_mask]
    c_points = cur.hist_sum[c_mask] / cur.hist[c_mask]
    distance = wasserstein_1d(r_points, c_points, ref.hist[r_mask].astype(float),
                              cur.hist[c_mask].astype(float))
    return float(distance / max(ref.std, WASSERSTEIN_MIN_NORM))


class _quiet:
    """Silence numpy's divide warnings (a category new in current data is an infinite chi2)."""

    def __enter__(self) -> None:
        import numpy as np

        self._old = np.seterr(all="ignore")

    def __exit__(self, *exc: object) -> None:
        import numpy as np

        np.seterr(**self._old)
