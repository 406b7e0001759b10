"""One line per target of issue 15, the same shape from every benchmark, so that `make bench`
(bench/run.py) can end with the table a reader checks: figure, target, met or not."""

from __future__ import annotations

import operator

PREFIX = "TARGET "
_OPS = {">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt}


def target(name: str, value: float, op: str, limit: float, unit: str = "",
           note: str = "") -> bool:
    """Print `TARGET name: value unit (target op limit unit) met|NOT MET`; True when met."""
    met = bool(_OPS[op](value, limit))
    shown = f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    bound = f"{limit:,.2f}".rstrip("0").rstrip(".") if limit < 10 else f"{limit:,.0f}"
    line = (f"{PREFIX}{name}: {shown}{unit} (target {op} {bound}{unit}) "
            f"{'met' if met else 'NOT MET'}" + (f"; {note}" if note else ""))
    print(line, flush=True)
    return met
