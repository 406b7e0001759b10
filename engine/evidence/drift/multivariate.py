"""Multivariate drift: can a classifier tell reference rows from current rows?

Our convention: gradient boosting separates a sample of reference rows from current rows; a
cross-validated ROC AUC DOMAIN_AUC_THRESHOLD (0.05 above chance) or more signals drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.evidence.drift.columns import NUMERIC, Column
from engine.evidence.drift.samples import SEED, Samples
from engine.evidence.drift.values import floats, strings

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

DOMAIN_SAMPLE_ROWS = 5000
DOMAIN_AUC_THRESHOLD = 0.55
DOMAIN_MIN_ROWS = 20
MAX_NATIVE_CATEGORIES = 250      # more codes than this are treated as numbers by the model


def domain_classifier(columns: list[Column], samples: Samples) -> dict[str, Any] | None:
    """ROC AUC of gradient boosting telling sampled reference rows from current rows."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    ref_part = samples.ref_table.slice(0, DOMAIN_SAMPLE_ROWS)
    cur_part = samples.cur_table.slice(0, DOMAIN_SAMPLE_ROWS)
    if ref_part.num_rows < DOMAIN_MIN_ROWS or cur_part.num_rows < DOMAIN_MIN_ROWS:
        return None
    blocks, categorical = _features(columns, ref_part, cur_part)
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


def _features(columns: list[Column], ref_part: pa.Table,
              cur_part: pa.Table) -> tuple[list[np.ndarray], list[bool]]:
    """One block per usable column (numbers as they are, categories as codes), and whether
    the model should treat it as categorical. A column with no value in the sample tells the
    two sides apart by nothing, and scikit-learn refuses a feature that is all missing."""
    import numpy as np

    blocks, categorical = [], []
    for column in columns:
        if column.arrow_numeric and column.kind == NUMERIC:
            block, is_categorical = _numbers(column.name, ref_part, cur_part), False
        elif (not column.skipped and column.ref.counts is not None
              and column.cur.counts is not None):
            block, n_codes = _codes(column.name, ref_part, cur_part)
            is_categorical = n_codes <= MAX_NATIVE_CATEGORIES
        else:
            continue
        if not np.isnan(block).all():
            blocks.append(block)
            categorical.append(is_categorical)
    return blocks, categorical


def _numbers(name: str, ref_part: pa.Table, cur_part: pa.Table) -> np.ndarray:
    import numpy as np

    values = np.concatenate([floats(ref_part.column(name)), floats(cur_part.column(name))])
    values[~np.isfinite(values)] = np.nan
    return values


def _codes(name: str, ref_part: pa.Table, cur_part: pa.Table) -> tuple[np.ndarray, int]:
    """Both sides' categories as float codes (NaN for missing), and how many codes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.concat_arrays([strings(ref_part.column(name)), strings(cur_part.column(name))])
    encoded_keys = pc.dictionary_encode(keys)
    codes = pc.fill_null(encoded_keys.indices, -1).to_numpy(zero_copy_only=False)
    encoded = codes.astype(float)
    encoded[codes < 0] = np.nan
    return encoded, len(encoded_keys.dictionary)
