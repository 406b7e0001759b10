"""The report's charts as deterministic inline SVG (engine.report.plot draws them).

Each chart is a dict of title, caption and SVG text; the data come from the decision's
evidence checks, benchmark rows, cost estimates and drift summary, each capped to MAX_BARS rows
with a caption note when more exist.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

from engine.model.decision import Decision, DecisionInput
from engine.report.context import GOAL_SYMBOLS, records_of, section_of, text
from engine.report.labels import metric_label
from engine.report.limits import MAX_CHART_METRICS, SEE
from engine.report.plot import INK, NEUTRAL, Line, Panel, chart

MET = "#2e7d32"
MISS = "#c62828"
VALUE = "#1565c0"
MAX_METRICS_PER_ROW = 3
MAX_BARS = 24


def _numeric(value: Any) -> float | None:
    """A finite number, else None (drawn as "no data")."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        return None
    return float(value)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _input(decision: Decision) -> DecisionInput:
    return decision.input or DecisionInput()


def _criteria_data(decision: Decision) -> dict[str, dict[str, Any]]:
    """metric -> {threshold, goal, values: {candidate: (value, met)}} from evidence checks,
    falling back to raw benchmark rows matched to the answers' success criteria."""
    return _checked_criteria(decision) or _benchmarked_criteria(decision)


def _checked_criteria(decision: Decision) -> dict[str, dict[str, Any]]:
    """The evidence checks' numbers, first value per candidate and metric."""
    metrics: dict[str, dict[str, Any]] = {}
    for option in decision.options:
        for evidence in option.evidence:
            candidate = text(evidence.candidate)
            for check in evidence.checks:
                value, threshold = _numeric(check.value), _numeric(check.threshold)
                if value is None or threshold is None or not check.metric:
                    continue
                entry = metrics.setdefault(check.metric, {
                    "threshold": threshold, "goal": text(check.goal), "values": {}})
                entry["values"].setdefault(candidate, (value, check.met))
    return metrics


def _benchmarked_criteria(decision: Decision) -> dict[str, dict[str, Any]]:
    """Without checks: the benchmark rows compared with the answers' success criteria."""
    metrics: dict[str, dict[str, Any]] = {}
    input_doc = _input(decision)
    rows = input_doc.benchmarks or []
    business = section_of(input_doc.answers, "business")
    for criterion in records_of(business, "success_criteria"):
        metric, threshold = criterion.get("metric"), _numeric(criterion.get("threshold"))
        if not metric or threshold is None:
            continue
        values = _row_values(rows, metric, threshold, criterion.get("goal"))
        if values:
            metrics[text(metric)] = {"threshold": threshold, "goal": text(criterion.get("goal")),
                                     "values": values}
    return metrics


def _row_values(rows: list[Any], metric: Any, threshold: float, goal: Any
                ) -> dict[str, tuple[float, bool | None]]:
    """candidate -> (its value of `metric`, whether it meets the threshold; None: no goal)."""
    values = {}
    for row in rows:
        value = _numeric(row.get(metric))
        if value is not None:
            met = (value >= threshold if goal == "at-least"
                   else value <= threshold if goal == "at-most" else None)
            values[text(row.get("candidate"))] = (value, met)
    return values


def _shown_note(shown: int, total: int, what: str) -> str:
    """A caption's note when a chart shows only the first bars (empty when it shows all)."""
    return f" Only the first {shown} of {total:,} {what} are drawn: {SEE}." if total > shown \
        else ""


def _bar_colour(met: bool | None) -> str:
    return NEUTRAL if met is None else MET if met else MISS


def criteria_charts(decision: Decision) -> list[dict[str, Any]]:
    """Candidates' metric against each success threshold, three metrics side by side."""
    metrics = _criteria_data(decision)
    if not metrics:
        return []
    seen: dict[str, None] = {}
    for entry in metrics.values():
        seen.update(dict.fromkeys(entry["values"]))
    candidates = list(seen)[:MAX_BARS]
    names = list(metrics)[:MAX_CHART_METRICS]
    note = (_shown_note(len(candidates), len(seen), "candidates")
            + _shown_note(len(names), len(metrics), "metrics"))
    charts = []
    for start in range(0, len(names), MAX_METRICS_PER_ROW):
        panels = []
        for metric in names[start:start + MAX_METRICS_PER_ROW]:
            entry = metrics[metric]
            values = [entry["values"].get(c, (None, None)) for c in candidates]
            goal = GOAL_SYMBOLS.get(entry["goal"], entry["goal"])
            panels.append(Panel(
                bars=[(v, _bar_colour(m)) for v, m in values],
                lines=[Line(entry["threshold"], INK, 1.1, dashed=True)],
                title=[_short(metric_label(metric), 30), f"{goal} {text(entry['threshold'])}"]))
        charts.append({
            "title": "Candidates against success criteria"
                     + (f" ({start // MAX_METRICS_PER_ROW + 1})" if len(names) > 3 else ""),
            "caption": "Bars are green where the candidate meets the criterion and red where "
                       "it misses; the dashed line is the threshold." + note,
            "drawing": chart([_short(c) for c in candidates], panels),
        })
    return charts


def _cost_metric(metrics: Mapping[str, Any], rows: list[dict[str, Any]]) -> tuple[str, dict]:
    for metric, entry in metrics.items():
        if metric.startswith("cost"):
            return metric, {c: v for c, (v, _m) in entry["values"].items()}
    for row in rows:
        for key in row:
            if key.startswith("cost") and _numeric(row.get(key)) is not None:
                return key, {text(r.get("candidate")): _numeric(r.get(key)) for r in rows
                             if _numeric(r.get(key)) is not None}
    return "", {}


def cost_chart(decision: Decision) -> dict[str, Any] | None:
    """Monthly cost of each candidate against the expected value and budget, when given."""
    input_doc = _input(decision)
    business = section_of(input_doc.answers, "business")
    value = _numeric(business.get("expected_value_usd_per_month"))
    budget = _numeric(business.get("budget_usd_per_month"))
    if value is None and budget is None:
        return None
    rows = input_doc.benchmarks or []
    metric, costs = _cost_metric(_criteria_data(decision), rows)
    labels = list(costs)[:MAX_BARS]
    if not labels and any(o.cost is not None for o in decision.options):
        return None  # the estimate chart already draws the budget and the value
    lines = []
    if labels:
        limit = min(x for x in (budget, value) if x is not None)
        names = [_short(c) for c in labels]
        panel = Panel(bars=[(costs[c], MET if costs[c] <= limit else MISS) for c in labels],
                      xlabel=metric_label(metric))
        if budget is not None:
            lines.append(Line(budget, INK, 1.2, dashed=True, label=f"budget {text(budget)} USD"))
        if value is not None:
            lines.append(Line(value, VALUE, 1.6, label=f"expected value {text(value)} USD"))
        panel.lines = lines
    else:  # no measured costs yet: still show what the project may spend against its value
        given = [(label, amount, colour) for label, amount, colour in
                 (("budget", budget, NEUTRAL), ("expected value", value, VALUE))
                 if amount is not None]
        names = [g[0] for g in given]
        panel = Panel(bars=[(g[1], g[2]) for g in given],
                      xlabel="USD per month (no candidate has a measured cost yet)")
    return {"title": "Cost against expected value and budget",
            "caption": "Monthly cost per candidate; green stays within both the budget and "
                       "the expected value, red exceeds one of them."
                       + _shown_note(len(labels), len(costs), "candidates") if labels else
                       "Monthly budget and expected value as answered; benchmark candidates "
                       "with a cost column to compare their cost.",
            "drawing": chart(names, [panel], legend=lines)}  # legend above: no line crosses it


def estimate_chart(decision: Decision) -> dict[str, Any] | None:
    """Each priced option's monthly cost range (low to high) against the budget and the value:
    whether an option fits depends on which end of its range the project lands."""
    from engine.report.labels import labels

    names = labels().get("services", {})
    priced = [o for o in decision.options if o.cost is not None
              and o.status not in ("not-evaluated",)][:MAX_BARS]
    if not priced:
        return None
    business = section_of(_input(decision).answers, "business")
    value = _numeric(business.get("expected_value_usd_per_month"))
    budget = _numeric(business.get("budget_usd_per_month"))
    rows = [(_short(f"{(names.get(o.service or '', {}).get('name') or o.service or o.rung)}"
                    f" ({o.method or o.offer})", 44),
             float(o.cost.low_usd_per_month), float(o.cost.high_usd_per_month),
             o.status) for o in priced if o.cost is not None]
    limit = min((x for x in (budget, value) if x is not None), default=None)
    floor = 0.01  # a log axis has no zero: free options are drawn from one cent
    ranges = []
    for _label, low, high, status in rows:
        colour = NEUTRAL if status == "rejected" or limit is None else (
            MET if high <= limit else MISS if low > limit else "#ef6c00")
        ranges.append((max(low, floor), max(high, floor), colour))
    lines = []
    if budget is not None:
        lines.append(Line(max(budget, floor), INK, 1.2, dashed=True,
                          label=f"budget {text(budget)} USD"))
    if value is not None:
        lines.append(Line(max(value, floor), VALUE, 1.6,
                          label=f"expected value {text(value)} USD"))
    panel = Panel(ranges=ranges, lines=lines, log=True,
                  xlabel="estimated cost, US dollars a month (log scale)")
    return {"title": "Estimated monthly cost of each option",
            "caption": "Each bar runs from the option's cheapest to its dearest choice at the "
                       "project's volume (the ladder shows the arithmetic); green fits the "
                       "budget and the value at any choice, orange only at some, red at none, "
                       "grey options were ruled out for other reasons."
                       + _shown_note(len(rows), len([o for o in decision.options
                                                      if o.cost is not None]), "options"),
            "drawing": chart([r[0] for r in rows], [panel], legend=lines)}


def drift_chart(decision: Decision) -> dict[str, Any] | None:
    """Drift statistic per feature, drifted features in red."""
    features = records_of(_input(decision).drift or {}, "features")
    measured = [f for f in features if _numeric(f.get("statistic")) is not None]
    features = measured[:MAX_BARS]
    if not features:
        return None
    panel = Panel(bars=[(_numeric(f.get("statistic")),
                         MISS if f.get("drifted") is True else MET) for f in features],
                  xlabel="drift statistic (scale depends on the method)")
    labels = [_short(f"{text(f.get('name'))} ({text(f.get('method'))})", 40) for f in features]
    return {"title": "Drift per feature",
            "caption": "Statistic of each feature's drift test; red features drifted."
                       + _shown_note(len(features), len(measured), "features"),
            "drawing": chart(labels, [panel])}


def build_charts(decision: Decision) -> list[dict[str, Any]]:
    """Each chart as inline SVG (for the HTML file), and for the PDF as its shapes in a data:
    URI (an image keeps the SVG out of the HTML cascade) with its labels as HTML over it."""
    charts = criteria_charts(decision)
    for one in (estimate_chart(decision), cost_chart(decision), drift_chart(decision)):
        if one is not None:
            charts.append(one)
    for drawn in charts:
        drawing = drawn.pop("drawing")
        drawn["svg"] = drawing.svg()
        drawn["data_uri"] = "data:image/svg+xml;base64," + base64.b64encode(
            drawing.shapes_svg().encode("utf-8")).decode("ascii")
        drawn["labels"] = [{"text": label.text, "style": label.style()}
                           for label in drawing.labels]
        drawn["height"] = f"{drawing.height:.2f}"
    return charts
