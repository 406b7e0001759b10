"""The explanation as text: a stakeholder reads why the decision came out as it did, and what
they would have to answer differently to get another one."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from engine.model.decision import Decision, load_decision
from engine.report.labels import labels
from engine.util import dotted
from engine.util.display import show_value as show
from engine.util.display import strategy_text, usd


def outcome_text(verdict: Any, strategy: Any) -> str:
    """'proceed, hosted-custom on Amazon Comprehend' or 'not-ready (no strategy)': services by
    name, as prose names them (an id the catalog does not know stays as it is)."""
    if not strategy:
        return f"{verdict} (no strategy)"
    get = strategy.get if isinstance(strategy, Mapping) else partial(getattr, strategy)
    service = get("service", None)
    name = labels().get("services", {}).get(service or "", {}).get("name") or service
    return f"{verdict}, " + strategy_text({"rung": get("rung", None), "service": name},
                                          service=" on {}")


def render_text(decision: Decision | Mapping[str, Any], explanation: Mapping[str, Any]) -> str:
    """Why, what would change it, what it depends on, and why the other rules stayed silent."""
    decision = load_decision("decision", decision)
    answers = decision.input.answers if decision.input else {}
    name = (decision.project.name if decision.project else None) or "This project"
    lines = [f"{name}: {outcome_text(decision.verdict, decision.strategy)}", ""]

    lines.append("What would change this recommendation")
    counterfactuals = explanation["counterfactuals"]
    if not counterfactuals:
        lines.append("  No single answer a team can change, and no pair of them tried, improves "
                     "the verdict")
        lines.append("  or moves the strategy (explain --all varies every answer).")
        blockers = [f for f in decision.findings if f.severity == "blocker"]
        if len(blockers) > 2:
            lines.append(f"  {len(blockers)} blockers stand in the way, each to be fixed:")
            lines.extend(f"    - {f.title} ({f.rule})" for f in blockers)
    for index, cf in enumerate(counterfactuals, start=1):
        parts = [f"{path} were {show(value)} (now {show(dotted.get(answers, path, None))})"
                 for path, value in cf["changes"].items()]
        lines.append(f"  {index}. If {' and '.join(parts)}:")
        cost = cf.get("cost")
        tail = "" if not cost else " (no provider running price)" if not cost[
            "high_usd_per_month"] else (
            f" (about {usd(cost['low_usd_per_month'])} to {usd(cost['high_usd_per_month'])}"
            " USD a month)")
        lines.append(f"     -> {outcome_text(cf['verdict'], cf['strategy'])}{tail}")
        for path, how in (cf.get("levers") or {}).items():
            lines.append(f"        {path}: {how}")
    lines.append("")

    decisive = [s["path"] for s in explanation["sensitivity"] if s["decisive"]]
    free = [s["path"] for s in explanation["sensitivity"] if not s["decisive"]]
    lines.append("What the decision depends on")
    lines.append("  Decisive (one change moves the verdict or strategy): "
                 + (", ".join(decisive) or "none"))
    lines.append("  Not decisive on their own: " + (", ".join(free) or "none"))
    lines.append("")

    lines.append("Why: rules that fired")
    for entry in explanation["why"]:
        label = f" - {entry['finding']}" if entry.get("finding") else ""
        facts = ", ".join(f"{k} = {show(v)}" for k, v in entry["facts"].items())
        lines.append(f"  {entry['rule']}{label}{_source(entry)}")
        if facts:
            lines.append(f"      on {facts}")
    lines.append("")

    lines.append("Why not: rules that did not fire, and a condition that is false")
    for entry in explanation["why_not"]:
        reasons = "; ".join(f"{f['path']} is {show(f['actual'])}, needs {f['expected']}"
                            for f in entry["failed"])
        lines.append(f"  {entry['rule']}{_source(entry)}: {reasons}")
    return "\n".join(lines) + "\n"


def _source(entry: Mapping[str, Any]) -> str:
    """Where the rule is written (rules/x.yaml:LINE), for the rule author reading along."""
    return f" [{entry['source']}]" if entry.get("source") else ""
