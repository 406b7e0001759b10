"""Gradient-boosted trees on binned features, in numpy, for the domain classifier.

The same kind of model as scikit-learn's HistGradientBoostingClassifier (logistic loss, Newton
leaf values, features binned once, categories split as sets ordered by their gradients, a bin
for missing values, at least MIN_LEAF_ROWS rows a leaf), grown level by level so that one
`np.bincount` gives the gradient histograms of every node of a level, for the models of all
cross-validation folds at once. Smaller than the scikit-learn model the check used before
(40 iterations of 15 leaves at rate 0.1, 255 bins): ITERATIONS trees of depth DEPTH at
LEARNING_RATE, MAX_BINS bins, missing values always on the low side of a split. In exchange no
scikit-learn (with scipy and pandas) to import: seconds on a cold start.
tests/test_drift_boosting.py compares AUCs and verdicts with that model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MAX_BINS = 32                    # per feature, the missing-value bin (0) included
DEPTH = 3                        # up to 8 leaves per tree
ITERATIONS = 30
LEARNING_RATE = 0.15
MIN_LEAF_ROWS = 20
L2 = 1e-3                        # keeps a leaf of pure rows finite


@dataclass(frozen=True)
class Binned:
    """Features as small integer codes (rows x features), and which are categorical."""

    codes: np.ndarray
    categorical: np.ndarray


def bin_numbers(values: np.ndarray) -> np.ndarray:
    """Codes 1..MAX_BINS-1 by quantiles of the finite values; 0 for missing."""
    import numpy as np

    finite = np.isfinite(values)
    codes = np.zeros(len(values), dtype=np.intp)
    if not finite.any():
        return codes
    present = values[finite]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, MAX_BINS)[1:-1]))
    codes[finite] = np.searchsorted(edges, present, side="right") + 1
    return codes


def bin_codes(codes: np.ndarray) -> np.ndarray:
    """Category codes (-1 missing) as bins: the MAX_BINS - 2 most frequent categories keep
    their own bin, the rest share one; 0 for missing."""
    import numpy as np

    present = codes >= 0
    counts = np.bincount(codes[present]) if present.any() else np.zeros(0, dtype=np.intp)
    order = np.argsort(-counts, kind="stable")
    table = np.full(max(len(counts), 1), MAX_BINS - 1, dtype=np.intp)
    kept = order[: MAX_BINS - 2]
    table[kept] = np.arange(1, len(kept) + 1)
    out = np.zeros(len(codes), dtype=np.intp)
    out[present] = table[codes[present]]
    return out


def out_of_fold_scores(data: Binned, y: np.ndarray, folds: np.ndarray,
                       n_folds: int) -> np.ndarray:
    """Each row's score (log-odds of y = 1) from the model fitted on the other folds."""
    import numpy as np

    codes = data.codes
    d = codes.shape[1]
    rows = np.concatenate([np.flatnonzero(folds != k) for k in range(n_folds)])
    model = np.repeat(np.arange(n_folds), [int((folds != k).sum()) for k in range(n_folds)])
    train_codes, train_y = codes[rows], y[rows].astype(float)
    flat = train_codes + np.arange(d) * MAX_BINS          # bin index, feature by feature
    grower = _Grower(flat, train_codes, model, n_folds, data.categorical)
    prior = np.array([_log_odds(y[folds != k]) for k in range(n_folds)])
    train_raw = prior[model]
    test_raw = prior[folds]
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-train_raw))
        train_leaf, features, left_bins, leaves = grower.grow(p - train_y, p * (1.0 - p))
        train_raw = train_raw + leaves[train_leaf]
        test_raw = test_raw + leaves[_route(codes, folds, features, left_bins)]
    return test_raw


def _log_odds(y: np.ndarray) -> float:
    import math

    share = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
    return math.log(share / (1 - share))


class _Grower:
    """Grows one tree per model (fold) at a time, level by level: one bincount gives the
    gradient histograms of every node of every model at a level."""

    def __init__(self, flat: np.ndarray, codes: np.ndarray, model: np.ndarray, n_models: int,
                 categorical: np.ndarray) -> None:
        import numpy as np

        self.flat, self.codes, self.model, self.n_models = flat, codes, model, n_models
        self.rows = np.arange(len(codes))
        self.categorical = np.flatnonzero(categorical)
        d = codes.shape[1]
        self.width = d * MAX_BINS
        # The root's bins, and its row counts per bin, are the same for every tree.
        self.root_key = (flat + (model * self.width)[:, None]).ravel()
        self.root_counts = np.bincount(self.root_key, minlength=n_models * self.width)

    def grow(self, g: np.ndarray,
             h: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Each training row's leaf, each level's split feature and left-going bins per node,
        and the leaf values (learning rate applied). Below the root only each split's smaller
        side is counted; the other is its parent's histogram minus it."""
        import numpy as np

        node = np.zeros(len(self.codes), dtype=np.intp)
        features: list[np.ndarray] = []
        left_bins: list[np.ndarray] = []
        d = self.codes.shape[1]
        shape = (self.n_models, d, MAX_BINS)
        hists: tuple[np.ndarray, ...] = (
            *(np.bincount(self.root_key, weights=np.repeat(w, d),
                          minlength=self.root_counts.size).reshape(shape) for w in (g, h)),
            self.root_counts.reshape(shape))
        for level in range(DEPTH):
            group = (self.model << level) + node
            feature, goes_left, left_smaller = _best_splits(hists[0], hists[1], hists[2],
                                                            self.categorical)
            features.append(feature)
            left_bins.append(goes_left)
            right = ~goes_left[group, self.codes[self.rows, feature[group]]]
            node = 2 * node + right
            if level + 1 < DEPTH:
                small = np.flatnonzero(right != left_smaller[group])
                smaller = self._histograms(small, group[small], g, h, len(feature))
                hists = _children(hists, smaller, left_smaller)
        leaf = (self.model << DEPTH) + node
        leaves = self.n_models << DEPTH
        sum_g = np.bincount(leaf, weights=g, minlength=leaves)
        sum_h = np.bincount(leaf, weights=h, minlength=leaves)
        return leaf, features, left_bins, -LEARNING_RATE * sum_g / (sum_h + L2)

    def _histograms(self, rows: np.ndarray, group: np.ndarray, g: np.ndarray, h: np.ndarray,
                    groups: int) -> tuple[np.ndarray, ...]:
        """Sums of gradients and hessians, and row counts, per group, feature and bin."""
        import numpy as np

        d = self.codes.shape[1]
        key = self.flat[rows]
        key += (group * self.width)[:, None]     # in place: a fresh temporary costs 5x more
        key = key.ravel()
        size, shape = groups * self.width, (groups, d, MAX_BINS)
        return (*(np.bincount(key, weights=np.repeat(w[rows], d), minlength=size).reshape(shape)
                  for w in (g, h)), np.bincount(key, minlength=size).reshape(shape))


def _children(parent: tuple[np.ndarray, ...], smaller: tuple[np.ndarray, ...],
              left_smaller: np.ndarray) -> tuple[np.ndarray, ...]:
    """Both children's histograms per parent (left, right in turn) from the smaller one's."""
    import numpy as np

    out: list[Any] = []
    for whole, part in zip(parent, smaller, strict=True):
        other = whole - part
        flag = left_smaller[:, None, None]
        left, right = np.where(flag, part, other), np.where(flag, other, part)
        out.append(np.stack([left, right], axis=1).reshape(-1, *whole.shape[1:]))
    return tuple(out)


def _best_splits(hist_g: np.ndarray, hist_h: np.ndarray, hist_n: np.ndarray,
                 categorical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node, the feature of the best split, which of its bins go left (all, when no split
    gains: the node's rows then stay together down to a leaf), and whether fewer rows go
    left than right."""
    import numpy as np

    groups, d, bins = hist_g.shape
    # Bins in split order: numbers in their own order, categories by gradient ratio (the
    # order in which the best set split is a prefix), empty categories last.
    order = np.broadcast_to(np.arange(bins), hist_g.shape)
    if len(categorical):
        order = order.copy()
        cat_g, cat_h, cat_n = (a[:, categorical] for a in (hist_g, hist_h, hist_n))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(cat_n > 0, cat_g / (cat_h + L2), np.inf)
        cat_order = np.argsort(ratio, axis=2, kind="stable")
        order[:, categorical] = cat_order
        hist_g, hist_h, hist_n = hist_g.copy(), hist_h.copy(), hist_n.copy()
        for hist, cat in ((hist_g, cat_g), (hist_h, cat_h), (hist_n, cat_n)):
            hist[:, categorical] = np.take_along_axis(cat, cat_order, 2)
    cum_g, cum_h, cum_n = (np.cumsum(a, axis=2) for a in (hist_g, hist_h, hist_n))
    total_g, total_h, total_n = cum_g[:, :, -1:], cum_h[:, :, -1:], cum_n[:, :, -1:]
    left_g, left_h, left_n = cum_g[:, :, :-1], cum_h[:, :, :-1], cum_n[:, :, :-1]
    right_g, right_h = total_g - left_g, total_h - left_h
    gain = left_g ** 2 / (left_h + L2) + right_g ** 2 / (right_h + L2)
    gain[(left_n < MIN_LEAF_ROWS) | (total_n - left_n < MIN_LEAF_ROWS)] = -np.inf
    gain = gain.reshape(groups, -1)
    best = np.argmax(gain, axis=1)
    parent = (total_g ** 2 / (total_h + L2))[:, 0, 0]
    split = gain[np.arange(groups), best] - parent > 1e-12
    feature, position = np.divmod(best, bins - 1)
    chosen = order[np.arange(groups), feature]                  # bins in split order
    rank = np.empty_like(chosen)
    np.put_along_axis(rank, chosen, np.arange(bins)[None, :], 1)  # each bin's place in it
    goes_left = (rank <= position[:, None]) | ~split[:, None]
    rows_left = cum_n[np.arange(groups), feature, position]
    left_smaller = split & (2 * rows_left <= total_n[np.arange(groups), feature, 0])
    return feature, goes_left, left_smaller


def _route(codes: np.ndarray, model: np.ndarray, features: list[np.ndarray],
           left_bins: list[np.ndarray]) -> np.ndarray:
    """Each row's leaf index (model * leaves per tree + leaf) in the trees just grown."""
    import numpy as np

    node = np.zeros(len(codes), dtype=np.intp)
    rows = np.arange(len(codes))
    for level, (feature, goes_left) in enumerate(zip(features, left_bins, strict=True)):
        group = (model << level) + node
        node = 2 * node + ~goes_left[group, codes[rows, feature[group]]]
    return (model << DEPTH) + node


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count half), from the scores' ranks."""
    import numpy as np

    values, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    mid_rank = np.cumsum(counts) - (counts - 1) / 2.0           # average rank of each value
    ranks = mid_rank[inverse]
    positive = y == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
