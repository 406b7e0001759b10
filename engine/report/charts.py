"""Matplotlib charts as deterministic inline SVG.

Figures are built with the object API (no pyplot global state) under an rc_context that pins
the SVG hash salt and drops the date, so the same decision gives the same bytes. Text is
drawn as paths, mathtext is off (a `$` in a candidate name is just a dollar sign), and
comments are stripped before the SVG is inlined.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from typing import Any

from engine.model.decision import Decision, DecisionInput
from engine.report.context import GOAL_SYMBOLS, records_of, section_of, text
from engine.report.labels import metric_label
from engine.report.limits import MAX_CHART_METRICS, SEE

MET = "#2e7d32"
MISS = "#c62828"
NEUTRAL = "#546e7a"
INK = "#1f2933"
GRID = "#d9dee3"
MAX_METRICS_PER_ROW = 3
MAX_BARS = 24
RC: dict[Any, Any] = {
    "svg.hashsalt": "mladvisor-report",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "path.simplify": True,
}


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(figure: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(r"\n\s*\n", "\n", svg)


def _figure(width: float, height: float) -> Any:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), dpi=72)


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


def criteria_charts(decision: Decision) -> list[dict[str, str]]:
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
        group = names[start:start + MAX_METRICS_PER_ROW]
        figure = _figure(7.0, 0.9 + 0.26 * len(candidates))
        axes = figure.subplots(1, len(group), sharey=True, squeeze=False)[0]
        positions = list(range(len(candidates)))
        for index, (ax, metric) in enumerate(zip(axes, group, strict=True)):
            entry = metrics[metric]
            values = [entry["values"].get(c, (None, None)) for c in candidates]
            ax.barh(positions, [v if v is not None else 0 for v, _ in values],
                    color=[_bar_colour(m) if v is not None else "none" for v, m in values],
                    height=0.62, zorder=2)
            for pos, (value, _met) in zip(positions, values, strict=True):
                if value is None:
                    ax.text(0, pos, " no data", va="center", fontsize=7, color=NEUTRAL)
            ax.axvline(entry["threshold"], color=INK, linestyle="--", linewidth=1.1, zorder=3)
            goal = GOAL_SYMBOLS.get(entry["goal"], entry["goal"])
            ax.set_title(f"{_short(metric_label(metric), 30)}\n{goal} {text(entry['threshold'])}",
                         loc="left", fontsize=8)
            ax.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(axis="y", length=0)
            if index == 0:
                ax.set_yticks(positions, [_short(c) for c in candidates])
        axes[0].invert_yaxis()
        figure.subplots_adjust(wspace=0.18)
        charts.append({
            "title": "Candidates against success criteria"
                     + (f" ({start // MAX_METRICS_PER_ROW + 1})" if len(names) > 3 else ""),
            "caption": "Bars are green where the candidate meets the criterion and red where "
                       "it misses; the dashed line is the threshold." + note,
            "svg": _svg(figure),
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


def cost_chart(decision: Decision) -> dict[str, str] | None:
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
    figure = _figure(7.0, 1.0 + 0.26 * len(labels) if labels else 1.5)
    ax = figure.subplots()
    if labels:
        limit = min(x for x in (budget, value) if x is not None)
        ax.barh(range(len(labels)), [costs[c] for c in labels], height=0.62, zorder=2,
                color=[MET if costs[c] <= limit else MISS for c in labels])
        ax.set_yticks(range(len(labels)), [_short(c) for c in labels])
        ax.invert_yaxis()
        ax.set_xlabel(metric_label(metric))
    else:  # no measured costs yet: still show what the project may spend against its value
        given = [(label, amount, colour) for label, amount, colour in
                 (("budget", budget, NEUTRAL), ("expected value", value, "#1565c0"))
                 if amount is not None]
        ax.barh(range(len(given)), [g[1] for g in given], height=0.5, zorder=2,
                color=[g[2] for g in given])
        ax.set_yticks(range(len(given)), [g[0] for g in given])
        ax.invert_yaxis()
        ax.set_xlabel("USD per month (no candidate has a measured cost yet)")
    if budget is not None and labels:
        ax.axvline(budget, color=INK, linestyle="--", linewidth=1.2, zorder=3,
                   label=f"budget {text(budget)} USD")
    if value is not None and labels:
        ax.axvline(value, color="#1565c0", linestyle="-", linewidth=1.6, zorder=3,
                   label=f"expected value {text(value)} USD")
    ax.set_xlim(left=0)
    ax.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if labels:  # above the plot, so no line runs through it
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, fontsize=7)
    return {"title": "Cost against expected value and budget",
            "caption": "Monthly cost per candidate; green stays within both the budget and "
                       "the expected value, red exceeds one of them."
                       + _shown_note(len(labels), len(costs), "candidates") if labels else
                       "Monthly budget and expected value as answered; benchmark candidates "
                       "with a cost column to compare their cost.",
            "svg": _svg(figure)}


def estimate_chart(decision: Decision) -> dict[str, str] | None:
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
    figure = _figure(7.0, 1.1 + 0.3 * len(rows))
    ax = figure.subplots()
    limit = min((x for x in (budget, value) if x is not None), default=None)
    floor = 0.01  # a log axis has no zero: free options are drawn from one cent
    for i, (_label, low, high, status) in enumerate(rows):
        colour = NEUTRAL if status == "rejected" or limit is None else (
            MET if high <= limit else MISS if low > limit else "#ef6c00")
        ax.plot([max(low, floor), max(high, floor)], [i, i], color=colour, linewidth=7,
                solid_capstyle="butt", zorder=2)
        ax.plot([max(low, floor)], [i], marker="|", color=INK, markersize=9, zorder=3)
        ax.plot([max(high, floor)], [i], marker="|", color=INK, markersize=9, zorder=3)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    # plain dollar figures: mathtext is off, so the default 10^n labels would print raw markup
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}" if x >= 1 else f"{x:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    lines = []
    if budget is not None:
        lines.append(ax.axvline(max(budget, floor), color=INK, linestyle="--", linewidth=1.2,
                                zorder=4, label=f"budget {text(budget)} USD"))
    if value is not None:
        lines.append(ax.axvline(max(value, floor), color="#1565c0", linewidth=1.6, zorder=4,
                                label=f"expected value {text(value)} USD"))
    ax.set_xlabel("estimated cost, US dollars a month (log scale)")
    ax.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if lines:  # above the plot, so no line runs through it
        ax.legend(handles=lines, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2,
                  frameon=False, fontsize=7)
    return {"title": "Estimated monthly cost of each option",
            "caption": "Each bar runs from the option's cheapest to its dearest choice at the "
                       "project's volume (the ladder shows the arithmetic); green fits the "
                       "budget and the value at any choice, orange only at some, red at none, "
                       "grey options were ruled out for other reasons."
                       + _shown_note(len(rows), len([o for o in decision.options
                                                      if o.cost is not None]), "options"),
            "svg": _svg(figure)}


def drift_chart(decision: Decision) -> dict[str, str] | None:
    """Drift statistic per feature, drifted features in red."""
    features = records_of(_input(decision).drift or {}, "features")
    measured = [f for f in features if _numeric(f.get("statistic")) is not None]
    features = measured[:MAX_BARS]
    if not features:
        return None
    figure = _figure(7.0, 0.9 + 0.26 * len(features))
    ax = figure.subplots()
    positions = range(len(features))
    ax.barh(list(positions), [_numeric(f.get("statistic")) for f in features], height=0.62,
            color=[MISS if f.get("drifted") is True else MET for f in features], zorder=2)
    ax.set_yticks(list(positions),
                  [_short(f"{text(f.get('name'))} ({text(f.get('method'))})", 40)
                   for f in features])
    ax.invert_yaxis()
    ax.set_xlabel("drift statistic (scale depends on the method)")
    ax.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return {"title": "Drift per feature",
            "caption": "Statistic of each feature's drift test; red features drifted."
                       + _shown_note(len(features), len(measured), "features"),
            "svg": _svg(figure)}


def scope_ids(svg: str, prefix: str) -> str:
    """Prefix every id and reference, so several charts inline in one page never collide."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'(xlink:href|href)="#([^"]+)"',
                  lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', svg)


def build_charts(decision: Decision) -> list[dict[str, str]]:
    """Each chart as inline SVG (for the HTML file) and as a data: URI (for the PDF, where an
    image keeps the SVG's presentation attributes out of the HTML cascade)."""
    charts = criteria_charts(decision)
    for chart in (estimate_chart(decision), cost_chart(decision), drift_chart(decision)):
        if chart is not None:
            charts.append(chart)
    for index, chart in enumerate(charts, 1):
        chart["data_uri"] = "data:image/svg+xml;base64," + base64.b64encode(
            chart["svg"].encode("utf-8")).decode("ascii")
        chart["svg"] = scope_ids(chart["svg"], f"chart{index}-")
    return charts
