"""The decision document (mladvisor.decision/1): its model and how it is assembled.

Assembly sorts everything it emits, so the same input and rule base give the same bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.model.vocab import Phase, Rung, Severity, Verdict
from engine.rulebase import conditions
from engine.rulebase.inference import Run, fill
from engine.rulebase.knowledge import Knowledge
from engine.rulebase.loading import DERIVED_TYPES, RuleBase
from engine.rulebase.resolve import Resolution

DECISION_SCHEMA = "mladvisor.decision/1"


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Strategy(Open):
    rung: Rung
    service: str | None
    summary: str


class Finding(Open):
    rule: str
    phase: Phase
    severity: Severity
    title: str
    rationale: str
    facts: dict[str, Any]
    guidance: str


class Option(Open):
    rung: Rung
    service: str | None
    status: Literal["selected", "eligible", "rejected", "not-evaluated"]
    reasons: list[str]


class TraceEntry(Open):
    rule: str
    matched: dict[str, Any]
    asserted: list[str]


class Decision(Open):
    schema_: Literal["mladvisor.decision/1"] = Field(alias="schema")
    assessment_id: str
    verdict: Verdict
    strategy: Strategy | None
    findings: list[Finding]
    options: list[Option]
    trace: list[TraceEntry]
    rulebase: dict[str, str]
    input_sha256: str


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
            "status": status,
            "reasons": reasons,
        }
        if state.attrs.get("method"):
            entry["method"] = " ".join(str(state.attrs["method"]).split())
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
                    "status": "not-evaluated",
                    "reasons": [
                        "no available service in the catalog offers this rung for the task"
                    ],
                }
            )
    ranks = [r.id for r in knowledge.ladder.rungs]
    statuses = ["selected", "eligible", "rejected", "not-evaluated"]
    return sorted(
        out,
        key=lambda o: (
            ranks.index(o["rung"]),
            statuses.index(o["status"]),
            o["service"] or "",
            o.get("method", ""),
        ),
    )


def strategy_of(resolution: Resolution, knowledge: Knowledge) -> dict[str, Any]:
    ladder = knowledge.ladder
    selected = resolution.selected
    if selected is None:
        return {"rung": ladder.fallback_rung, "service": None, "summary": ladder.fallback_summary}
    rung = next(r for r in ladder.rungs if r.id == selected.rung)
    service = knowledge.catalog.get(selected.service)
    method = " ".join(str(selected.attrs.get("method", "")).split()).rstrip(".")
    values = {
        "service_name": service.name if service else "",
        "method": method[:1].lower() + method[1:],
    }
    summary = " ".join(rung.summary.format(**values).split())
    return {"rung": selected.rung, "service": selected.service, "summary": summary}


def monitoring_plan_of(run: Run) -> list[dict[str, Any]]:
    plan: dict[str, dict[str, Any]] = {}
    for item in run.derived.get("monitor", []):
        plan.setdefault(item.get("signal", item["rule"]), item)
    return list(plan.values())


def actions_of(findings: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(f["action"] for f in findings if f.get("action")))


def rulebase_ref(rulebase: RuleBase) -> dict[str, str]:
    return {"version": rulebase.version, "sha256": rulebase.sha256}
