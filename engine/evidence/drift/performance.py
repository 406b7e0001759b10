"""The model's metric on both sides: macro F1 for classification, RMSE for regression."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from engine.evidence.drift.labels import SEPARATOR, Labels
from engine.evidence.drift.values import sig


def performance(labels: Labels) -> dict[str, Any] | None:
    """The `performance` section, or None without both --target and --prediction."""
    if labels.options.target is None or labels.options.prediction is None:
        return None
    if labels.regression:
        return _rmse(labels)
    ref_f1, ref_n = f1_macro(labels.pairs["ref"])
    cur_f1, cur_n = f1_macro(labels.pairs["cur"])
    return {"metric": "f1_macro", "reference": sig(ref_f1), "current": sig(cur_f1),
            "reference_rows": ref_n, "current_rows": cur_n}


def _rmse(labels: Labels) -> dict[str, Any]:
    values = {}
    for which in ("ref", "cur"):
        total, n = labels.squared[which]
        values[which] = (sig(math.sqrt(total / n)) if n else None, int(n))
    return {"metric": "rmse", "reference": values["ref"][0],
            "current": values["cur"][0], "reference_rows": values["ref"][1],
            "current_rows": values["cur"][1]}


def f1_macro(pairs: Counter[str]) -> tuple[float | None, int]:
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
