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
from engine.rulebase.inference import Run, fill
from engine.rulebase.knowledge import Knowledge
from engine.rulebase.loading import DERIVED_TYPES, RuleBase
from engine.rulebase.resolve import Resolution


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
        "options": options_of(resolution, facts, knowledge, withhold),
        "trace": trace_of(run),
        "rulebase": rulebase_ref(rulebase),
        "input_sha256": input_sha256,
        "engine_version": __version__,
        "project": loaded.answers.project.model_dump(mode="json"),
        "input": {"answers": effective_answers(loaded), "defaulted": loaded.defaulted,
                  "benchmarks": benchmarks, "drift": drift},
        "monitoring_plan": monitoring_plan_of(run),
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
) -> list[dict[str, Any]]:
    checks = facts.get("check", [])
    out = []
    for state in resolution.options:
        status = state.status
        if status == "selected" and withhold_selection:
            status = "eligible"
        reasons = list(
            dict.fromkeys(
                state.rejected
                if state.rejected
                else state.support
                + [f"not preferred: {r}" for r in state.demoted]
                + [f"meets every success criterion ({c})" for c in state.meets]
            )
        )
        if status == "eligible" and not reasons and resolution.selected is not None:
            chosen = resolution.selected
            reasons = [
                f"viable, but {chosen.service or chosen.rung} ({chosen.rung}) is simpler "
                "or preferred"
            ]
        evidence = []
        for row in facts.get("bench", []):
            if row["rung"] != state.rung or (
                row.get("service") and row["service"] != state.service
            ):
                continue
            evidence.append(
                {
                    "candidate": row["candidate"],
                    "meets_all": row["meets_all"],
                    "checks": [c for c in checks if c["candidate"] == row["candidate"]],
                }
            )
        entry: dict[str, Any] = {
            "rung": state.rung,
            "service": state.service,
            "offer": state.offer or state.rung,
            "method": state.attrs.get("method") or _rung_method(state.rung, knowledge),
            "runs": state.attrs.get("runs"),
            "status": status,
            "reasons": reasons,
        }
        if state.attrs.get("how"):
            entry["how"] = " ".join(str(state.attrs["how"]).split())
        if evidence:
            entry["evidence"] = evidence
        out.append(entry)
    present = {o["rung"] for o in out}
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
    values = {
        "service_name": service.name if service else selected.service or "",
        "how": how[:1].lower() + how[1:],
    }
    template = selected.attrs.get("summary") or rung.summary  # a rule's own, e.g. "Keep ..."
    summary = " ".join(template.format(**values).split())
    runs = ladder.runs.get(str(selected.attrs.get("runs")))  # type: ignore[call-overload]
    if runs is not None and runs.route:
        summary = f"{summary} {' '.join(runs.route.split())}"
    course = courses_of(run) if run is not None else []
    return {"rung": selected.rung, "service": selected.service,
            "summary": " ".join([summary, *course])}


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


def monitoring_plan_of(run: Run) -> list[dict[str, Any]]:
    plan: dict[str, dict[str, Any]] = {}
    for item in run.derived.get("monitor", []):
        plan.setdefault(item.get("signal", item["rule"]), item)
    return list(plan.values())


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
