"""Counts of (target, prediction) and of (group, prediction, target), streamed with the data,
from which performance.py and bias.py compute their figures."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from engine.evidence.drift.columns import INTEGER_CATEGORICAL_LIMIT, Column
from engine.evidence.drift.options import Options
from engine.evidence.drift.values import count_keys, floats, strings

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SEPARATOR = "\x1f"               # joins the parts of a counted key
REGRESSION_MIN_VALUES = 20       # a numeric target with more values (or fractions) is regression
SENSITIVE_NUMERIC_BINS = 4       # a numeric attribute with many values is cut at its quartiles


class Labels:
    """Target and prediction counts per side, and group counts on the current side."""

    def __init__(self, options: Options, file: str) -> None:
        self.file = file
        self.options = options
        self.regression = False
        self.pairs: dict[str, Counter[str]] = {"ref": Counter(), "cur": Counter()}
        self.squared: dict[str, list[float]] = {"ref": [0.0, 0], "cur": [0.0, 0]}
        self.groups: dict[str, Counter[str]] = {s: Counter() for s in options.sensitive}
        self.cuts: dict[str, np.ndarray] = {}

    @property
    def wanted(self) -> bool:
        """Whether any label or group is counted (the passes then read in order)."""
        options = self.options
        return bool(options.target or options.prediction or options.sensitive)

    def prepare(self, ref_table: pa.Table, by_name: dict[str, Column]) -> None:
        """After the first reference pass: regression or classification, and the cuts of
        numeric sensitive attributes with many values."""
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
                self.cuts[name] = _quartile_cuts(ref_table, name)

    def add(self, batch: pa.RecordBatch, which: str) -> None:
        target, prediction = self.options.target, self.options.prediction
        if target is not None and prediction is not None:
            self._add_pairs(batch, which, target, prediction)
        if which != "cur" or prediction is None or self.regression:
            return
        self._add_groups(batch, target, prediction)

    def _add_pairs(self, batch: pa.RecordBatch, which: str, target: str,
                   prediction: str) -> None:
        import numpy as np
        import pyarrow.compute as pc

        if self.regression:
            t, p = floats(batch.column(target)), floats(batch.column(prediction))
            ok = np.isfinite(t) & np.isfinite(p)
            self.squared[which][0] += float(((t[ok] - p[ok]) ** 2).sum())
            self.squared[which][1] += int(ok.sum())
        else:
            keys = pc.binary_join_element_wise(strings(batch.column(target)),
                                               strings(batch.column(prediction)), SEPARATOR)
            count_keys(self.pairs[which], keys)

    def _add_groups(self, batch: pa.RecordBatch, target: str | None, prediction: str) -> None:
        import pyarrow.compute as pc

        parts = [strings(batch.column(prediction))]
        if target is not None:
            parts.append(strings(batch.column(target)))
        for name in self.options.sensitive:
            group = self._group(batch, name)
            count_keys(self.groups[name], pc.binary_join_element_wise(group, *parts, SEPARATOR))

    def _group(self, batch: pa.RecordBatch, name: str) -> Any:
        import numpy as np
        import pyarrow as pa

        if name not in self.cuts:
            return strings(batch.column(name))
        cuts = self.cuts[name]
        values = floats(batch.column(name))
        index = np.searchsorted(cuts, values, side="right")
        bounds = [-math.inf, *cuts.tolist(), math.inf]
        labels = np.array([f"[{_short(bounds[i])}, {_short(bounds[i + 1])})"
                           for i in range(len(bounds) - 1)], dtype=object)
        out = labels[index]
        return pa.array(out, type=pa.string(), mask=~np.isfinite(values))


def _quartile_cuts(ref_table: pa.Table, name: str) -> np.ndarray:
    import numpy as np

    values = floats(ref_table.column(name))
    values = values[np.isfinite(values)]
    cuts = np.quantile(values, np.linspace(0, 1, SENSITIVE_NUMERIC_BINS + 1)[1:-1])
    return np.unique(cuts)


def _short(value: float) -> str:
    return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:.6g}"
