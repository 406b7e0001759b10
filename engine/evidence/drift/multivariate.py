"""Multivariate drift: can a classifier tell reference rows from current rows?

Our convention: gradient-boosted trees (boosting.py) separate a sample of reference rows from
current rows; a cross-validated ROC AUC of DOMAIN_AUC_THRESHOLD (0.05 above chance) or more
signals drift. The sample is DOMAIN_SAMPLE_ROWS random rows per side (classes balanced, folds
stratified). The check used to be scikit-learn's HistGradientBoostingClassifier on 5,000 rows
per side: tests/test_drift_boosting.py shows the same verdicts wherever its AUC was
DOMAIN_AGREEMENT_MARGIN or more from the threshold (nearer, two random samples of the same
data disagree too), at a fraction of the cost and without importing scikit-learn, which took
longer than the rest of a run on a million rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.evidence.drift.columns import NUMERIC, Column
from engine.evidence.drift.samples import SEED, Samples
from engine.evidence.drift.values import floats, int_codes, strings

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DOMAIN_SAMPLE_ROWS = 2500
DOMAIN_AUC_THRESHOLD = 0.55
DOMAIN_AGREEMENT_MARGIN = 0.03   # tested: same verdict as scikit-learn's 5,000-row classifier
DOMAIN_MIN_ROWS = 20
DOMAIN_FOLDS = 3


def domain_classifier(columns: list[Column], samples: Samples) -> dict[str, Any] | None:
    """Cross-validated ROC AUC of boosted trees telling sampled reference rows from current
    rows."""
    import numpy as np

    from engine.evidence.drift.boosting import Binned, out_of_fold_scores, roc_auc

    ref_part = samples.ref_table.slice(0, DOMAIN_SAMPLE_ROWS)
    cur_part = samples.cur_table.slice(0, DOMAIN_SAMPLE_ROWS)
    if ref_part.num_rows < DOMAIN_MIN_ROWS or cur_part.num_rows < DOMAIN_MIN_ROWS:
        return None
    blocks, categorical = _features(columns, ref_part, cur_part)
    if not blocks:
        return None
    data = Binned(np.column_stack(blocks), np.array(categorical, dtype=bool))
    y = np.r_[np.zeros(ref_part.num_rows, dtype=np.intp), np.ones(cur_part.num_rows,
                                                                   dtype=np.intp)]
    auc = roc_auc(y, out_of_fold_scores(data, y, _stratified_folds(y), DOMAIN_FOLDS))
    return {"method": "domain-classifier", "auc": round(auc, 6),
            "drifted": auc >= DOMAIN_AUC_THRESHOLD, "threshold": DOMAIN_AUC_THRESHOLD,
            "sample_rows": int(min(ref_part.num_rows, cur_part.num_rows))}


def _stratified_folds(y: np.ndarray) -> np.ndarray:
    """Fold of each row: each class dealt out evenly over the folds in a random order."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    folds = np.empty(len(y), dtype=np.intp)
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        folds[rows] = rng.permutation(len(rows)) % DOMAIN_FOLDS
    return folds


def _features(columns: list[Column], ref_part: pa.Table,
              cur_part: pa.Table) -> tuple[list[np.ndarray], list[bool]]:
    """One block of bin codes per usable column (boosting.py: numbers by quantiles,
    categories by frequency), and whether it is categorical. A column with no value in the
    sample tells the two sides apart by nothing and is left out."""
    from engine.evidence.drift.boosting import bin_codes, bin_numbers

    blocks, categorical = [], []
    for column in columns:
        if column.arrow_numeric and column.kind == NUMERIC:
            block, is_categorical = bin_numbers(_numbers(column.name, ref_part, cur_part)), False
        elif (not column.skipped and column.ref.counts is not None
              and column.cur.counts is not None):
            block, is_categorical = bin_codes(_codes(column.name, ref_part, cur_part)), True
        else:
            continue
        if block.any():
            blocks.append(block)
            categorical.append(is_categorical)
    return blocks, categorical


def _numbers(name: str, ref_part: pa.Table, cur_part: pa.Table) -> np.ndarray:
    import numpy as np

    return np.concatenate([floats(ref_part.column(name)), floats(cur_part.column(name))])


def _codes(name: str, ref_part: pa.Table, cur_part: pa.Table) -> np.ndarray:
    """Both sides' categories as codes (-1 for missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.concat_arrays([strings(ref_part.column(name)), strings(cur_part.column(name))])
    return int_codes(pc.dictionary_encode(keys).indices)
