"""Fairness of the current predictions across the groups of each sensitive attribute.

Conventions: the four-fifths rule for disparate impact; 0.1 for the demographic parity and
equal opportunity differences. Groups smaller than MIN_GROUP_ROWS are ignored when two or more
groups are larger.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError
from engine.evidence.drift.labels import SEPARATOR, Labels
from engine.evidence.drift.values import sig

DISPARATE_IMPACT_THRESHOLD = 0.8
PARITY_DIFFERENCE_THRESHOLD = 0.1
MIN_GROUP_ROWS = 30


@dataclass
class _Tally:
    """Per group: rows, rows predicted positive, actual positives, true positives."""

    rows: Counter[str] = field(default_factory=Counter)
    selected: Counter[str] = field(default_factory=Counter)
    positives: Counter[str] = field(default_factory=Counter)
    true_positives: Counter[str] = field(default_factory=Counter)


def bias(labels: Labels) -> list[dict[str, Any]] | None:
    """The `bias` checks, or None without --sensitive and a classifier's --prediction."""
    options = labels.options
    if not options.sensitive or options.prediction is None or labels.regression:
        return None
    positive = positive_label(labels)
    checks: list[dict[str, Any]] = []
    for name in options.sensitive:
        tally = _tally(labels.groups[name], positive)
        groups = _large_enough(tally.rows)
        rates = {g: tally.selected[g] / tally.rows[g] for g in groups}
        checks.extend(_rate_checks(name, rates, positive))
        if options.target is not None:
            checks.append(_opportunity_check(name, tally, groups, positive))
    return checks


def positive_label(labels: Labels) -> str | None:
    """--positive-label when it is one of the labels; else "1" or "true" for a 0/1 or boolean
    target, else the larger label when sorted, as scikit-learn orders a binary target."""
    seen = _labels_seen(labels.groups)
    given = labels.options.positive_label
    if given is not None:
        if seen and given not in seen:
            shown = ", ".join(sorted(seen)[:8])
            raise InputError(labels.file, "--positive-label",
                             f"expected one of the labels ({shown})", given)
        return given
    if not seen:
        return None
    lowered = {label.lower() for label in seen}
    for positive in ("1", "true"):
        if positive in lowered and lowered <= {"0", "1", "true", "false"}:
            return next(label for label in seen if label.lower() == positive)
    return sorted(seen)[-1]


def _labels_seen(groups: dict[str, Counter[str]]) -> set[str]:
    """Predicted and actual labels in the group counts' keys."""
    seen: set[str] = set()
    for counter in groups.values():
        for key in counter:
            seen.update(key.split(SEPARATOR)[1:])
    return seen


def _tally(counts: Counter[str], positive: str | None) -> _Tally:
    tally = _Tally()
    for key, count in counts.items():
        group, predicted, *actual = key.split(SEPARATOR)
        tally.rows[group] += count
        tally.selected[group] += count if predicted == positive else 0
        if actual:
            is_positive = actual[0] == positive
            tally.positives[group] += count if is_positive else 0
            tally.true_positives[group] += count if is_positive and predicted == positive else 0
    return tally


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


def _opportunity_check(name: str, tally: _Tally, groups: list[str],
                       positive: str | None) -> dict[str, Any]:
    """Equal opportunity: the spread of true positive rates across groups."""
    tpr = {g: tally.true_positives[g] / tally.positives[g] for g in groups
           if tally.positives[g]}
    value = max(tpr.values()) - min(tpr.values()) if len(tpr) >= 2 else None
    return _check(name, "equal_opportunity_difference", value, PARITY_DIFFERENCE_THRESHOLD,
                  value is not None and value > PARITY_DIFFERENCE_THRESHOLD, positive, tpr)


def _check(name: str, metric: str, value: float | None, threshold: float, violated: bool,
           positive: str | None, groups: dict[str, float]) -> dict[str, Any]:
    return {"attribute": name, "metric": metric, "value": sig(value), "threshold": threshold,
            "violated": bool(violated), "positive_label": positive,
            "groups": {g: sig(v) for g, v in sorted(groups.items())}}
