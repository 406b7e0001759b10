"""Turn a decision into the plain view model the template renders.

The decision arrives as the typed model (engine.model.decision): a field an older engine or a
hand-edited file left out has its default, and a part of the wrong shape was dropped when it
was read, so the report shows less, never a traceback. Only what the decision carries as it
was given (the answers, the drift summary, a report's explanation) is looked at with care.
All text stays raw here; Jinja2 autoescaping is what makes untrusted answers safe to show.
Every list is capped where it is shown, with a count of what was left out (see limits.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.model.decision import (
    TRACE_VERDICT,
    Decision,
    DecisionInput,
    Finding,
    MonitoringItem,
    Option,
    Strategy,
    TraceEntry,
)
from engine.model.vocab import PHASES, SEVERITIES, STATUSES, VERDICTS
from engine.report import limits
from engine.report.dates import timestamp_of
from engine.report.labels import metric_label
from engine.report.limits import Budget, capped, cut, size_of
from engine.util import dotted
from engine.util.display import (
    monthly_short,
    monthly_text,
    payback_text,
    show_value,
    strategy_text,
    usd,
    usd_range,
)

# Display order (the vocabularies' own) and labels; unknown ids are still shown.
VERDICT_LABELS = dict(zip(VERDICTS, ("Proceed", "Proceed with conditions", "Not ready",
                                     "ML not recommended"), strict=True))
GOAL_SYMBOLS = {"at-least": "≥", "at-most": "≤", "equal": "=", "eq": "="}
ANSWER_SECTIONS = ("project", "business", "problem", "data", "team", "monitoring")
SUMMARY_BLOCKERS = 5
SUMMARY_ACTIONS = 3


def section_of(doc: Any, key: str) -> dict[str, Any]:
    """A part of a document embedded as given (the answers, the drift summary), or {}."""
    value = doc.get(key) if isinstance(doc, Mapping) else None
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """A value as a short human string (numbers compact, booleans yes/no, None a dash);
    records and lists inline, capped."""
    if isinstance(value, Mapping):
        items, more = capped(list(value.items()), limits.MAX_LIST_ITEMS)
        return cut("; ".join(f"{k}: {text(v)}" for k, v in items) + _and_more(more))
    if isinstance(value, list | tuple):
        shown, more = capped(list(value), limits.MAX_LIST_ITEMS)
        return cut(", ".join(text(v) for v in shown) + _and_more(more)) if value else "none"
    return show_value(value, none="—", grouped=True)


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


def _record_line(record: Mapping[str, Any], name: Callable[[str], str] = str) -> str:
    """A success criterion as `metric ≥ threshold` (the metric named by `name`); any other
    record inline."""
    if {"metric", "threshold"} <= set(record):
        goal = GOAL_SYMBOLS.get(str(record.get("goal")), text(record.get("goal")))
        return f"{name(text(record['metric']))} {goal} {text(record['threshold'])}"
    return text(record)


def criterion_label(goal: Any, threshold: Any) -> str:
    return f"{GOAL_SYMBOLS.get(str(goal), text(goal))} {text(threshold)}"


def _checks(option: Option) -> list[dict[str, Any]]:
    return [{"candidate": text(evidence.candidate),
             "metric": metric_label(text(check.metric)),
             "criterion": criterion_label(check.goal, check.threshold),
             "value": text(check.value),
             "gap": _signed(check.gap),
             "met": check.met}
            for evidence in option.evidence for check in evidence.checks]


def _signed(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ("+" if value > 0 else "") + text(value)
    return text(value) if value is not None else ""


def _rung_title(rung: str | None, names: Mapping[str, Any]) -> str:
    return str(names.get("rungs", {}).get(str(rung), {}).get("title") or "")


def _service_name(service: str | None, names: Mapping[str, Any]) -> str:
    if not service:
        return ""
    return str(names.get("services", {}).get(service, {}).get("name") or service)


WHY_CHARS = 130  # the sponsor's page: one short line per option


def option_why(status: str | None, reasons: list[str]) -> str:
    """The sponsor's one line on an option: recommended, or its first reason, shortened at a
    word (the HTML and Markdown summaries both)."""
    if status == "selected":
        return "recommended"
    reason = " ".join(str(reasons[0]).split()) if reasons else ""
    if len(reason) <= WHY_CHARS:
        return reason
    return reason[:WHY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _option(option: Option, names: Mapping[str, Any]) -> dict[str, Any]:
    checks = _checks(option)
    met = sum(1 for c in checks if c["met"] is True)
    judged = sum(1 for c in checks if c["met"] is not None)
    reasons, reasons_more = capped(option.reasons, limits.MAX_REASONS)
    shown_checks, checks_more = capped(checks, limits.MAX_CHECKS)
    status = option.status if option.status is not None else "not-evaluated"
    group = (option.model_extra or {}).get("group")
    if group and reasons:  # services that take no new projects, in one line
        group_line, reasons = text(reasons[0]), reasons[1:]
    else:
        group_line = ""
    return {
        "group_line": group_line,
        "rung": text(option.rung),
        "service": option.service or None,
        "rung_title": _rung_title(option.rung, names),
        "service_name": _service_name(option.service, names),
        "status": status,
        "status_label": humanize(status),
        "status_class": status if status in STATUSES else "other",
        "reasons": [text(r) for r in reasons],
        "reasons_more": reasons_more,
        "why": text(option_why(status, reasons)),
        "method": option.method or "",
        "how": option.how or "",
        "offer": option.offer or "",
        "runs": option.runs or "",
        "checks": shown_checks,
        "checks_more": checks_more,
        "met": met,
        "judged": judged,
        **_cost(option),
    }


def _cost(option: Option) -> dict[str, Any]:
    """The option's cost as the ladder shows it: a one-line range, then the arithmetic."""
    cost = option.cost
    if cost is None:
        return {"cost_line": "", "cost_short": "—", "cost_basis": [],
                "cost_note": text(option.cost_note or "")}
    line = monthly_text(cost)
    if cost.measured:
        line += " (measured)"
    if cost.build_usd.high:
        line += f"; build {usd_range(cost.build_usd.low, cost.build_usd.high)} USD once"
    if cost.payback_months is not None:
        line += "; " + payback_text(cost.payback_months.low, cost.payback_months.high)
    if cost.priced_on:
        line += f"; prices of {cost.priced_on}"
    basis = [text(b) for b in cost.basis[:limits.MAX_REASONS]]
    if cost.assumed:
        basis.append("assumed request size (the task's usual): " + ", ".join(
            text(a) for a in cost.assumed))
    return {"cost_line": line, "cost_basis": basis, "cost_note": text(option.cost_note or ""),
            "cost_short": monthly_short(cost)}


def _finding(finding: Finding, names: Mapping[str, Any] | None = None) -> dict[str, Any]:
    severity = finding.severity or "info"
    facts, facts_more = capped(list(finding.facts.items()), limits.MAX_FACTS)
    services, services_more = capped([s for s in finding.services if isinstance(s, str)],
                                     limits.MAX_LIST_ITEMS)
    return {
        "services": [_supporting(s, names or {}) for s in services],
        "services_more": services_more,
        "rule": finding.rule or "",
        "phase": finding.phase or "other",
        "severity": severity,
        "severity_class": severity if severity in SEVERITIES else "info",
        "title": finding.title or finding.rule or "Untitled finding",
        "rationale": finding.rationale or "",
        "action": finding.action or "",
        "facts": [(str(k), compact_json(v)) for k, v in facts],
        "facts_more": facts_more,
        "guidance": finding.guidance or "",
    }


def _supporting(service: str, names: Mapping[str, Any]) -> dict[str, str]:
    """A service a finding recommends: its name and what it is for (from the catalog)."""
    entry = names.get("services", {}).get(service, {})
    return {"id": service, "name": cut(str(entry.get("name") or service)),
            "purpose": cut(str(entry.get("purpose") or ""))}


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


def _answers(input_doc: DecisionInput,
             budget: Budget) -> tuple[list[dict[str, Any]], int]:
    """Answer rows by section, at most MAX_ANSWER_ROWS in all; and how many were left out."""
    answers = input_doc.answers
    defaulted = set(input_doc.defaulted)
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


def records_of(doc: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The records of a list in an embedded document (the drift summary), each a dict."""
    items = doc.get(key)
    return [item if isinstance(item, dict) else {}
            for item in (items if isinstance(items, list) else [])]


def _drift(drift: dict[str, Any] | None) -> dict[str, Any] | None:
    """The drift summary as given (mladvisor.drift/1, embedded in the decision's input)."""
    if not drift:
        return None
    share = drift.get("share_drifted")
    features = records_of(drift, "features")
    performance = section_of(drift, "performance")
    bias, bias_more = capped(records_of(drift, "bias"), limits.MAX_BIAS)
    return {
        "dataset_drift": drift.get("dataset_drift"),
        "share": f"{share:.0%}" if isinstance(share, int | float) else text(share),
        "feature_count": text(len(features)),
        "drifted_count": text(sum(1 for f in features if f.get("drifted") is True)),
        "performance": {k: text(v) for k, v in performance.items()} if performance else None,
        "bias": [{k: text(v) for k, v in b.items()} | {"violated_flag": b.get("violated") is True,
                 "metric": metric_label(text(b.get("metric"))) if b.get("metric") else None}
                 for b in bias],
        "bias_more": bias_more,
    }


def _answer_label(path: str, names: Mapping[str, Any]) -> str:
    return ((names.get("answers") or {}).get(path) or {}).get("label") or path


def _counterfactuals(decision: Decision, names: Mapping[str, Any],
                     budget: Budget) -> tuple[list[dict[str, Any]], int]:
    """The explanation a report may carry beside the decision (not part of it, so untyped)."""
    explanation = decision.extra("explanation")
    explanation = explanation if isinstance(explanation, dict) else {}
    items = explanation.get("counterfactuals", decision.extra("counterfactuals"))
    items = items if isinstance(items, list) else []
    result = []
    for item in items[:limits.MAX_COUNTERFACTUALS]:
        if not isinstance(item, dict) or not item:
            continue
        strategy = section_of(item, "strategy")
        verdict = item.get("verdict")
        changes, changes_more = capped(list(section_of(item, "changes").items()),
                                       limits.MAX_CHANGES)
        result.append({
            "changes": [(str(k), text(v)) for k, v in changes],
            # the lever's short name where the questionnaire gives one (the sponsor's page)
            "changes_named": [(_answer_label(str(k), names), text(v)) for k, v in changes],
            "changes_more": changes_more,
            "verdict": text(verdict) if verdict is not None else None,
            "verdict_label": VERDICT_LABELS.get(str(verdict), humanize(verdict)),
            "verdict_class": verdict if verdict in VERDICT_LABELS else "unknown",
            "rung": text(strategy.get("rung")) if strategy.get("rung") else None,
            "service": text(strategy.get("service")) if strategy.get("service") else None,
            "service_name": _service_name(strategy.get("service"), names),
            "rung_title": _rung_title(strategy.get("rung"), names),
        })
    shown, _ = budget.take(result, limits.MAX_COUNTERFACTUALS, size_of)
    return shown, len(items) - len(shown)


def _plan_item(item: MonitoringItem) -> dict[str, str]:
    shown = {k: text(getattr(item, k)) if getattr(item, k) is not None else ""
             for k in ("signal", "how", "runs_on", "trigger", "response", "rule")}
    return shown | {"signal": metric_label(shown["signal"])}


def _trace_step(step: TraceEntry, position: int) -> dict[str, Any]:
    asserted, more = capped(step.asserted, limits.MAX_ASSERTED)
    return {
        "order": text(step.order if "order" in step.model_fields_set else position),
        "rule": text(step.rule if "rule" in step.model_fields_set else None),
        "matched": compact_json(step.matched) if step.matched else "",
        "asserted": asserted + ([limits.more_note(more, "facts")] if more else []),
    }


def trace_outcome(decision: Decision, names: Mapping[str, Any]) -> str:
    """The line a trace ends with: rules propose verdicts, often several; say which won and
    by what, so a reader of the trace does not have to know the ladder's precedence."""
    proposed = Counter(a[len(TRACE_VERDICT):] for step in decision.trace for a in step.asserted
                       if isinstance(a, str) and a.startswith(TRACE_VERDICT))
    if not proposed or not decision.verdict:
        return ""
    ranks = {v: int(r.get("rank", 99)) for v, r in (names.get("verdicts") or {}).items()}
    order = sorted(proposed, key=lambda v: (ranks.get(v, 99), v))
    counts = ", ".join(f"{v} ({n}x)" if n > 1 else v for v, n in
                       ((v, proposed[v]) for v in order))
    line = f"Outcome: {decision.verdict}."
    if len(proposed) > 1 and order[0] == decision.verdict and ranks:
        line += (f" Proposed: {counts}; the most cautious wins (ladder precedence: "
                 f"{', '.join(sorted(ranks, key=lambda v: ranks[v]))}).")
    elif len(proposed) > 1 or proposed[order[0]] > 1:
        line += f" Proposed: {counts}."
    if decision.strategy and decision.strategy.rung:
        line += f" Selected: {strategy_text(decision.strategy, ' / {}')}."
    return text(line)


def catalog_span(catalog: Mapping[str, Any]) -> str:
    """`2026-11-27 to 2026-12-02`: the oldest and newest `checked` date of the service catalog
    the decision was made with (one date when they agree; empty for an older decision)."""
    oldest, newest = (str(catalog.get(k) or "") for k in ("checked_oldest", "checked_newest"))
    if not oldest:
        return ""
    return oldest if newest in ("", oldest) else f"{oldest} to {newest}"


def catalog_checked(catalog: Mapping[str, Any]) -> list[tuple[str, str]]:
    span = catalog_span(catalog)
    return [("Service catalog checked", span)] if span else []


def format_date(moment: datetime | None) -> str:
    return moment.strftime("%d %B %Y, %H:%M UTC").lstrip("0") if moment else "date unknown"


def _legend(options: list[dict[str, Any]], names: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rungs the options use, in the knowledge's ladder order, with their meaning."""
    used = {o["rung"] for o in options}
    return [{"rung": rung, "title": str(label.get("title") or ""),
             "description": str(label.get("description") or "")}
            for rung, label in names.get("rungs", {}).items() if rung in used]


def _strategy(strategy: Strategy | None, names: Mapping[str, Any]) -> dict[str, Any] | None:
    if strategy is None or not strategy.model_fields_set:
        return None
    return {"rung": strategy.rung or None, "service": strategy.service or None,
            "summary": strategy.summary or "", "rung_title": _rung_title(strategy.rung, names),
            "service_name": _service_name(strategy.service, names)}


def _money(business: Mapping[str, Any], options: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The figures a sponsor decides on: the recommended option's cost beside the budget and
    the value the project expects (only those known)."""
    rows = []
    selected = next((o for o in options if o["status"] == "selected"), None)
    if selected and selected["cost_line"]:
        rows.append(("Estimated cost", selected["cost_line"]))
    elif selected and selected["cost_note"]:
        rows.append(("Estimated cost", selected["cost_note"]))
    return rows + budget_and_value(business)


def budget_and_value(business: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The budget and the expected value a project answered, each as `N USD a month`."""
    rows = []
    for key, label in (("budget_usd_per_month", "Budget"),
                       ("expected_value_usd_per_month", "Expected value")):
        amount = business.get(key)
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            rows.append((label, f"{usd(float(amount))} USD a month"))
    return rows


def build_context(decision: Decision,
                  names: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the template shows, in display order, with defaults for what is missing.
    `names` maps rung and service ids to display names (see labels.py)."""
    names = names or {}
    input_doc = decision.input or DecisionInput()
    answers = input_doc.answers
    project = (decision.project.model_dump(exclude_unset=True) if decision.project else {}) \
        or section_of(answers, "project")
    name = text(project.get("name")) if project.get("name") else "Untitled project"
    respondent = text(project.get("respondent")) if project.get("respondent") else ""
    verdict = decision.verdict or "unknown"
    strategy = _strategy(decision.strategy, names)
    moment = timestamp_of(decision.assessment_id)

    findings = [_finding(f, names) for f in decision.findings]
    blockers = [f for f in sorted(findings, key=lambda f: _phase_rank(f["phase"]))
                if f["severity"] == "blocker"]
    budget = Budget()  # sections spend it in display order
    all_options = decision.options
    options, _ = budget.take([_option(o, names) for o in all_options[:limits.MAX_OPTIONS]],
                             limits.MAX_OPTIONS, size_of)
    options_more = len(all_options) - len(options)
    business = section_of(answers, "business")
    criteria = business.get("success_criteria")
    criteria = [_record_line(c, metric_label) for c in
                (criteria if isinstance(criteria, list) else []) if isinstance(c, Mapping)]
    criteria, criteria_more = capped(criteria, limits.MAX_CRITERIA)
    if criteria_more:
        criteria.append(limits.more_note(criteria_more, "criteria"))
    counterfactuals, counterfactuals_more = _counterfactuals(decision, names, budget)
    phases, phases_more, findings_more = _group_findings(findings, budget)
    answer_sections, answers_more = _answers(input_doc, budget)
    plan_items = decision.monitoring_plan
    plan, _ = budget.take([_plan_item(p) for p in plan_items[:limits.MAX_PLAN]],
                          limits.MAX_PLAN, size_of)
    plan_more = len(plan_items) - len(plan)
    actions = decision.actions
    all_actions, _ = budget.take(actions, limits.MAX_ACTIONS, len)
    actions_more = len(actions) - len(all_actions)
    steps = decision.trace
    trace, _ = budget.take([_trace_step(step, position)
                            for position, step in enumerate(steps[:limits.MAX_TRACE], 1)],
                           limits.MAX_TRACE, size_of)
    trace_more = len(steps) - len(trace)

    rulebase = decision.rulebase
    task = section_of(answers, "problem").get("task")
    keywords = [k for k in ("mladvisor", verdict, strategy and strategy["rung"],
                            strategy and strategy["service"], task)
                if isinstance(k, str) and k]

    return {
        "name": name,
        "respondent": respondent,
        "stage": text(project.get("stage")) if project.get("stage") else "",
        "date": format_date(moment),
        "date_iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "",
        "moment": moment,
        "assessment_id": decision.assessment_id or "—",
        "verdict": verdict,
        "verdict_label": VERDICT_LABELS.get(verdict, humanize(verdict)),
        "verdict_class": verdict if verdict in VERDICT_LABELS else "unknown",
        "strategy": strategy,
        "problem_statement": text(business.get("problem_statement") or ""),
        "task": text(task or ""),
        "criteria": criteria,
        "blockers": blockers[:SUMMARY_BLOCKERS],
        "warnings": [f for f in sorted(findings, key=lambda f: _phase_rank(f["phase"]))
                     if f["severity"] == "warning"][:SUMMARY_BLOCKERS],
        "warning_count": sum(1 for f in findings if f["severity"] == "warning"),
        "blockers_more": max(0, len(blockers) - SUMMARY_BLOCKERS),
        "blocker_count": len(blockers),
        "actions": actions[:SUMMARY_ACTIONS],
        "actions_more": max(0, len(actions) - SUMMARY_ACTIONS),
        "all_actions": all_actions,
        "all_actions_more": actions_more,
        "severity_counts": {s: sum(1 for f in findings if f["severity"] == s)
                            for s in SEVERITIES},
        "severities": SEVERITIES,
        "options": options,
        "any_cost": any(o["cost_line"] for o in options),
        "any_judged": any(o["judged"] for o in options),
        "money": _money(business, options),
        "options_more": options_more,
        "legend": _legend(options, names),
        "phases": phases,
        "phases_more": phases_more,
        "findings_more": findings_more,
        "finding_count": len(findings),
        "answers": answer_sections,
        "answers_more": answers_more,
        "defaulted_count": len(input_doc.defaulted),
        "drift": _drift(input_doc.drift),
        "plan": plan,
        "plan_more": plan_more,
        "counterfactuals": counterfactuals,
        "counterfactuals_more": counterfactuals_more,
        "trace": trace,
        "trace_more": trace_more,
        "trace_outcome": trace_outcome(decision, names),
        "audit": [
            ("Assessment id", decision.assessment_id or "—"),
            ("Assessed at", format_date(moment)),
            ("Schema", decision.schema_ if "schema_" in decision.model_fields_set else "—"),
            ("Engine version", decision.engine_version or "—"),
            ("Rule base version", rulebase.get("version") or "—"),
            ("Rule base sha256", rulebase.get("sha256") or "—"),
            ("Input sha256", decision.input_sha256 or "—"),
            *catalog_checked(decision.catalog),
        ],
        "title": f"ML assessment: {name}",
        "subject": f"{VERDICT_LABELS.get(verdict, humanize(verdict))}"
                   + (" — " + strategy_text(decision.strategy, " / {}")
                      if strategy and strategy["rung"] else ""),
        "keywords": keywords,
    }
