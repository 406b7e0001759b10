"""Turn one input (answers and evidence) into the facts the rules see.

Only bookkeeping happens here: flattening answers, counting, and comparing measured values with
the project's own success criteria. Every judgement about those facts is a rule.
"""

from __future__ import annotations

from typing import Any

from engine.model.answers import Answers
from engine.util import dotted

FactSet = dict[str, list[dict[str, Any]]]


def check(value: float | None, threshold: float, goal: str) -> tuple[bool, float | None]:
    """Whether a measured value meets a criterion, and by how much (negative = short of it)."""
    if value is None:
        return False, None
    gap = value - threshold if goal == "at-least" else threshold - value
    return gap >= 0, gap


def build_facts(answers: Answers, benchmarks: list[dict[str, Any]] | None,
                drift: dict[str, Any] | None) -> tuple[dict[str, Any], FactSet]:
    """The case fact (answers by dotted path) and the per-item facts of the evidence."""
    data = answers.model_dump(mode="json", by_alias=True)
    data.pop("schema", None)
    # a list is seen by its length (PATH.count); an unknown answer (None) is absent
    case = dotted.flatten(data, lists="count", skip_none=True)
    criteria = [c.model_dump(mode="json") for c in answers.business.success_criteria]
    facts: FactSet = {"criterion": criteria, "bench": [], "check": [], "feature": [], "bias": []}

    case["evidence.benchmarks"] = len(benchmarks or [])
    case["evidence.drift"] = drift is not None
    measured = {m for row in benchmarks or [] for m in row} & {c["metric"] for c in criteria}
    case["evidence.criteria_with_benchmarks"] = len(measured)
    for row in benchmarks or []:
        checks, missed, unmeasured = _row_checks(row, criteria)
        facts["check"].extend(checks)
        bench = dict(row)
        bench.update(meets_all=bool(criteria) and missed == 0 and unmeasured == 0,
                     missed=missed, unmeasured=unmeasured)
        facts["bench"].append(bench)
    if drift is not None:
        _drift_facts(drift, criteria, case, facts)
    _latency_fact(case, criteria)
    return {k: v for k, v in case.items() if v is not None}, facts


# The answer problem.latency_p95_ms and a success criterion of the same metric state one thing.
LATENCY = "latency_p95_ms"


def _latency_fact(case: dict[str, Any], criteria: list[dict[str, Any]]) -> None:
    """The tightest p95 latency bound the project states, whichever way it was stated, so that
    rules read latency from one place (latency.p95_ms) and never judge it twice."""
    bounds = [c["threshold"] for c in criteria if c["metric"] == LATENCY and c["goal"] == "at-most"]
    if case.get(f"problem.{LATENCY}") is not None:
        bounds.append(case[f"problem.{LATENCY}"])
    if bounds:
        case["latency.p95_ms"] = min(bounds)


def _row_checks(row: dict[str, Any], criteria: list[dict[str, Any]]
                ) -> tuple[list[dict[str, Any]], int, int]:
    """One benchmark row against each success criterion: the check facts, and how many
    criteria it missed and left unmeasured."""
    checks = []
    missed = unmeasured = 0
    for crit in criteria:
        met, gap = check(row.get(crit["metric"]), crit["threshold"], crit["goal"])
        if gap is None:
            unmeasured += 1
            continue
        missed += not met
        checks.append({
            "candidate": row["candidate"], "rung": row["rung"], "service": row.get("service"),
            "offer": row.get("offer"),
            "metric": crit["metric"], "goal": crit["goal"], "threshold": crit["threshold"],
            "value": row[crit["metric"]], "met": met, "gap": round(gap, 6),
            "relative_gap": round(gap / abs(crit["threshold"]), 6)
            if crit["threshold"] else None,
        })
    return checks, missed, unmeasured


def _drift_facts(drift: dict[str, Any], criteria: list[dict[str, Any]], case: dict[str, Any],
                 facts: FactSet) -> None:
    """The drift summary's case facts (added to `case` in this order) and per-item facts."""
    features = drift.get("features", [])
    case["drift.dataset_drift"] = drift.get("dataset_drift")
    case["drift.share_drifted"] = drift.get("share_drifted")
    case["drift.drifted_features"] = sum(1 for f in features if f.get("drifted"))
    for feature in features:
        item = dict(feature)
        ref, cur = item.get("missing_share_reference"), item.get("missing_share_current")
        if ref is not None and cur is not None:
            item["missing_share_change"] = round(cur - ref, 6)
        facts["feature"].append(item)
    bias = drift.get("bias") or []
    facts["bias"] = [dict(b) for b in bias]
    case["drift.bias.violations"] = sum(1 for b in bias if b.get("violated"))
    multivariate = drift.get("multivariate")
    if multivariate:
        case["drift.multivariate.drifted"] = multivariate.get("drifted")
        case["drift.multivariate.auc"] = multivariate.get("auc")
    perf = drift.get("performance")
    if perf:
        _performance_facts(perf, criteria, case)


def _performance_facts(perf: dict[str, Any], criteria: list[dict[str, Any]],
                       case: dict[str, Any]) -> None:
    """The model's measured performance on each side, against its success criterion if any."""
    case["drift.performance.metric"] = perf["metric"]
    matching = [c for c in criteria if c["metric"] == perf["metric"]]
    target = matching[0] if matching else None
    if target is not None:
        case["drift.performance.criterion"] = target["threshold"]
    for side in ("reference", "current"):
        value = perf.get(side)  # null when that side had no labelled rows
        if value is None:
            continue
        case[f"drift.performance.{side}"] = value
        if target is not None:
            met, _ = check(value, target["threshold"], target["goal"])
            case[f"drift.performance.{side}_meets"] = met
