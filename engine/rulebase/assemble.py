"""Assembling a decision from one run of the rule base: findings, options, strategy, trace.

Everything emitted is sorted, so the same input and rule base give the same bytes; the result
is an engine.model.decision.Decision (the models themselves know nothing of the engine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine import __version__
from engine.model.answers import LoadedAnswers, effective_answers
from engine.model.decision import DECISION_SCHEMA, Decision
from engine.model.vocab import STATUSES
from engine.rulebase import conditions
from engine.rulebase.inference import Run
from engine.rulebase.knowledge import Knowledge, Ladder, option_estimate
from engine.rulebase.loading import DERIVED_TYPES, RuleBase
from engine.rulebase.pricing import measured
from engine.rulebase.resolve import (
    OptionState,
    Resolution,
    asks_no_more,
    measure_first,
    option_label,
)
from engine.rulebase.templates import fill


def assemble_decision(*, assessment_id: str, verdict: str, run: Run, resolution: Resolution,
                      facts: dict[str, list[dict[str, Any]]], rulebase: RuleBase,
                      loaded: LoadedAnswers, input_sha256: str,
                      benchmarks: list[dict[str, Any]] | None,
                      drift: dict[str, Any] | None) -> Decision:
    """The decision of one assessment; some verdicts withhold the strategy (the ladder says)."""
    knowledge = rulebase.knowledge
    withhold = verdict in knowledge.ladder.withhold_strategy
    findings = findings_of(run, knowledge)
    return Decision.model_validate({
        "schema": DECISION_SCHEMA,
        "assessment_id": assessment_id,
        "verdict": verdict,
        "strategy": None if withhold else strategy_of(resolution, knowledge, run),
        "findings": findings,
        "options": options_of(resolution, facts, knowledge, withhold, run.case),
        "trace": trace_of(run),
        "rulebase": rulebase_ref(rulebase),
        "catalog": catalog_ref(rulebase),
        "input_sha256": input_sha256,
        "engine_version": __version__,
        "project": loaded.answers.project.model_dump(mode="json", exclude_none=True),
        "input": {"answers": effective_answers(loaded), "defaulted": loaded.defaulted,
                  "benchmarks": benchmarks, "drift": drift},
        "monitoring_plan": monitoring_plan_of(run, knowledge, resolution),
        "actions": actions_of(findings, after_of(rulebase)),
    })


def _used_values(rule_condition: Any, bindings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for path in sorted(conditions.paths(rule_condition)):
        value = conditions.lookup(bindings, path, DERIVED_TYPES)
        out[path] = None if value is conditions._MISSING else value
    return out


def findings_of(run: Run, knowledge: Knowledge) -> list[dict[str, Any]]:
    ladder = knowledge.ladder
    phases = [p.id for p in knowledge.guidance.phases]
    seen: dict[str, dict[str, Any]] = {}
    for firing in run.firings:
        rule = firing.rule
        if not rule.then.finding or rule.id in seen:
            continue
        seen[rule.id] = {
            "rule": rule.id,
            "phase": rule.phase,
            "severity": rule.severity,
            "title": fill(rule.title, firing.bindings),
            "rationale": fill(" ".join(rule.rationale.split()), firing.bindings),
            "action": fill(" ".join(rule.action.split()), firing.bindings),
            "facts": _used_values(rule.condition, firing.bindings),
            "guidance": rule.guidance,
        }
        if rule.services:
            seen[rule.id]["services"] = list(rule.services)
    return sorted(
        seen.values(),
        key=lambda f: (
            ladder.severity_order.index(f["severity"]),
            phases.index(f["phase"]),
            f["rule"],
        ),
    )


def trace_of(run: Run) -> list[dict[str, Any]]:
    return [
        {
            "order": f.order,
            "rule": f.rule.id,
            "matched": _used_values(f.rule.condition, f.bindings),
            "asserted": f.asserted,
        }
        for f in run.firings
    ]


def options_of(
    resolution: Resolution,
    facts: dict[str, list[dict[str, Any]]],
    knowledge: Knowledge,
    withhold_selection: bool,
    case: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    names = _Names(resolution)
    out = []
    closed: dict[str, list[tuple[OptionState, dict[str, Any]]]] = {}
    for state in resolution.options:
        status = state.status
        if status == "selected" and withhold_selection:
            status = "eligible"
        entry: dict[str, Any] = {
            "rung": state.rung,
            "service": state.service,
            "offer": state.offer or state.rung,
            "method": state.attrs.get("method") or _rung_method(state.rung, knowledge),
            "runs": state.attrs.get("runs"),
            "status": status,
            "reasons": _reasons(state, resolution, knowledge, names),
        }
        if state.attrs.get("how"):
            entry["how"] = " ".join(str(state.attrs["how"]).split())
        evidence = _evidence(state, facts)
        if evidence:
            entry["evidence"] = evidence
        entry.update(_cost(state, knowledge, case or {}, facts, evidence))
        group = _closed_group(state, status, knowledge)
        if group is None:
            out.append(entry)
        else:
            closed.setdefault(group, []).append((state, entry))
    present = {o["rung"] for o in out} | {e["rung"] for g in closed.values() for _, e in g}
    out += [_closed_line(group, members, knowledge) for group, members in closed.items()]
    for rung in knowledge.ladder.rungs:
        if rung.id not in present:
            out.append(
                {
                    "rung": rung.id,
                    "service": None,
                    "offer": rung.id,
                    "method": _rung_method(rung.id, knowledge),
                    "runs": None,
                    "status": "not-evaluated",
                    "reasons": [
                        "no available service in the catalog offers this rung for the task"
                    ],
                    "cost": None,
                    "cost_note": "no catalog offer to price",
                }
            )
    ranks = [r.id for r in knowledge.ladder.rungs]
    return sorted(
        out,
        key=lambda o: (
            ranks.index(o["rung"]),
            STATUSES.index(o["status"]),
            o["service"] or "",
            o["offer"],
        ),
    )


def _cost(state: OptionState, knowledge: Knowledge, case: dict[str, Any],
          facts: dict[str, list[dict[str, Any]]], evidence: list[dict[str, Any]]
          ) -> dict[str, Any]:
    """CONTRACT section 9: the option's cost range, or why there is none. A benchmark row that
    measured the option's monthly cost replaces the running estimate (the build stays)."""
    if state.offer is None:
        return {"cost": None, "cost_note": "no catalog offer to price"}
    est = option_estimate(knowledge, state.offer, state.attrs.get("runs"), case,
                          int(state.attrs.get("labels_needed") or 0))
    candidates = {e["candidate"] for e in evidence}
    measured_rows = [r for r in facts.get("bench", []) if r.get("cost_usd_per_month") is not None
                     and r["candidate"] in candidates]
    if measured_rows:
        row = min(measured_rows, key=lambda r: r["cost_usd_per_month"])
        cost = measured(row["cost_usd_per_month"], row["candidate"])
        if est.cost is not None:
            cost["build_usd"] = est.cost["build_usd"]
            cost["basis"] += [b for b in est.cost["basis"] if b.startswith("build:")]
            cost["priced_on"] = est.cost["priced_on"]
        return {"cost": cost, "cost_note": None}
    if est.cost is None:
        return {"cost": None, "cost_note": est.note}
    # the price table's note is for its maintainers (what was confirmed where), not a reader
    return {"cost": dict(est.cost), "cost_note": None}


# The rejection cause (loading.CAUSES) of an option whose service takes no new projects.
AVAILABILITY_CAUSE = "availability"


def _closed_group(state: OptionState, status: str, knowledge: Knowledge) -> str | None:
    """The availability an option is shown under, in one line with the others ruled out for
    it (ladder.yaml closed_groups), or None for an option that keeps a row of its own."""
    service = knowledge.catalog.get(state.service)
    if status != "rejected" or AVAILABILITY_CAUSE not in state.causes or service is None:
        return None
    return service.availability if service.availability in knowledge.ladder.closed_groups \
        else None


def _closed_line(group: str, members: list[tuple[OptionState, dict[str, Any]]],
                 knowledge: Knowledge) -> dict[str, Any]:
    """One option entry for every option ruled out because its services have the availability
    `group`: its first reason is the line a ladder shows ("Retired: A (closed 2025-10-31), B
    (...)"), then what AWS points to instead of each; `members` keeps each option as it was."""
    ranks = [r.id for r in knowledge.ladder.rungs]
    services: dict[str, Any] = {}
    for state, _ in members:
        service = knowledge.catalog.get(state.service)
        if service is not None:
            services.setdefault(service.id, service)
    ordered = sorted(services.values(), key=lambda s: s.name)
    line = f"{knowledge.ladder.closed_groups[group]}: " + ", ".join(  # type: ignore[index]
        f"{s.name} ({s.closed_text()})" if s.closed_text() else s.name for s in ordered)
    instead = [f"instead of {s.name}: {' '.join(s.successor.split())}"
               for s in ordered if s.successor.strip()]
    rows = sorted(members, key=lambda m: (ranks.index(m[1]["rung"]), m[1]["service"] or "",
                                          m[1]["offer"]))
    return {
        "rung": rows[0][1]["rung"],
        "service": None,
        "offer": group,
        "method": None,
        "runs": None,
        "status": "rejected",
        "reasons": [line, *instead],
        "cost": None,
        "cost_note": "services that take no new projects are not priced",
        "group": group,
        "members": [{**entry, "service_name": services[entry["service"]].name,
                     "closed_on": services[entry["service"]].closed_on_text}
                    for _, entry in rows],
    }


def _evidence(state: OptionState, facts: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The benchmark rows that measured an option: those resolution counted (its serving path
    included), and rows of its rung, service and offer whose criteria were left unmeasured."""
    checks = facts.get("check", [])
    evidence = []
    for row in facts.get("bench", []):
        direct = row["rung"] == state.rung and all(
            not row.get(k) or row[k] == getattr(state, k) for k in ("service", "offer"))
        if not direct and row["candidate"] not in state.measured_by:
            continue
        evidence.append({
            "candidate": row["candidate"],
            "meets_all": row["meets_all"],
            "checks": [c for c in checks if c["candidate"] == row["candidate"]],
        })
    return evidence


class _Names:
    """How reasons name options: service name and method, plus the offer id where two options
    of the resolution would otherwise read the same."""

    def __init__(self, resolution: Resolution) -> None:
        labels = [option_label(o) for o in resolution.options]
        self.ambiguous = {label for label in labels if labels.count(label) > 1}

    def __call__(self, state: OptionState) -> str:
        label = option_label(state)
        return f"{label}, offer {state.offer}" if label in self.ambiguous and state.offer else label


def _reasons(state: OptionState, resolution: Resolution, knowledge: Knowledge,
             names: _Names) -> list[str]:
    """Why an option stands where it does: its rejections, else what supports, demotes and
    proves it, and how it compares with the selected option (never with itself, and never
    "simpler" when the selected one won by measurement)."""
    if state.rejected:
        return list(dict.fromkeys(state.rejected))
    reasons = (state.support + [f"not preferred: {r}" for r in state.demoted]
               + [f"meets every success criterion ({c})" for c in state.meets])
    chosen = resolution.selected
    if chosen is not None:
        reasons.append(_comparison(state, chosen, knowledge, names))
    return list(dict.fromkeys(r for r in reasons if r))


def _comparison(state: OptionState, chosen: OptionState, knowledge: Knowledge,
                names: _Names) -> str:
    if state is chosen:
        if chosen.fallback is not None:
            return (f"not measured yet: measure it before committing; "
                    f"{names(chosen.fallback)} is proven by measurement and is the fallback")
        if chosen.shortfall:
            return ("not measured yet, and every option measured fell short: measure it "
                    "before committing")
        return ""
    if state is chosen.fallback:
        return (f"proven by measurement: the fallback if {names(chosen)} falls short when "
                "measured")
    proven = chosen.fallback or chosen
    if proven.meets and not state.meets:
        if chosen.fallback is not None and measure_first(state, proven, knowledge.ladder):
            return f"viable, but {_preferred(chosen, state, knowledge, names)}"
        return _against_proven(state, proven, knowledge, names)
    if state.meets:
        return ("also meets every success criterion, but "
                + _preferred(proven, state, knowledge, names))
    return f"viable, but {_preferred(chosen, state, knowledge, names)}"


def _against_proven(state: OptionState, proven: OptionState, knowledge: Knowledge,
                    names: _Names) -> str:
    """An unmeasured option beside a proven one: why it is not the one to measure first."""
    ladder = knowledge.ladder
    if ladder.rank(state.rung) >= ladder.rank(proven.rung):
        return f"not measured; {names(proven)} is proven by measurement"
    if not state.demoted_by <= proven.demoted_by:
        why = "it carries reservations the proven option does not"
    elif not asks_no_more(state, proven, ladder):
        why = "trying it would take more effort than the proven option"
    else:
        why = "a simpler option was preferred"
    return (f"on a simpler rung but not measured, and {why}: {names(proven)} is proven by "
            "measurement")


def _preferred(chosen: OptionState, state: OptionState, knowledge: Knowledge,
               names: _Names) -> str:
    """Why the chosen option comes before this one on the ladder, in words."""
    ladder = knowledge.ladder
    if ladder.rank(chosen.rung) < ladder.rank(state.rung):
        return f"{names(chosen)} is on a simpler rung ({chosen.rung})"
    if chosen.demoted_by < state.demoted_by:
        return f"{names(chosen)} carries fewer reservations"
    if ladder.rank(chosen.rung) > ladder.rank(state.rung):
        return f"{names(chosen)} was preferred"
    for attr, values in ladder.tie_break.items():
        mine, theirs = chosen.attrs.get(attr), state.attrs.get(attr)
        if mine != theirs and mine in values:
            return (f"{names(chosen)} is preferred on the same rung ({attr} {mine} before "
                    f"{theirs or 'unknown'})")
    return f"{names(chosen)} is listed first on the same rung"


def _rung_method(rung: str, knowledge: Knowledge) -> str | None:
    """The method of an option that is no catalog offer (a fixed rule, or a rung nothing
    offers): the ladder's rung_methods, else none."""
    return knowledge.ladder.rung_methods.get(rung)  # type: ignore[call-overload]


def strategy_of(resolution: Resolution, knowledge: Knowledge,
                run: Run | None = None) -> dict[str, Any]:
    ladder = knowledge.ladder
    selected = resolution.selected
    if selected is None:
        return {"rung": ladder.fallback_rung, "service": None, "summary": ladder.fallback_summary}
    rung = next(r for r in ladder.rungs if r.id == selected.rung)
    service = knowledge.catalog.get(selected.service)
    how = " ".join(str(selected.attrs.get("how", "")).split())
    name = selected.attrs.get("service_name") or (service.name if service else "") \
        or selected.service or ""
    values = {"service_name": name, "how": how[:1].lower() + how[1:]}
    template = selected.attrs.get("summary") or rung.summary  # a rule's own, e.g. "Keep ..."
    parts = [template.format(**values)]
    runs = ladder.runs.get(str(selected.attrs.get("runs")))  # type: ignore[call-overload]
    if runs is not None and runs.route:
        parts.append(runs.route)
    parts.append(_measure_note(selected, ladder, name))
    parts.extend(courses_of(run) if run is not None else [])
    service_id = selected.service if runs is None or runs.names_service else None
    strategy: dict[str, Any] = {"rung": selected.rung, "service": service_id,
                                "summary": " ".join(" ".join(parts).split())}
    if selected.fallback is not None:
        fallback = selected.fallback
        strategy["fallback"] = {"rung": fallback.rung, "service": fallback.service,
                                "offer": fallback.offer or fallback.rung}
    return strategy


def _measure_note(selected: OptionState, ladder: Ladder, name: str) -> str:
    """What the strategy adds when the selected option is not measured but something was:
    the proven fallback behind it, or how the measured options fell short."""
    fallback = selected.fallback
    if fallback is not None and ladder.fallback_note:
        return ladder.fallback_note.format(
            selected_name=name or option_label(selected), fallback_name=option_label(fallback),
            fallback_rung=fallback.rung,
            fallback_candidate=", ".join(dict.fromkeys(fallback.meets)))
    if selected.shortfall and ladder.shortfall_note:
        return ladder.shortfall_note.format(selected_name=name or option_label(selected),
                                            shortfall="; ".join(selected.shortfall))
    return ""


def courses_of(run: Run) -> list[str]:
    """The `course` sentences of the rules that fired (a deployed project's repair, retraining
    or adjustment), each rule once, in the order their `after` lists give."""
    items: dict[str, str] = {}
    after: dict[str, list[str]] = {}
    for firing in run.firings:
        rule = firing.rule
        if rule.course and rule.id not in items:
            items[rule.id] = " ".join(fill(rule.course, firing.bindings).split())
            after[rule.id] = rule.after
    return in_order(sorted(items.items()), after)


def monitoring_plan_of(run: Run, knowledge: Knowledge | None = None,
                       resolution: Resolution | None = None) -> list[dict[str, Any]]:
    """One item per signal, the first rule's; each says where it runs (`runs_on`, and the
    catalog `services` that names), from knowledge/monitoring.yaml by its `where` and by where
    the selected model runs."""
    places = knowledge.monitoring if knowledge is not None else None
    selected = resolution.selected if resolution is not None else None
    runs = str(selected.attrs.get("runs")) if selected is not None else None
    plan: dict[str, dict[str, Any]] = {}
    for item in run.derived.get("monitor", []):
        plan.setdefault(item.get("signal", item["rule"]), item)
    out = []
    for item in plan.values():
        route = places.route(str(item.get("where")), runs) if places is not None else None
        if route is not None:
            item = {**item, "runs_on": " ".join(route.runs_on.split()),
                    "services": list(route.services)}
        out.append(item)
    return out


def actions_of(findings: list[dict[str, Any]],
               after: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """One action per text, in the findings' order except that an action comes after the
    actions of the rules its rule lists in `after` (repair a feed before retraining on it)."""
    items = [(f["rule"], f["action"]) for f in findings if f.get("action")]
    return list(dict.fromkeys(in_order(items, after or {})))


def after_of(rulebase: RuleBase) -> dict[str, list[str]]:
    return {rule.id: rule.after for rule in rulebase.rules if rule.after}


def in_order(items: Sequence[tuple[str, str]], after: Mapping[str, Sequence[str]]) -> list[str]:
    """The texts of (rule, text) items, stable, each placed after the items of the rules it
    must follow; a cycle (lint reports it) keeps the given order for the rest."""
    pending = list(items)
    out = []
    while pending:
        waiting = {rule for rule, _ in pending}
        index = next((i for i, (rule, _) in enumerate(pending)
                      if not waiting.intersection(after.get(rule, ()))), 0)
        out.append(pending.pop(index)[1])
    return out


def rulebase_ref(rulebase: RuleBase) -> dict[str, str]:
    return {"version": rulebase.version, "sha256": rulebase.sha256}


def catalog_ref(rulebase: RuleBase) -> dict[str, str]:
    """How current the service catalog a decision used is: the oldest and newest `checked`
    date of its services (reports show the span)."""
    span = rulebase.knowledge.catalog.checked_range()
    if span is None:
        return {}
    return {"checked_oldest": span[0].isoformat(), "checked_newest": span[1].isoformat()}
