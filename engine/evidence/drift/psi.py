"""Population stability index, reported beside each verdict (not used for verdicts).

The credit-scoring convention: reference deciles (numeric) or categories, empty bins floored at
PSI_EMPTY_SHARE; 0.1 is a moderate and 0.25 a major shift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.evidence.drift.columns import CATEGORICAL, Column
from engine.evidence.drift.stattests import aligned

if TYPE_CHECKING:
    import numpy as np

PSI_BINS = 10
PSI_EMPTY_SHARE = 0.0001


def psi(column: Column) -> float | None:
    import numpy as np

    shares = _category_counts(column) if column.kind == CATEGORICAL or column.grid is None \
        else _decile_counts(column)
    if shares is None:
        return None
    r, c = shares
    if r.sum() == 0 or c.sum() == 0:
        return None
    r = np.maximum(r / r.sum(), PSI_EMPTY_SHARE)
    c = np.maximum(c / c.sum(), PSI_EMPTY_SHARE)
    return float(((c - r) * np.log(c / r)).sum())


def _category_counts(column: Column) -> tuple[Any, Any] | None:
    ref, cur = column.ref, column.cur
    if not ref.counts or not cur.counts:
        return None
    r, c, _ = aligned(ref.counts, cur.counts)
    return r, c


def _decile_counts(column: Column) -> tuple[np.ndarray, np.ndarray] | None:
    """Decile bins from the grid counts: each decile edge snapped to its grid bin's start."""
    import numpy as np

    ref, cur = column.ref, column.cur
    if ref.hist is None or cur.hist is None or column.decile_edges is None:
        return None
    assert column.grid is not None
    low, step, bins = column.grid
    starts = np.clip(np.floor((column.decile_edges - low) / step), -1, bins).astype(int) + 1
    starts = np.unique(np.concatenate([[0], starts]))
    r = np.add.reduceat(ref.hist, starts).astype(float)
    c = np.add.reduceat(cur.hist, starts).astype(float)
    return r, c
