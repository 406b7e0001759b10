"""Conflict resolution: from the facts rules derived to option statuses, strategy and verdict.

This is the generic part of the ladder, like salience in a production system: rules propose
options, reject or demote them, and record evidence that one meets every success criterion;
resolution picks the simplest rung that evidence supports, else the simplest option nothing
rejected or demoted. Which rungs exist, their order, tie-breaks and verdict precedence all come
from knowledge/ladder.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.rulebase.knowledge import Knowledge

Key = tuple[
    str, str | None, str | None
]  # rung, service, offer (one service may offer a rung twice)


@dataclass
class OptionState:
    rung: str
    service: str | None
    offer: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    meets: list[str] = field(default_factory=list)  # candidates meeting every criterion
    missed: list[str] = field(default_factory=list)  # measured misses, outweighed by a pass
    causes: set[str] = field(default_factory=set)  # why it was rejected (rulebase.CAUSES)
    status: str = "eligible"

    @property
    def key(self) -> Key:
        return self.rung, self.service, self.offer


@dataclass
class Resolution:
    options: list[OptionState]
    selected: OptionState | None


def _targets(spec: dict[str, Any], options: dict[Key, OptionState]) -> list[OptionState]:
    """The options a reject/demote/meets names: a rung and, optionally, a service and an offer."""
    rung, service, offer = spec.get("rung"), spec.get("service"), spec.get("offer")
    return [
        o
        for o in options.values()
        if o.rung == rung
        and (service in (None, "", "*") or o.service == service)
        and (offer in (None, "") or o.offer == offer)
    ]


_NOT_ATTRIBUTES = ("rung", "service", "offer", "rule", "reason")


def _propose(derived: dict[str, list[dict[str, Any]]]) -> dict[Key, OptionState]:
    options: dict[Key, OptionState] = {}
    for fact in derived.get("option", []):
        key = (fact["rung"], fact.get("service"), fact.get("offer"))
        state = options.setdefault(key, OptionState(*key))
        state.attrs.update({k: v for k, v in fact.items() if k not in _NOT_ATTRIBUTES})
        if fact.get("reason"):
            state.support.append(fact["reason"])
    return options


def _reject(facts: list[dict[str, Any]], options: dict[Key, OptionState]) -> None:
    """A measured miss is kept apart: a pass of the same option outweighs it."""
    for fact in facts:
        targets = _targets(fact, options)
        if not targets:  # a rung rejected before any option was proposed still shows why
            key = (fact["rung"], fact.get("service") or None, fact.get("offer") or None)
            targets = [options.setdefault(key, OptionState(*key))]
        reason = fact.get("reason", fact["rule"])
        for state in targets:
            if fact.get("cause") == "evidence":
                state.missed.append(reason)
            else:
                state.rejected.append(reason)
                state.causes.add(fact.get("cause") or "other")


def _ladder_order(knowledge: Knowledge) -> Callable[[OptionState], tuple[Any, ...]]:
    """Simplest rung first, then the ladder's tie-breaks, then catalog order and ids."""
    ladder = knowledge.ladder

    def order(state: OptionState) -> tuple[Any, ...]:
        keys: list[Any] = [ladder.rank(state.rung)]
        for attr, values in ladder.tie_break.items():
            value = state.attrs.get(attr)
            keys.append(values.index(value) if value in values else len(values))
        keys.append(state.attrs.get("catalog_order", 0))
        keys.append(state.service or "")
        keys.append(state.offer or "")
        return tuple(keys)

    return order


def resolve_options(derived: dict[str, list[dict[str, Any]]], knowledge: Knowledge) -> Resolution:
    options = _propose(derived)
    _reject(derived.get("reject", []), options)
    for fact in derived.get("demote", []):
        for state in _targets(fact, options):
            state.demoted.append(fact.get("reason", fact["rule"]))
    for fact in derived.get("meets", []):
        for state in _targets(fact, options):
            state.meets.append(str(fact.get("candidate") or fact["rule"]))
    order = _ladder_order(knowledge)
    for state in options.values():
        if state.missed and not state.meets:  # a measured miss rules out, unless a pass exists
            state.rejected.extend(state.missed)
            state.causes.add("evidence")
    alive = sorted((o for o in options.values() if not o.rejected), key=order)
    proven = [o for o in alive if o.meets]
    clear = [o for o in alive if not o.demoted]
    pool = proven or clear or alive
    selected = pool[0] if pool else None
    for state in options.values():
        state.status = "rejected" if state.rejected else "eligible"
    if selected is not None:
        selected.status = "selected"
    return Resolution(sorted(options.values(), key=order), selected)


def outcome_fact(resolution: Resolution, causes: tuple[str, ...]) -> dict[str, Any]:
    """Whether anything was selected, and how many options each cause alone ruled out (an
    option rejected for several causes counts for none: no single fix would revive it)."""
    fact: dict[str, Any] = {"selected": resolution.selected is not None}
    for cause in causes:
        fact[f"rejected_by_{cause}"] = sum(o.causes == {cause} for o in resolution.options)
    return fact


def selection_fact(selected: OptionState) -> dict[str, Any]:
    fact = {
        "rung": selected.rung,
        "service": selected.service,
        "offer": selected.offer,
        "evidence": bool(selected.meets),
    }
    for attr in ("service_name", "kind", "method", "runs", "cost_tier", "effort", "labels_needed",
                 "labels_basis", "explainable", "sector_fit"):
        if attr in selected.attrs:
            fact[attr] = selected.attrs[attr]
    return fact


def resolve_verdict(derived: dict[str, list[dict[str, Any]]], knowledge: Knowledge) -> str:
    proposed = {fact["verdict"] for fact in derived.get("verdict", [])}
    for verdict in knowledge.ladder.verdict_precedence:
        if verdict in proposed:
            return verdict
    return knowledge.ladder.default_verdict
