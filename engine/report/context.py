"""Turn a decision document into the plain view model the template renders.

Every optional field of the decision may be missing or of an unexpected shape (an older
engine, a hand-edited file): the report then shows less, never a traceback. All text stays
raw here; Jinja2 autoescaping is what makes untrusted answers safe to show. Every list is
capped where it is shown, with a count of what was left out (see limits.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.report import limits
from engine.report.dates import timestamp_of
from engine.report.limits import Budget, capped, cut, size_of
from engine.util import dotted

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
SUMMARY_ACTIONS = 3


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
        items, more = capped(list(value.items()), limits.MAX_LIST_ITEMS)
        return cut("; ".join(f"{k}: {text(v)}" for k, v in items) + _and_more(more))
    if isinstance(value, list | tuple):
        shown, more = capped(list(value), limits.MAX_LIST_ITEMS)
        return cut(", ".join(text(v) for v in shown) + _and_more(more)) if value else "none"
    return str(value)


def _and_more(count: int) -> str:
    return f" … ({limits.more_note(count, 'items')})" if count else ""


def compact_json(value: Any, limit: int = limits.MAX_JSON) -> str:
    """One line of JSON, cut to `limit` characters (a hostile fact can be megabytes)."""
    if isinstance(value, list | tuple) and len(value) > limit:
        value = value[:limit]  # never serialise more than can be shown
    return cut(json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "),
                          default=str), limit)


def humanize(identifier: Any) -> str:
    label = text(identifier).replace("-", " ").replace("_", " ").strip()
    return label[:1].upper() + label[1:] if label else "—"


def flatten(value: Any) -> list[tuple[str, Any]]:
    """Nested answers as (dotted path, leaf value) pairs; lists of records stay one leaf."""
    return list(dotted.flatten(value, empty_leaf=True).items())


def _answer_value(value: Any) -> dict[str, Any]:
    """A leaf answer ready for display: records of a list become separate lines."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        records, more = capped(value, limits.MAX_CRITERIA)
        lines = [_record_line(v) for v in records]
        return {"lines": lines + ([limits.more_note(more, "entries")] if more else []),
                "text": None}
    return {"lines": None, "text": text(value)}


def _record_line(record: Mapping[str, Any]) -> str:
    if {"metric", "threshold"} <= set(record):
        goal = GOAL_SYMBOLS.get(str(record.get("goal")), text(record.get("goal")))
        return f"{text(record['metric'])} {goal} {text(record['threshold'])}"
    return text(record)


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
    reasons, reasons_more = capped(as_list(option.get("reasons")), limits.MAX_REASONS)
    shown_checks, checks_more = capped(checks, limits.MAX_CHECKS)
    status = text(option.get("status")) if option.get("status") is not None else "not-evaluated"
    return {
        "rung": text(option.get("rung")),
        "service": text(option.get("service")) if option.get("service") else None,
        "rung_title": _rung_title(option.get("rung"), names),
        "service_name": _service_name(option.get("service"), names),
        "status": status,
        "status_label": humanize(status),
        "status_class": status if status in STATUS_ORDER else "other",
        "reasons": [text(r) for r in reasons],
        "reasons_more": reasons_more,
        "method": text(option.get("method")) if option.get("method") else "",
        "checks": shown_checks,
        "checks_more": checks_more,
        "met": met,
        "judged": judged,
    }


def _finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    severity = text(finding.get("severity") or "info")
    facts, facts_more = capped(list(as_dict(finding.get("facts")).items()), limits.MAX_FACTS)
    return {
        "rule": text(finding.get("rule")) if finding.get("rule") else "",
        "phase": text(finding.get("phase") or "other"),
        "severity": severity,
        "severity_class": severity if severity in SEVERITIES else "info",
        "title": text(finding.get("title") or finding.get("rule") or "Untitled finding"),
        "rationale": text(finding.get("rationale")) if finding.get("rationale") else "",
        "action": text(finding.get("action")) if finding.get("action") else "",
        "facts": [(str(k), compact_json(v)) for k, v in facts],
        "facts_more": facts_more,
        "guidance": text(finding.get("guidance")) if finding.get("guidance") else "",
    }


def _severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _phase_rank(phase: str) -> int:
    return PHASES.index(phase) if phase in PHASES else len(PHASES)


def _group_findings(findings: list[dict[str, Any]],
                    budget: Budget) -> tuple[list[dict[str, Any]], int, int]:
    """Phases in lifecycle order, each with its counts and the findings shown, most severe
    first; how many phases and findings were left out. The findings shown (within the list
    cap and the section budget) are chosen by severity, then phase, so blockers come first."""
    groups: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        groups.setdefault(finding["phase"], []).append(index)
    ordered, phases_more = capped(sorted(groups, key=lambda p: (_phase_rank(p), p)),
                                  limits.MAX_PHASES)
    ranked = sorted((i for phase in ordered for i in groups[phase]), key=lambda i: (
        _severity_rank(findings[i]["severity"]), _phase_rank(findings[i]["phase"])))
    shown = set(budget.take(ranked, limits.MAX_FINDINGS, lambda i: size_of(findings[i]))[0])
    result = []
    for phase in ordered:
        items = sorted((findings[i] for i in groups[phase]),
                       key=lambda f: _severity_rank(f["severity"]))  # stable
        visible = sorted((findings[i] for i in groups[phase] if i in shown),
                         key=lambda f: _severity_rank(f["severity"]))
        counts = {s: sum(1 for f in items if f["severity"] == s) for s in SEVERITIES}
        result.append({"phase": phase, "label": humanize(phase), "findings": visible,
                       "findings_more": len(items) - len(visible),
                       "counts": counts, "id": f"phase-{_slug(phase)}"})
    return result, phases_more, len(findings) - len(shown)


def _slug(value: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in value.lower()).strip("-") or "x"


def _answers(input_doc: Mapping[str, Any],
             budget: Budget) -> tuple[list[dict[str, Any]], int]:
    """Answer rows by section, at most MAX_ANSWER_ROWS in all; and how many were left out."""
    answers = as_dict(input_doc.get("answers"))
    defaulted = {str(d) for d in as_list(input_doc.get("defaulted"))}
    sections: dict[str, list[dict[str, Any]]] = {}
    rows: list[tuple[str, Any, dict[str, Any]]] = []
    for path, value in flatten({k: v for k, v in answers.items() if k != "schema"}):
        if len(rows) == limits.MAX_ANSWER_ROWS:
            break
        rows.append((path, value, _answer_value(value)))
    shown, _ = budget.take(rows, limits.MAX_ANSWER_ROWS, lambda row: size_of(row[2]))
    more = _count_leaves(answers) - len(shown)
    for path, _value, display in shown:
        section = path.split(".", 1)[0]
        row = {"path": path, "field": path.split(".", 1)[-1], "defaulted": path in defaulted}
        row.update(display)
        sections.setdefault(section, []).append(row)
    order = sorted(sections, key=lambda s: (ANSWER_SECTIONS.index(s)
                                           if s in ANSWER_SECTIONS else len(ANSWER_SECTIONS), s))
    return [{"section": s, "label": humanize(s), "rows": sections[s]} for s in order], more


def _count_leaves(answers: Mapping[str, Any]) -> int:
    return len(flatten({k: v for k, v in answers.items() if k != "schema"}))


def _drift(drift: Any) -> dict[str, Any] | None:
    drift = as_dict(drift)
    if not drift:
        return None
    share = drift.get("share_drifted")
    features = as_list(drift.get("features"))
    performance = as_dict(drift.get("performance"))
    bias, bias_more = capped(as_list(drift.get("bias")), limits.MAX_BIAS)
    return {
        "dataset_drift": drift.get("dataset_drift"),
        "share": f"{share:.0%}" if isinstance(share, int | float) else text(share),
        "feature_count": text(len(features)),
        "drifted_count": text(sum(1 for f in features if as_dict(f).get("drifted") is True)),
        "performance": {k: text(v) for k, v in performance.items()} if performance else None,
        "bias": [{k: text(v) for k, v in as_dict(b).items()} | {"violated_flag":
                 as_dict(b).get("violated") is True} for b in bias],
        "bias_more": bias_more,
    }


def _counterfactuals(decision: Mapping[str, Any], names: Mapping[str, Any],
                     budget: Budget) -> tuple[list[dict[str, Any]], int]:
    explanation = as_dict(decision.get("explanation"))
    items = as_list(explanation.get("counterfactuals", decision.get("counterfactuals")))
    result = []
    for item in items[:limits.MAX_COUNTERFACTUALS]:
        item = as_dict(item)
        if not item:
            continue
        strategy = as_dict(item.get("strategy"))
        verdict = item.get("verdict")
        changes, changes_more = capped(list(as_dict(item.get("changes")).items()),
                                       limits.MAX_CHANGES)
        result.append({
            "changes": [(str(k), text(v)) for k, v in changes],
            "changes_more": changes_more,
            "verdict": text(verdict) if verdict is not None else None,
            "verdict_label": VERDICT_LABELS.get(str(verdict), humanize(verdict)),
            "rung": text(strategy.get("rung")) if strategy.get("rung") else None,
            "service": text(strategy.get("service")) if strategy.get("service") else None,
            "service_name": _service_name(strategy.get("service"), names),
        })
    shown, _ = budget.take(result, limits.MAX_COUNTERFACTUALS, size_of)
    return shown, len(items) - len(shown)


def _plan_item(item: Mapping[str, Any]) -> dict[str, str]:
    return {k: text(item.get(k)) if item.get(k) is not None else ""
            for k in ("signal", "how", "trigger", "response", "rule")}


def _trace_step(step: Mapping[str, Any], position: int) -> dict[str, Any]:
    asserted, more = capped(as_list(step.get("asserted")), limits.MAX_ASSERTED)
    return {
        "order": text(step.get("order", position)),
        "rule": text(step.get("rule")),
        "matched": compact_json(step.get("matched")) if step.get("matched") else "",
        "asserted": [text(a) for a in asserted] + ([limits.more_note(more, "facts")]
                                                    if more else []),
    }


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
    budget = Budget()  # sections spend it in display order
    all_options = as_list(decision.get("options"))
    options, _ = budget.take([_option(as_dict(o), names)
                              for o in all_options[:limits.MAX_OPTIONS]],
                             limits.MAX_OPTIONS, size_of)
    options_more = len(all_options) - len(options)
    business = as_dict(answers.get("business"))
    criteria = [_record_line(c) for c in as_list(business.get("success_criteria"))
                if isinstance(c, Mapping)]
    criteria, criteria_more = capped(criteria, limits.MAX_CRITERIA)
    if criteria_more:
        criteria.append(limits.more_note(criteria_more, "criteria"))
    counterfactuals, counterfactuals_more = _counterfactuals(decision, names, budget)
    phases, phases_more, findings_more = _group_findings(findings, budget)
    answer_sections, answers_more = _answers(input_doc, budget)
    plan_items = as_list(decision.get("monitoring_plan"))
    plan, _ = budget.take([_plan_item(as_dict(p)) for p in plan_items[:limits.MAX_PLAN]],
                          limits.MAX_PLAN, size_of)
    plan_more = len(plan_items) - len(plan)
    actions = [text(a) for a in as_list(decision.get("actions"))]
    all_actions, _ = budget.take(actions, limits.MAX_ACTIONS, len)
    actions_more = len(actions) - len(all_actions)
    steps = as_list(decision.get("trace"))
    trace, _ = budget.take([_trace_step(as_dict(step), position)
                            for position, step in enumerate(steps[:limits.MAX_TRACE], 1)],
                           limits.MAX_TRACE, size_of)
    trace_more = len(steps) - len(trace)

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
        "actions": actions[:SUMMARY_ACTIONS],
        "actions_more": max(0, len(actions) - SUMMARY_ACTIONS),
        "all_actions": all_actions,
        "all_actions_more": actions_more,
        "severity_counts": {s: sum(1 for f in findings if f["severity"] == s)
                            for s in SEVERITIES},
        "options": options,
        "options_more": options_more,
        "legend": _legend(options, names),
        "phases": phases,
        "phases_more": phases_more,
        "findings_more": findings_more,
        "finding_count": len(findings),
        "answers": answer_sections,
        "answers_more": answers_more,
        "defaulted_count": len(as_list(input_doc.get("defaulted"))),
        "drift": _drift(input_doc.get("drift")),
        "plan": plan,
        "plan_more": plan_more,
        "counterfactuals": counterfactuals,
        "counterfactuals_more": counterfactuals_more,
        "trace": trace,
        "trace_more": trace_more,
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
