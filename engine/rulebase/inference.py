"""Run one case through the rule base on durable_rules, recording what fired and why.

DESIGN.md's measured pitfalls shape this module: one Host per process with its timer threads
disabled; one ruleset per compiled rule base; a session per case, deleted afterwards; a sink rule
so that no fact goes unhandled; action errors re-raised; no absence tests (conditions are in
negation normal form); and actions deduplicated, because a rule with `any` fires once per
matching branch.
"""

from __future__ import annotations

import copy
import decimal
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.rulebase import conditions
from engine.rulebase.loading import CAUSES, DERIVED_TYPES, Rule, RuleBase
from engine.rulebase.resolve import (
    Resolution,
    outcome_fact,
    resolve_options,
    selection_fact,
    simpler_open,
)

TYPE_FIELD = "t"
ID_FIELD = "fid"
SINK = "__sink"
# Derived facts rules can match are asserted back into the session; the rest are only collected.
FED_BACK = ("option", "finding", "selection", "outcome")


@dataclass
class Firing:
    order: int
    rule: Rule
    bindings: dict[str, dict[str, Any]]
    asserted: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What one case produced: firings in order and every derived fact, by kind."""

    firings: list[Firing] = field(default_factory=list)
    derived: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)
    seen: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # fid -> dotted fields
    case: dict[str, Any] = field(default_factory=dict)  # the answers, for every rule's text
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # next round


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def plain(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact as rules and reports name its fields (dots restored, bookkeeping dropped)."""
    return {k.replace("__", "."): v for k, v in fact.items()
            if k not in (TYPE_FIELD, ID_FIELD, "sid")}


def fill(template: Any, bindings: dict[str, dict[str, Any]]) -> Any:
    """Substitute {path} placeholders from the matched facts; a lone placeholder keeps its type."""
    if isinstance(template, dict):
        return {k: fill(v, bindings) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, bindings) for v in template]
    if not isinstance(template, str):
        return template
    lone = _PLACEHOLDER.fullmatch(template)
    if lone:
        if lone.group(1) in bindings:  # "{offer}": every field of the bound fact
            return dict(bindings[lone.group(1)])
        value = conditions.lookup(bindings, lone.group(1), DERIVED_TYPES)
        return None if value is conditions._MISSING else value

    def sub(match: re.Match[str]) -> str:
        value = conditions.lookup(bindings, match.group(1), DERIVED_TYPES)
        if value is conditions._MISSING:
            return "(not given)"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    return _PLACEHOLDER.sub(sub, template)


class Compiled:
    """A rule base compiled into one durable_rules ruleset registered on the process's Host."""

    _counter = itertools.count(1)

    def __init__(self, rulebase: RuleBase) -> None:
        self.rulebase = rulebase
        self.rules = {r.id: r for r in rulebase.active()}
        self.name = f"mladvisor_{rulebase.sha256[:12]}_{next(self._counter)}"
        self.definition = self._definition()
        # durable_rules copies matched facts into every action's message as JSON: give it only
        # the fields some condition tests; actions read the full fact from Run.bodies.
        self.tested: dict[str, set[str]] = {}
        for rule in self.rules.values():
            for path in conditions.paths(rule.condition):
                alias, key = conditions.split_path(path, DERIVED_TYPES)
                self.tested.setdefault(alias, set()).add(conditions.field_name(key))
        host = _host()
        host.actions[self.name] = self._action
        host.register_rulesets(copy.deepcopy({self.name: self.definition}))
        self._sessions = itertools.count(1)
        self.current: Run | None = None

    def _definition(self) -> dict[str, Any]:
        ruleset: dict[str, Any] = {}
        for rule in self.rules.values():
            branches = conditions.compile_durable(rule.condition, DERIVED_TYPES, TYPE_FIELD)
            for index, patterns in enumerate(branches):
                name = rule.id if index == 0 else f"{rule.id}#{index + 1}"
                ruleset[name] = {"all": patterns, "run": f"{self.name}|{rule.id}"}
        # A fact no rule can match raises MessageNotHandled. The sink's first pattern accepts
        # every fact; its second can never match, so it never fires and costs no action.
        ruleset[SINK] = {"all": [{"m": {"$ex": {TYPE_FIELD: 1}}},
                                 {"never": {TYPE_FIELD: "__never__"}}],
                         "run": f"{self.name}|{SINK}"}
        return ruleset

    def _action(self, rule_id: str) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            if rule_id == SINK or self.current is None:
                return
            state = self.current
            try:
                matched = {alias: fact[ID_FIELD] for alias, fact in c._m.items()}
                key = (rule_id, tuple(sorted(matched.values())))
                if key in state.seen:
                    return
                state.seen.add(key)
                bindings = {alias: state.bodies[fid] for alias, fid in matched.items()}
                bindings.setdefault(conditions.CASE, state.case)  # text may name any answer
                firing = Firing(len(state.firings) + 1, self.rules[rule_id], bindings)
                state.firings.append(firing)
                for kind, fact in self._consequences(firing):
                    state.derived.setdefault(kind, []).append(fact)
                    firing.asserted.append(describe(kind, fact))
                    if kind in FED_BACK:
                        state.pending.append((kind, fact))
            except BaseException as error:  # durable swallows action errors: keep them
                state.errors.append(error)

        return run

    def _consequences(self, firing: Firing) -> list[tuple[str, dict[str, Any]]]:
        rule, then = firing.rule, firing.rule.then
        out: list[tuple[str, dict[str, Any]]] = []
        if then.finding:
            out.append(("finding", {"rule": rule.id, "phase": rule.phase,
                                    "severity": rule.severity}))
        for kind in ("option", "reject", "demote", "meets", "monitor"):
            template = getattr(then, kind)
            if template is not None:
                body = fill(template, firing.bindings)
                if not isinstance(body, dict):
                    raise TypeError(f"{rule.id}: then.{kind} must give a mapping")
                body["rule"] = rule.id
                if kind == "option" and rule.summary:  # formatted only once selected
                    body["summary"] = rule.summary
                out.append((kind, body))
        if then.verdict:
            out.append(("verdict", {"verdict": then.verdict, "rule": rule.id}))
        return out

    def _fact(self, kind: str, body: dict[str, Any], state: Run) -> dict[str, Any]:
        tested = self.tested.get(kind, set())
        fact = {name: v for k, v in body.items()
                if v is not None and (name := conditions.field_name(k)) in tested}
        fact[TYPE_FIELD] = kind
        fact[ID_FIELD] = fid = f"{kind}{len(state.bodies) + 1}"
        state.facts.setdefault(kind, []).append(fact)
        state.bodies[fid] = {k: v for k, v in body.items() if v is not None}
        if kind == conditions.CASE:
            state.case = state.bodies[fid]
        return fact

    def start(self) -> Session:
        return Session(self, str(next(self._sessions)))


class Session:
    """One case's working memory; always closed, so sessions never pile up (limit: 1,024).

    Sessions run one at a time per process: durable_rules is not safe across threads (DESIGN.md
    saw segfaults), and actions report to the one current Run. A web server's worker threads
    therefore queue here; parallelism comes from processes.
    """

    def __init__(self, compiled: Compiled, sid: str) -> None:
        self.compiled = compiled
        self.sid = sid
        self.run = Run()

    def __enter__(self) -> Session:
        _LOCK.acquire()
        self.compiled.current = self.run
        return self

    def __exit__(self, *exc: object) -> None:
        self.compiled.current = None
        try:
            _host().delete_state(self.compiled.name, self.sid)
        except Exception:  # noqa: BLE001 - a session with no state is fine to lose
            pass
        finally:
            _LOCK.release()

    def assert_facts(self, facts_by_kind: dict[str, list[dict[str, Any]]]) -> None:
        """Assert a batch, then the facts its actions derived, round by round, until quiet.

        Batching a round into one call saves a round trip into durable_rules per derived fact.
        """
        batch = [(kind, body) for kind, bodies in facts_by_kind.items() for body in bodies]
        while batch:
            facts = []
            for kind, body in batch:
                fact = self.compiled._fact(kind, body, self.run)
                fact["sid"] = self.sid
                facts.append(fact)
            _host().assert_facts(self.compiled.name, facts)
            if self.run.errors:
                raise self.run.errors[0]
            batch, self.run.pending = self.run.pending, []


def describe(kind: str, fact: dict[str, Any]) -> str:
    if kind == "finding":
        return f"finding {fact['rule']} ({fact['severity']})"
    if kind == "verdict":
        return f"verdict {fact['verdict']}"
    if kind == "monitor":
        return f"monitor {fact.get('signal', '')}"
    target = "/".join(str(fact.get(k)) for k in ("rung", "service") if fact.get(k))
    return f"{kind} {target}".strip()


# ---------------------------------------------------------------- what crosses into the C core

# Exponent notation, or a run of digits long enough to overflow the core's 64-bit integers.
_RISKY = re.compile(r"[0-9]e[-+]?[0-9]|[0-9]{16}")
_EXACT = 2**53  # integers up to here are exact as doubles too


def wire_json(value: Any, **_: Any) -> str:
    """JSON for durable_rules' C core, whose number parser crashes (SIGSEGV) or misreads a
    number written in exponent notation (Python writes 5e-05 and 1e+16 that way) and wraps
    integers past 64 bits. Every such number is written as a positional decimal with a point
    (0.00005, 10000000000000000.0), which the core reads as the same double; NaN and
    infinities are refused before they reach it."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if _RISKY.search(text) is None:  # the usual case: nothing to rewrite
        return text
    return _positional(value)


def _positional(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _EXACT:
        value = float(value)
    if isinstance(value, float):
        text = format(decimal.Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_positional(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_positional(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class _WireCodec:
    """Stands in for the json module inside durable.engine: our writer, the standard reader."""

    dumps = staticmethod(wire_json)
    loads = staticmethod(json.loads)


# ---------------------------------------------------------------- the process's one Host

_HOST: Any = None
_LOCK = threading.RLock()


def _host() -> Any:
    """A durable_rules Host without its background timer threads (they run actions late)."""
    global _HOST
    if _HOST is None:
        import durable.engine
        from durable.engine import Host

        durable.engine.json = _WireCodec  # every ruleset, fact and state goes through wire_json

        class QuietHost(Host):
            def __init__(self) -> None:
                self.actions: dict[str, Callable[[str], Callable[[Any], None]]] = {}
                super().__init__()

            def _run(self) -> None:  # no timers: every action runs inside assert_facts
                return None

            def get_action(self, action_name: str) -> Callable[[Any], None]:
                ruleset, _, rule_id = action_name.partition("|")
                return self.actions[ruleset](rule_id)

        _HOST = QuietHost()
    return _HOST


_COMPILED: dict[int, Compiled] = {}


def compiled_for(rulebase: RuleBase) -> Compiled:
    """Compile each RuleBase object once per process (durable cannot unregister a ruleset)."""
    key = id(rulebase)
    with _LOCK:
        if key not in _COMPILED:
            _COMPILED[key] = Compiled(rulebase)
        return _COMPILED[key]


def infer_case(rulebase: RuleBase, case: dict[str, Any],
               facts: dict[str, list[dict[str, Any]]]) -> tuple[Run, Resolution]:
    """Run one case in two rounds, in one session: the case, its evidence facts and the catalog
    offers it admits until no rule fires; then the options are resolved, and the outcome (and
    the selected option, if any) is asserted for the rules that judge the resolution."""
    with compiled_for(rulebase).start() as session:
        session.assert_facts({"case": [case], **facts, "offer": rulebase.offers_for(case)})
        resolution = resolve_options(session.run.derived, rulebase.knowledge)
        # a verdict that withholds the strategy (not-ready) leaves no selection to judge
        withheld = any(v["verdict"] in rulebase.knowledge.ladder.withhold_strategy
                       for v in session.run.derived.get("verdict", []))
        stage_two = {"outcome": [outcome_fact(resolution, CAUSES) | {"withheld": withheld}]}
        if resolution.selected is not None and not withheld:
            stage_two["selection"] = [selection_fact(resolution.selected) | {
                "simpler_open": simpler_open(resolution, rulebase.knowledge.ladder)}]
        session.assert_facts(stage_two)
        return session.run, resolution
