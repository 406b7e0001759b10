"""Conflict resolution: from the facts rules derived to option statuses, strategy and verdict.

This is the generic part of the ladder, like salience in a production system: rules propose
options, reject or demote them, and record evidence that one meets every success criterion;
resolution picks the simplest option nothing rejected, preferring evidence over assumptions but
never letting a measured pass higher up silently skip a simpler option nobody measured. Which
rungs exist, their order, tie-breaks and verdict precedence all come from knowledge/ladder.yaml.

Measured: a benchmark row measures the options of its rung, of its service and offer when it
names them, and every option that shares a serving path with one of those (the same model
served another way is no independent escape from a miss). Rules mark a fact as measured by
giving it the row's `candidate`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.rulebase.knowledge import Knowledge, Ladder
from engine.rulebase.loading import SELECTION_ATTRS

Key = tuple[
    str, str | None, str | None
]  # rung, service, offer (one service may offer a rung twice)


@dataclass(eq=False)
class OptionState:
    rung: str
    service: str | None
    offer: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)
    demoted_by: set[str] = field(default_factory=set)  # the rules that demoted it
    support: list[str] = field(default_factory=list)
    meets: list[str] = field(default_factory=list)  # candidates meeting every criterion
    missed: list[str] = field(default_factory=list)  # measured misses, outweighed by a pass
    measured_by: list[str] = field(default_factory=list)  # benchmark rows that judged it
    causes: set[str] = field(default_factory=set)  # why it was rejected (rulebase.CAUSES)
    status: str = "eligible"
    fallback: OptionState | None = None  # selected unmeasured: the proven option behind it
    shortfall: list[str] = field(default_factory=list)  # selected unmeasured: measured misses

    @property
    def key(self) -> Key:
        return self.rung, self.service, self.offer

    @property
    def measured(self) -> bool:
        return bool(self.measured_by)


@dataclass
class Resolution:
    options: list[OptionState]
    selected: OptionState | None


def _targets(spec: dict[str, Any], options: dict[Key, OptionState]) -> list[OptionState]:
    """The options a reject/demote/meets names: a rung and, optionally, a service and an offer;
    for a measurement (it names a candidate), also the options sharing their serving path."""
    rung, service, offer = spec.get("rung"), spec.get("service"), spec.get("offer")
    direct = [
        o
        for o in options.values()
        if o.rung == rung
        and (service in (None, "", "*") or o.service == service)
        and (offer in (None, "") or o.offer == offer)
    ]
    if not spec.get("candidate"):
        return direct
    paths = {o.attrs.get("serving_path") for o in direct} - {None}
    peers = [o for o in options.values()
             if o not in direct and o.attrs.get("serving_path") in paths]
    return direct + peers


_NOT_ATTRIBUTES = ("rung", "service", "offer", "rule", "reason")


def _propose(derived: dict[str, list[dict[str, Any]]]) -> dict[Key, OptionState]:
    options: dict[Key, OptionState] = {}
    for fact in derived.get("option", []):
        key = (fact["rung"], fact.get("service"), fact.get("offer"))
        state = options.get(key)
        if state is None:
            state = options[key] = OptionState(*key)
        # the fact's fields but those naming the option, in its order (attrs never hold those)
        state.attrs.update(fact)
        for name in _NOT_ATTRIBUTES:
            state.attrs.pop(name, None)
        if fact.get("reason"):
            state.support.append(fact["reason"])
    return options


def _shared(reason: str, state: OptionState, direct: bool) -> str:
    """A measurement's reason as an option that shares the measured one's serving path reads it."""
    if direct:
        return reason
    return f"{reason} (the same model: serving path {state.attrs.get('serving_path')})"


def _reject(facts: list[dict[str, Any]], options: dict[Key, OptionState]) -> None:
    """A measured miss is kept apart: a pass of the same option outweighs it."""
    for fact in facts:
        targets = _targets(fact, options)
        if not targets:  # a rung rejected before any option was proposed still shows why
            key = (fact["rung"], fact.get("service") or None, fact.get("offer") or None)
            targets = [options.setdefault(key, OptionState(*key))]
            direct = _targets({**fact, "candidate": None}, options)
        else:  # without a candidate, the targets are the direct ones
            direct = _targets({**fact, "candidate": None}, options) if fact.get(
                "candidate") else targets
        reason = fact.get("reason", fact["rule"])
        for state in targets:
            text = _shared(reason, state, state in direct or not direct)
            if fact.get("candidate"):
                state.measured_by.append(str(fact["candidate"]))
            if fact.get("cause") == "evidence":
                state.missed.append(text)
            else:
                state.rejected.append(text)
                state.causes.add(fact.get("cause") or "other")


def _demote_and_meet(derived: dict[str, list[dict[str, Any]]],
                     options: dict[Key, OptionState]) -> None:
    for fact in derived.get("demote", []):
        for state in _targets(fact, options):
            state.demoted.append(fact.get("reason", fact["rule"]))
            state.demoted_by.add(fact["rule"])
    for fact in derived.get("meets", []):
        for state in _targets(fact, options):
            candidate = str(fact.get("candidate") or fact["rule"])
            state.meets.append(candidate)
            state.measured_by.append(candidate)


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


def _undominated(options: list[OptionState]) -> list[OptionState]:
    """Options no other one beats on reservations: B is set aside when another option is
    demoted by a strict subset of the rules that demote B. With a clear option this leaves
    exactly the clear ones; when every option carries a reservation shared by all (say, none
    explains its predictions), the ones with fewer reservations besides it remain."""
    return [o for o in options if not any(p.demoted_by < o.demoted_by for p in options)]


def asks_no_more(option: OptionState, proven: OptionState, ladder: Ladder) -> bool:
    """Whether trying the option first costs no more than the proven one does, on each
    attribute the ladder names (values ordered as in its tie-breaks; unknown asks nothing)."""
    for attr in ladder.measure_first_within:
        values = ladder.tie_break.get(attr, [])
        mine, theirs = option.attrs.get(attr), proven.attrs.get(attr)
        if mine in values and theirs in values and values.index(mine) > values.index(theirs):
            return False
    return True


def measure_first(option: OptionState, proven: OptionState, ladder: Ladder) -> bool:
    """An unmeasured option below a proven one that should be measured before committing: on a
    lower rung, with no reservation the proven option does not share, asking no more effort."""
    return (not option.measured
            and ladder.rank(option.rung) < ladder.rank(proven.rung)
            and option.demoted_by <= proven.demoted_by
            and asks_no_more(option, proven, ladder))


def _choose(alive: list[OptionState], ladder: Ladder) -> OptionState | None:
    """The simplest proven option, unless a simpler unmeasured one should be measured first
    (then it is chosen, with the proven one as its fallback); without a proven option, the
    simplest option with the fewest reservations."""
    proven = [o for o in alive if o.meets]
    if not proven:
        pool = _undominated(alive)
        return pool[0] if pool else None
    # a benchmark row naming a rung and service proves every offer of it: the one with the
    # fewest reservations is the one proven (a retailer's pilot over its product sheets proves
    # the knowledge base, not the fine-tune the grounding rule demotes)
    best = _undominated(proven)[0]
    simpler = _undominated([o for o in alive if measure_first(o, best, ladder)])
    if not simpler:
        return best
    simpler[0].fallback = best
    return simpler[0]


def _preferred_first(alive: list[OptionState]) -> list[OptionState]:
    """Options a rule marks `prefer` (a deployed project's running solution and the ways to
    adjust it) are the only pool while one of them stands; the rest are alternatives."""
    preferred = [o for o in alive if o.attrs.get("prefer")]
    return preferred or alive


def _known_by_service(options: dict[Key, OptionState], knowledge: Knowledge) -> None:
    """A running solution named by an offer id the catalog lacks (answers carry the
    stakeholder's guess) is known by its service: its name, and the fields of the service's
    one offer on the same rung for the task (its method, where it runs), where there is one."""
    offers = knowledge.catalog.offer_ids
    for state in options.values():
        if state.offer in offers:
            continue
        service = knowledge.catalog.get(state.service)
        if service is None:
            continue
        state.attrs.setdefault("service_name", service.name)
        siblings = [o for o in options.values() if o is not state and o.offer in offers
                    and (o.rung, o.service) == (state.rung, state.service)]
        if len(siblings) == 1:
            for key, value in siblings[0].attrs.items():
                if key not in OWN_ATTRS:
                    state.attrs.setdefault(key, value)


# What an option says of itself, never inherited from a sibling offer (resolve._known_by_service).
OWN_ATTRS = ("current", "prefer", "summary", "serving_path", "offer")


def resolve_options(derived: dict[str, list[dict[str, Any]]], knowledge: Knowledge) -> Resolution:
    options = _propose(derived)
    _known_by_service(options, knowledge)
    _reject(derived.get("reject", []), options)
    _demote_and_meet(derived, options)
    # an option's place on the ladder is fixed by now: work it out once for the three sorts
    order = dict(zip(options.values(), map(_ladder_order(knowledge), options.values()),
                     strict=True)).__getitem__
    for state in options.values():
        if state.missed and not state.meets:  # a measured miss rules out, unless a pass exists
            state.rejected.extend(state.missed)
            state.causes.add("evidence")
    alive = _preferred_first(sorted((o for o in options.values() if not o.rejected), key=order))
    selected = _choose(alive, knowledge.ladder)
    for state in options.values():
        state.status = "rejected" if state.rejected else "eligible"
    if selected is not None:
        selected.status = "selected"
        if not selected.meets:
            ordered = sorted(options.values(), key=order)
            selected.shortfall = list(dict.fromkeys(
                r for o in ordered if "evidence" in o.causes for r in o.missed))
    return Resolution(sorted(options.values(), key=order), selected)


def outcome_fact(resolution: Resolution, causes: tuple[str, ...]) -> dict[str, Any]:
    """Whether anything was selected, and how many options each cause alone ruled out (an
    option rejected for several causes counts for none: no single fix would revive it)."""
    fact: dict[str, Any] = {"selected": resolution.selected is not None}
    alone = Counter(cause for o in resolution.options if len(o.causes) == 1
                    for cause in o.causes)
    for cause in causes:
        fact[f"rejected_by_{cause}"] = alone[cause]
    return fact


def simpler_open(resolution: Resolution, ladder: Ladder) -> int:
    """How many options on rungs below the selected one nothing ruled out: the simpler paths a
    measurement could still prove or dismiss (none when constraints closed every one)."""
    selected = resolution.selected
    if selected is None:
        return 0
    rank = ladder.rank(selected.rung)
    return sum(1 for o in resolution.options
               if not o.rejected and ladder.rank(o.rung) < rank)


def selection_fact(selected: OptionState, bench: list[dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """What rules may say of the selected option: its offer's fields, whether a benchmark row
    measured it, the proven fallback behind an unmeasured choice, how measured options fell
    short, and its reservations (demotions) when no clear option was left. A monthly cost a
    benchmark row measured for it replaces the estimate's range, as in the decision's cost."""
    fact: dict[str, Any] = {
        "rung": selected.rung,
        "service": selected.service,
        "offer": selected.offer,
        "evidence": bool(selected.meets),
        "measured": selected.measured,
        "demoted": len(selected.demoted),
        "fell_short": len(selected.shortfall),
        "current": bool(selected.attrs.get("current")),  # the solution that runs today
    }
    for attr in SELECTION_ATTRS:
        if attr in selected.attrs:
            fact[attr] = selected.attrs[attr]
    costs = [r["cost_usd_per_month"] for r in bench or []
             if r.get("candidate") in selected.measured_by
             and r.get("cost_usd_per_month") is not None]
    if costs:
        fact.update(cost_priced=True, cost_low=min(costs), cost_high=min(costs),
                    cost_measured=True)
    if selected.demoted:
        fact["reservations"] = "; ".join(dict.fromkeys(selected.demoted))
    if selected.shortfall:
        fact["shortfall"] = "; ".join(selected.shortfall)
    fallback = selected.fallback
    if fallback is not None:
        fact.update({
            "fallback": fallback.offer or fallback.rung,
            "fallback_rung": fallback.rung,
            "fallback_service": fallback.service,
            "fallback_name": option_label(fallback),
            "fallback_candidate": ", ".join(dict.fromkeys(fallback.meets)),
        })
    return {k: v for k, v in fact.items() if v is not None}


def option_label(state: OptionState) -> str:
    """How prose names an option: its service's name and what the team does with it."""
    name = state.attrs.get("service_name") or state.service or state.rung
    method = state.attrs.get("method")
    return f"{name} ({method})" if method else str(name)


def resolve_verdict(derived: dict[str, list[dict[str, Any]]], knowledge: Knowledge) -> str:
    proposed = {fact["verdict"] for fact in derived.get("verdict", [])}
    for verdict in knowledge.ladder.verdict_precedence:
        if verdict in proposed:
            return verdict
    return knowledge.ladder.default_verdict
