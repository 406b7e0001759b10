"""How a value and a strategy read to a person: one home, so every screen says it the same way.

Terminal text, explanations, diffs, the report and the web pages all call these; each keeps its
own punctuation (a diff writes "rung (service)", the terminal summary "rung / service") through
the arguments, never through a copy of the logic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

NOT_GIVEN = "(not given)"


def show_value(value: Any, none: str = NOT_GIVEN, *, grouped: bool = False) -> str:
    """A value for people: yes/no for booleans, compact numbers, `none` for a missing value,
    lists in brackets with records as key=value. `grouped` is the report's style for numbers
    (thousands separators, four significant digits)."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if grouped and abs(value) >= 1000 else str(value)
    if isinstance(value, float):
        return _grouped_float(value) if grouped else f"{value:g}"
    if isinstance(value, list):
        if not value:
            return "(none)"
        return "[" + ", ".join(
            " ".join(f"{k}={show_value(x, none)}" for k, x in v.items())
            if isinstance(v, Mapping) else show_value(v, none) for v in value) + "]"
    return str(value)


def _grouped_float(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return show_value(int(value), grouped=True)
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def strategy_text(strategy: Any, service: str = " ({})", none: str = "(none)") -> str:
    """A strategy (the model, its JSON object, or None) as its rung and, when there is one,
    its service placed by the `service` format: " ({})", " / {}", " on {}", "/{}"."""
    if not strategy:
        return none
    if isinstance(strategy, Mapping):
        rung, name = strategy.get("rung"), strategy.get("service")
    else:
        rung, name = getattr(strategy, "rung", None), getattr(strategy, "service", None)
    return f"{rung}" + (service.format(name) if name else "")


def usd(amount: float) -> str:
    """Dollars as a reader compares them: whole above 100, cents below, 0 for nothing."""
    if amount == 0:
        return "0"
    return f"{amount:,.0f}" if amount >= 100 else f"{amount:,.2f}"


def usd_range(low: float, high: float, between: str = "–") -> str:
    """'168–1,028' (the report's dash, or `between`), one figure when both ends read alike."""
    return usd(low) if usd(low) == usd(high) else f"{usd(low)}{between}{usd(high)}"


def monthly_text(cost: Any, between: str = "–") -> str:
    """An option's running cost: its range a month, or, where the model runs on the
    organisation's own hardware or devices, that no provider bills it (not "0 USD")."""
    if not getattr(cost, "running_billed", True):
        return "no provider running cost (own devices or servers, not estimated)"
    return f"{usd_range(cost.low_usd_per_month, cost.high_usd_per_month, between)} USD a month"


def monthly_short(cost: Any, between: str = "–") -> str:
    """The same for a table cell: the range, or "own hardware"."""
    if not getattr(cost, "running_billed", True):
        return "own hardware"
    return usd_range(cost.low_usd_per_month, cost.high_usd_per_month, between)


def payback_text(low: float, high: float, between: str = "–") -> str:
    """'pays back within a month' or 'pays back in 3–8.5 months'."""
    if high < 1:
        return "pays back within a month"
    return f"pays back in {low:g} months" if low == high else \
        f"pays back in {max(low, 1):g}{between}{high:g} months"
