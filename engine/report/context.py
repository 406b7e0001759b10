"""Turn a decision document into the plain view model the template renders.

Every optional field of the decision may be missing or of an unexpected shape (an older
engine, a hand-edited file): the report then shows less, never a traceback. All text stays
raw here; Jinja2 autoescaping is what makes untrusted answers safe to show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from engine.report.dates import timestamp_of

# Display order and labels of the contract's vocabularies; unknown ids are still shown.
PHASES = ("business-goal", "data", "solution-evaluation", "model-selection", "training",
          "deployment", "monitoring")
SEVERITIES = ("blocker", "warning", "recommendation", "info")
VERDICT_LABELS = {
    "proceed": "Proceed",
    "proceed-with-conditions": "Proceed with conditions",
    "not-ready": "Not ready",
    "ml-not-recommended": "ML not recommended",
}
STATUS_ORDER = ("selected", "eligible", "rejected", "not-evaluated")
GOAL_SYMBOLS = {"at-least": "≥", "at-most": "≤", "equal": "=", "eq": "="}
ANSWER_SECTIONS = ("project", "business", "problem", "data", "team", "monitoring")
SUMMARY_BLOCKERS = 5




def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """A value as a short human string (numbers compact, booleans yes/no, None a dash)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return text(int(value))
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value) if value else "none"
    return str(value)


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "),
                      default=str)


def humanize(identifier: Any) -> str:
    label = text(identifier).replace("-", " ").replace("_", " ").strip()
    return label[:1].upper() + label[1:] if label else "—"


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested answers as (dotted path, leaf value) pairs; lists of records stay one leaf."""
    if isinstance(value, Mapping) and value:
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return pairs
    return [(prefix, value)]


def _answer_value(value: Any) -> dict[str, Any]:
    """A leaf answer ready for display: records of a list become separate lines."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return {"lines": [_record_line(v) for v in value], "text": None}
    return {"lines": None, "text": text(value)}


def _record_line(record: Mapping[str, Any]) -> str:
    if {"metric", "threshold"} <= set(record):
        goal = GOAL_SYMBOLS.get(str(record.get("goal")), text(record.get("goal")))
        return f"{text(record['metric'])} {goal} {text(record['threshold'])}"
    return "; ".join(f"{k}: {text(v)}" for k, v in record.items())


def criterion_label(check: Mapping[str, Any]) -> str:
    goal = GOAL_SYMBOLS.get(str(check.get("goal")), text(check.get("goal")))
    return f"{goal} {text(check.get('threshold'))}"


def _checks(option: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for evidence in as_list(option.get("evidence")):
        evidence = as_dict(evidence)
        for check in as_list(evidence.get("checks")):
            check = as_dict(check)
            met = check.get("met")
            rows.append({
                "candidate": text(evidence.get("candidate")),
                "metric": text(check.get("metric")),
                "criterion": criterion_label(check),
                "value": text(check.get("value")),
                "gap": _signed(check.get("gap")),
                "met": met if isinstance(met, bool) else None,
            })
    return rows


def _signed(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ("+" if value > 0 else "") + text(value)
    return text(value) if value is not None else ""


def _rung_title(rung: Any, names: Mapping[str, Any]) -> str:
    return str(as_dict(as_dict(names.get("rungs")).get(str(rung))).get("title") or "")


def _service_name(service: Any, names: Mapping[str, Any]) -> str:
    if not service:
        return ""
    found = as_dict(as_dict(names.get("services")).get(str(service))).get("name")
    return str(found or service)


def _option(option: Mapping[str, Any], names: Mapping[str, Any]) -> dict[str, Any]:
    checks = _checks(option)
    met = sum(1 for c in checks if c["met"] is True)
    judged = sum(1 for c in checks if c["met"] is not None)
    status = text(option.get("status")) if option.get("status") is not None else "not-evaluated"
    return {
        "rung": text(option.get("rung")),
        "service": text(option.get("service")) if option.get("service") else None,
        "rung_title": _rung_title(option.get("rung"), names),
        "service_name": _service_name(option.get("service"), names),
        "status": status,
        "status_label": humanize(status),
        "status_class": status if status in STATUS_ORDER else "other",
        "reasons": [text(r) for r in as_list(option.get("reasons"))],
        "method": text(option.get("method")) if option.get("method") else "",
        "checks": checks,
        "met": met,
        "judged": judged,
        "candidates": sorted({c["candidate"] for c in checks}),
    }


def _finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    severity = text(finding.get("severity") or "info")
    facts = as_dict(finding.get("facts"))
    return {
        "rule": text(finding.get("rule")) if finding.get("rule") else "",
        "phase": text(finding.get("phase") or "other"),
        "severity": severity,
        "severity_class": severity if severity in SEVERITIES else "info",
        "title": text(finding.get("title") or finding.get("rule") or "Untitled finding"),
        "rationale": text(finding.get("rationale")) if finding.get("rationale") else "",
        "action": text(finding.get("action")) if finding.get("action") else "",
        "facts": [(str(k), compact_json(v)) for k, v in facts.items()],
        "guidance": text(finding.get("guidance")) if finding.get("guidance") else "",
    }


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _phase_rank(phase: str) -> int:
    return PHASES.index(phase) if phase in PHASES else len(PHASES)


def _group_findings(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(finding["phase"], []).append(finding)
    ordered = sorted(groups, key=lambda p: (_phase_rank(p), p))
    result = []
    for phase in ordered:
        items = sorted(groups[phase], key=lambda f: _severity_rank(f["severity"]))  # stable
        counts = {s: sum(1 for f in items if f["severity"] == s) for s in SEVERITIES}
        result.append({"phase": phase, "label": humanize(phase), "findings": items,
                       "counts": counts, "id": f"phase-{_slug(phase)}"})
    return result


def _slug(value: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in value.lower()).strip("-") or "x"


def _answers(input_doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    answers = as_dict(input_doc.get("answers"))
    defaulted = {str(d) for d in as_list(input_doc.get("defaulted"))}
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, value in flatten({k: v for k, v in answers.items() if k != "schema"}):
        section = path.split(".", 1)[0]
        row = {"path": path, "field": path.split(".", 1)[-1], "defaulted": path in defaulted}
        row.update(_answer_value(value))
        sections.setdefault(section, []).append(row)
    order = sorted(sections, key=lambda s: (ANSWER_SECTIONS.index(s)
                                           if s in ANSWER_SECTIONS else len(ANSWER_SECTIONS), s))
    return [{"section": s, "label": humanize(s), "rows": sections[s]} for s in order]


def _drift(drift: Any) -> dict[str, Any] | None:
    drift = as_dict(drift)
    if not drift:
        return None
    share = drift.get("share_drifted")
    features = [as_dict(f) for f in as_list(drift.get("features"))]
    performance = as_dict(drift.get("performance"))
    return {
        "dataset_drift": drift.get("dataset_drift"),
        "share": f"{share:.0%}" if isinstance(share, int | float) else text(share),
        "features": [{
            "name": text(f.get("name")), "kind": text(f.get("kind")),
            "method": text(f.get("method")), "statistic": text(f.get("statistic")),
            "p_value": text(f.get("p_value")), "drifted": f.get("drifted") is True,
        } for f in features],
        "drifted_count": sum(1 for f in features if f.get("drifted") is True),
        "performance": {k: text(v) for k, v in performance.items()} if performance else None,
        "bias": [{k: text(v) for k, v in as_dict(b).items()} | {"violated_flag":
                 as_dict(b).get("violated") is True} for b in as_list(drift.get("bias"))],
    }


def _counterfactuals(decision: Mapping[str, Any],
                     names: Mapping[str, Any]) -> list[dict[str, Any]]:
    explanation = as_dict(decision.get("explanation"))
    items = explanation.get("counterfactuals", decision.get("counterfactuals"))
    result = []
    for item in as_list(items):
        item = as_dict(item)
        if not item:
            continue
        strategy = as_dict(item.get("strategy"))
        verdict = item.get("verdict")
        result.append({
            "changes": [(str(k), text(v)) for k, v in as_dict(item.get("changes")).items()],
            "verdict": text(verdict) if verdict is not None else None,
            "verdict_label": VERDICT_LABELS.get(str(verdict), humanize(verdict)),
            "rung": text(strategy.get("rung")) if strategy.get("rung") else None,
            "service": text(strategy.get("service")) if strategy.get("service") else None,
            "service_name": _service_name(strategy.get("service"), names),
        })
    return result


def format_date(moment: datetime | None) -> str:
    return moment.strftime("%d %B %Y, %H:%M UTC").lstrip("0") if moment else "date unknown"


def _legend(options: list[dict[str, Any]], names: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rungs the options use, in the knowledge's ladder order, with their meaning."""
    used = {o["rung"] for o in options}
    return [{"rung": rung, "title": str(label.get("title") or ""),
             "description": str(label.get("description") or "")}
            for rung, label in as_dict(names.get("rungs")).items() if rung in used]


def build_context(decision: Mapping[str, Any],
                  names: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the template shows, in display order, with defaults for what is missing.
    `names` maps rung and service ids to display names (see labels.py)."""
    names = names or {}
    input_doc = as_dict(decision.get("input"))
    answers = as_dict(input_doc.get("answers"))
    project = as_dict(decision.get("project")) or as_dict(answers.get("project"))
    name = text(project.get("name")) if project.get("name") else "Untitled project"
    respondent = text(project.get("respondent")) if project.get("respondent") else ""
    verdict = text(decision.get("verdict")) if decision.get("verdict") else "unknown"
    strategy = as_dict(decision.get("strategy"))
    moment = timestamp_of(decision.get("assessment_id"))

    findings = [_finding(as_dict(f)) for f in as_list(decision.get("findings"))]
    blockers = [f for f in sorted(findings, key=lambda f: _phase_rank(f["phase"]))
                if f["severity"] == "blocker"]
    options = [_option(as_dict(o), names) for o in as_list(decision.get("options"))]
    business = as_dict(answers.get("business"))
    criteria = [_record_line(as_dict(c)) for c in as_list(business.get("success_criteria"))
                if isinstance(c, Mapping)]
    plan = [{k: text(as_dict(p).get(k)) if as_dict(p).get(k) is not None else ""
             for k in ("signal", "how", "trigger", "response", "rule")}
            for p in as_list(decision.get("monitoring_plan"))]
    trace = []
    for position, step in enumerate(as_list(decision.get("trace")), 1):
        step = as_dict(step)
        trace.append({
            "order": text(step.get("order", position)),
            "rule": text(step.get("rule")),
            "matched": compact_json(step.get("matched")) if step.get("matched") else "",
            "asserted": [text(a) for a in as_list(step.get("asserted"))],
        })
    rulebase = as_dict(decision.get("rulebase"))
    keywords = [k for k in ("mladvisor", verdict, strategy.get("rung"), strategy.get("service"),
                            as_dict(answers.get("problem")).get("task"))
                if isinstance(k, str) and k]

    return {
        "name": name,
        "respondent": respondent,
        "stage": text(project.get("stage")) if project.get("stage") else "",
        "date": format_date(moment),
        "date_iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "",
        "moment": moment,
        "assessment_id": text(decision.get("assessment_id") or "—"),
        "verdict": verdict,
        "verdict_label": VERDICT_LABELS.get(verdict, humanize(verdict)),
        "verdict_class": verdict if verdict in VERDICT_LABELS else "unknown",
        "strategy": {
            "rung": text(strategy.get("rung")) if strategy.get("rung") else None,
            "service": text(strategy.get("service")) if strategy.get("service") else None,
            "summary": text(strategy.get("summary")) if strategy.get("summary") else "",
            "rung_title": _rung_title(strategy.get("rung"), names),
            "service_name": _service_name(strategy.get("service"), names),
        } if strategy else None,
        "problem_statement": text(business.get("problem_statement") or ""),
        "task": text(as_dict(answers.get("problem")).get("task") or ""),
        "criteria": criteria,
        "blockers": blockers[:SUMMARY_BLOCKERS],
        "blockers_more": max(0, len(blockers) - SUMMARY_BLOCKERS),
        "blocker_count": len(blockers),
        "actions": [text(a) for a in as_list(decision.get("actions"))][:3],
        "actions_more": max(0, len(as_list(decision.get("actions"))) - 3),
        "all_actions": [text(a) for a in as_list(decision.get("actions"))],
        "severity_counts": {s: sum(1 for f in findings if f["severity"] == s)
                            for s in SEVERITIES},
        "options": options,
        "legend": _legend(options, names),
        "phases": _group_findings(findings),
        "finding_count": len(findings),
        "answers": _answers(input_doc),
        "defaulted_count": len(as_list(input_doc.get("defaulted"))),
        "drift": _drift(input_doc.get("drift")),
        "plan": plan,
        "counterfactuals": _counterfactuals(decision, names),
        "trace": trace,
        "audit": [
            ("Assessment id", text(decision.get("assessment_id") or "—")),
            ("Assessed at", format_date(moment)),
            ("Schema", text(decision.get("schema") or "—")),
            ("Engine version", text(decision.get("engine_version") or "—")),
            ("Rule base version", text(rulebase.get("version") or "—")),
            ("Rule base sha256", text(rulebase.get("sha256") or "—")),
            ("Input sha256", text(decision.get("input_sha256") or "—")),
        ],
        "title": f"ML assessment: {name}",
        "subject": f"{VERDICT_LABELS.get(verdict, humanize(verdict))}"
                   + (f" — {strategy.get('rung')}" if strategy.get("rung") else "")
                   + (f" / {strategy.get('service')}" if strategy.get("service") else ""),
        "keywords": keywords,
    }
