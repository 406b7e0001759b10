"""Run one case through the rule base on durable_rules, recording what fired and why.

DESIGN.md's measured pitfalls shape this module: one Host per process with its timer threads
disabled; one ruleset per compiled rule base; a session per case, emptied afterwards; no absence
tests (conditions are in negation normal form); activations deduplicated, because a rule with
`any` fires once per matching branch; every number reaching the C core written positionally.

Sessions drive the C core themselves (Session._round) rather than through durable's Python
Host, which is only used to register rulesets. Measured on generated cases (bench_engine.py),
most of the time went to that driver: a closure per activation, the session state written back
as JSON after each one, and every activation's matched facts parsed from JSON. So facts start
with an id naming their type (an activation's facts are found by a pattern, not a parse), and
a fact no rule can match is simply not kept by the core: the sink rule that the Host needed
(it raised on such a fact and left the batch's actions for later) is gone, and such a fact is
not even sent (Compiled.takes). A finished session is emptied by retracting its facts and
serves the next case (Compiled.release): creating a session costs the core more than a case's
facts do.
"""

from __future__ import annotations

import copy
import decimal
import itertools
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.model.decision import TRACE_VERDICT
from engine.rulebase import conditions
from engine.rulebase.loading import CAUSES, DERIVED_TYPES, Rule, RuleBase
from engine.rulebase.resolve import (
    Resolution,
    outcome_fact,
    resolve_options,
    selection_fact,
    simpler_open,
)
from engine.rulebase.templates import Template, compile_template

TYPE_FIELD = "t"
# The core takes a fact's "id" as its identity: it need not hash every field for one, and a fact
# is retracted by its id and session alone (Compiled.release), not by its whole text reparsed.
ID_FIELD = "id"
# Derived facts rules can match are asserted back into the session; the rest are only collected.
FED_BACK = ("option", "finding", "selection", "outcome")
THEN = ("option", "reject", "demote", "meets", "monitor")  # templated facts, in assertion order


@dataclass(slots=True)
class Firing:
    order: int
    rule: Rule
    bindings: dict[str, dict[str, Any]]
    asserted: list[str] = field(default_factory=list)


Consequence = tuple[str, dict[str, Any], str]  # kind, fact, how the trace describes it


class Plan(NamedTuple):
    """What a firing of one durable rule does, worked out once: the rule, its finding and
    verdict (the same on every firing) and its templated facts in assertion order."""

    rule: Rule
    finding: Consequence | None
    templates: list[tuple[str, Template]]
    verdict: Consequence | None


class Wire(NamedTuple):
    """One fact ready for a session: its tested fields as the core sees them (`fact`), every
    field as actions read them (`body`), and its JSON around the session id. (A tuple: some
    thirty are made per case, and a frozen dataclass is several times slower to make.)"""

    fact: dict[str, Any]
    body: dict[str, Any]
    head: str  # the JSON up to the session id
    tail: str  # and after it


@dataclass
class Run:
    """What one case produced: firings in order and every derived fact, by kind."""

    firings: list[Firing] = field(default_factory=list)
    derived: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)
    seen: set[tuple[str, ...]] = field(default_factory=set)  # rule id and matched fact ids
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # fid -> dotted fields
    case: dict[str, Any] = field(default_factory=dict)  # the answers, for every rule's text
    # the next round: kind, fact, and the fact it copies if it is the same on every firing
    pending: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = field(
        default_factory=list)


# An activation as the core writes it: {"rule id#n":{"offer":{"id": "offer3", ...},"case":...}},
# each fact's text exactly as it was asserted. A fact starts with its id, which starts with its
# type, the alias a rule binds it to.
_FACT_AT = f'":{{"{ID_FIELD}": "'  # between an alias and its fact's id


def plain(fact: dict[str, Any]) -> dict[str, Any]:
    """A fact as rules and reports name its fields (wire names undone, bookkeeping dropped)."""
    keys = _WIRE_KEYS
    return {keys.get(k) or k.replace("__", "."): v for k, v in fact.items()
            if k not in (TYPE_FIELD, ID_FIELD, "sid")}


_WIRE_NAMES: dict[str, str] = {}  # a tested field's key -> its name in the core (wire_name)
_WIRE_KEYS: dict[str, str] = {}  # and back


def wire_name(key: str) -> str:
    """The name the core knows a tested field by: short ("f12"), since the core parses each
    fact's text and hashes each name on every assertion, and every activation carries the
    case's text back (some forty names like business__expected_value_usd_per_month): short
    names cut a case's instructions by 3 % (callgrind). One name per key for the process,
    whichever rule base compiled it first; names are made under the lock compiled_for holds."""
    name = _WIRE_NAMES.get(key)
    if name is None:
        name = _WIRE_NAMES[key] = f"f{len(_WIRE_NAMES)}"
        _WIRE_KEYS[name] = key
    return name


class Compiled:
    """A rule base compiled into one durable_rules ruleset registered on the process's Host."""

    _counter = itertools.count(1)

    def __init__(self, rulebase: RuleBase) -> None:
        self.rulebase = rulebase
        self.rules = {r.id: r for r in rulebase.active()}
        self.name = f"mladvisor_{rulebase.sha256[:12]}_{next(self._counter)}"
        self.aliases: dict[str, set[str]] = {}  # durable rule -> the fact types it binds
        self.rule_of: dict[str, Rule] = {}  # durable rule -> the rule it is a branch of
        # each rule's `then` facts but findings and verdicts, in the order they are asserted
        self.templates: dict[str, list[tuple[str, Template]]] = {
            rule.id: [(kind, compile_template(getattr(rule.then, kind))) for kind in THEN
                      if getattr(rule.then, kind) is not None]
            for rule in self.rules.values()}
        self.definition = self._definition()
        # what a firing of each durable rule needs: its rule, finding, templates and verdict
        fixed = {rule.id: self._fixed(rule) for rule in self.rules.values()}
        self.plans: dict[str, Plan] = {
            name: Plan(rule, fixed[rule.id][0], self.templates[rule.id], fixed[rule.id][1])
            for name, rule in self.rule_of.items()}
        # durable_rules copies matched facts into every action's message as JSON: give it only
        # the fields some condition tests; actions read the full fact from Run.bodies.
        # The fields keep the body's order: the core's order of activations depends on it
        # (sorting them reordered the firings of some cases).
        self.wire_names: dict[str, dict[str, str]] = {}  # kind -> {tested path: field name}
        for rule in self.rules.values():
            for path in conditions.paths(rule.condition):
                alias, key = conditions.split_path(path, DERIVED_TYPES)
                self.wire_names.setdefault(alias, {})[key] = wire_name(key)
                # a body may name a field without dots (a.b as a__b: a fact read back)
                self.wire_names[alias][conditions.field_name(key)] = wire_name(key)
        # a fitted catalog offer's wire form and whether the core takes it, by the offer's
        # identity (RuleBase.offers_for shares equal fits)
        self._offer_wires: dict[int, tuple[dict[str, Any], Wire, bool]] = {}
        # a rule's finding or verdict: its wire form and whether some rule can bind it
        self._fixed_wires: dict[int, tuple[dict[str, Any], Wire, bool]] = {}
        # any other derived fact's wire form and whether the core takes it, by content
        self._derived_wires: dict[Any, tuple[Wire, bool]] = {}
        self._tails: dict[Any, str] = {}
        self._pieces: dict[Any, str] = {}  # a case field's name and value -> its JSON text
        self._takes: dict[str, bool] = {}  # a fact's text after its ids -> some rule can bind it
        host = _host()
        host.register_rulesets(copy.deepcopy({self.name: self.definition}))
        self.handle: int = host.get_ruleset(self.name)._handle  # the C core's ruleset
        self._sessions = itertools.count(1)
        self._idle: list[str] = []
        # True: every fact is sent and each case gets a new session, deleted afterwards (the
        # plain use of the core, without Compiled.takes and Compiled.release's shortcuts), for
        # bench_engine.py to show that the shortcuts change no decision
        self.plain = False

    def _definition(self) -> dict[str, Any]:
        ruleset: dict[str, Any] = {}
        for rule in self.rules.values():
            branches = conditions.compile_durable(rule.condition, DERIVED_TYPES, TYPE_FIELD,
                                                  wire_name)
            for index, patterns in enumerate(branches):
                name = rule.id if index == 0 else f"{rule.id}#{index + 1}"
                ruleset[name] = {"all": patterns, "run": _UNUSED}
                self.aliases[name] = {alias for pattern in patterns for alias in pattern}
                self.rule_of[name] = rule
        return ruleset

    def matched(self, messages: str, sizes: dict[str, int]) -> tuple[str, dict[str, str]]:
        """The durable rule an activation is for, and the id of each fact it matched by alias.

        The core writes an activation as {"rule":{"alias":<fact as asserted>,...}}: the facts'
        texts as they were sent, without spaces between them. Every fact we assert starts with
        its id, and `sizes` gives the length of each one's text, so the facts are read in turn
        by stepping over each one's text, not by a search through it (a case's text is long and
        comes first). Should the text ever differ from that, it is parsed as JSON instead."""
        end = messages.find('":{', 2)
        name = messages[2:end]
        aliases = self.aliases.get(name)
        if aliases is not None and messages.startswith('{"'):
            fids, at = {}, end + 3
            while messages.startswith('"', at):
                quote = messages.find('"', at + 1)
                if not messages.startswith(_FACT_AT, quote):
                    break
                start = quote + len(_FACT_AT)
                stop = messages.find('"', start)
                fid = messages[start:stop]
                size = sizes.get(fid)
                if size is None:
                    break
                fids[messages[at + 1:quote]] = fid
                at = quote + 2 + size  # the fact's text starts after '":'
                if messages.startswith(",", at):
                    at += 1
                elif messages.startswith("}}", at) and len(messages) == at + 2 \
                        and fids.keys() == aliases:
                    return name, fids
                else:
                    break
        ((name, facts),) = json.loads(messages).items()
        return name, {alias: fact[ID_FIELD] for alias, fact in facts.items()}

    def fire(self, name: str, fids: dict[str, str], state: Run) -> None:
        """One activation of durable_rules rule `name` (a rule id, `#n` for its later branches):
        the rule fires once per distinct set of matched facts, whichever branch matched. Its
        facts are derived in order: the finding, the templated facts, the verdict."""
        rule, finding, templates, verdict = self.plans[name]
        key = (rule.id, *sorted(fids.values())) if len(fids) > 1 else (rule.id, *fids.values())
        if key in state.seen:
            return
        state.seen.add(key)
        bodies = state.bodies
        bindings = {alias: bodies[fid] for alias, fid in fids.items()}
        if conditions.CASE not in bindings:
            bindings[conditions.CASE] = state.case  # text may name any answer
        asserted: list[str] = []
        state.firings.append(Firing(len(state.firings) + 1, rule, bindings, asserted))
        derived, pending = state.derived, state.pending
        if finding is not None:
            kind, body, text = finding
            fact = dict(body)
            derived.setdefault(kind, []).append(fact)
            asserted.append(text)
            pending.append((kind, fact, body))
        for kind, template in templates:
            fact = template(bindings)
            if not isinstance(fact, dict):
                raise TypeError(f"{rule.id}: then.{kind} must give a mapping")
            fact["rule"] = rule.id
            if kind == "option" and rule.summary:  # formatted only once selected
                fact["summary"] = rule.summary
            derived.setdefault(kind, []).append(fact)
            asserted.append(describe(kind, fact))
            if kind in FED_BACK:
                pending.append((kind, fact, None))
        if verdict is not None:
            kind, body, text = verdict
            fact = dict(body)
            derived.setdefault(kind, []).append(fact)
            asserted.append(text)
            if kind in FED_BACK:
                pending.append((kind, fact, body))

    def _fixed(self, rule: Rule) -> tuple[Consequence | None, Consequence | None]:
        """A rule's finding and verdict facts: the same on every firing."""
        finding = verdict = None
        if rule.then.finding:
            body = {"rule": rule.id, "phase": rule.phase, "severity": rule.severity}
            finding = ("finding", body, describe("finding", body))
        if rule.then.verdict:
            body = {"verdict": rule.then.verdict, "rule": rule.id}
            verdict = ("verdict", body, describe("verdict", body))
        return finding, verdict

    def _wire(self, kind: str, body: dict[str, Any], fid: str) -> Wire:
        """A fact as durable_rules sees it (the fields some condition tests) and as actions do."""
        names = self.wire_names.get(kind, {})
        fact = {names[k]: v for k, v in body.items() if k in names and v is not None}
        fact[TYPE_FIELD] = kind
        tail = self._case_tail(fact) if kind == conditions.CASE else self._tail(fact)
        fact[ID_FIELD] = fid
        # the id first, so that activations name their facts without a JSON parse (matched)
        return Wire(fact, {k: v for k, v in body.items() if v is not None},
                    f'{{"{ID_FIELD}": "{fid}", "sid": "', tail)

    def _case_tail(self, fact: dict[str, Any]) -> str:
        """A case's JSON after its id and session id. The case never recurs, but each field's
        value does (most answers are choices): the text of each field is kept by content,
        types included, and the case's text is joined from them, as json.dumps writes it."""
        pieces, out = self._pieces, []
        for name, value in fact.items():
            try:
                key: Any = (name, value, type(value))
                piece = pieces.get(key)
            except TypeError:  # a list value: not kept
                key, piece = None, None
            if piece is None:
                piece = f"{wire_json(name)}: {wire_json(value)}"
                if key is not None:
                    if len(pieces) > 65536:
                        pieces.clear()
                    pieces[key] = piece
            out.append(piece)
        return '", ' + ", ".join(out) + "}"

    def _tail(self, fact: dict[str, Any]) -> str:
        """A fact's JSON after its id and session id. Most derived facts recur from case to case
        (a rule's finding, an offer proposed as an option), so the text is kept by content,
        types included (1, 1.0 and true are equal in Python, not in JSON; 0.0 and -0.0 are
        equal to the core too)."""
        try:
            key: Any = (tuple(fact.items()), tuple(map(type, fact.values())))
            text = self._tails.get(key)
        except TypeError:  # a list value: not kept
            key, text = None, None
        if text is None:
            text = '", ' + wire_json(fact)[1:]
            if key is not None:
                if len(self._tails) > 65536:
                    self._tails.clear()
                self._tails[key] = text
        return text

    def takes(self, kind: str, wire: Wire) -> bool:
        """Whether some rule can bind this fact: whether, asserted, it would pass every test of
        its own fields in some pattern. One that cannot is inert in the core (not stored, no
        activation, no trace), so it is kept for the trace and the Python evaluator but not sent.

        The core itself answers, once per fact content: a fact asserted alone into the probe
        session is reported "not handled" exactly when it reaches no rule; it is retracted at
        once, with any activation it made. The probe session is never deleted: the core frees
        an uninitialised pointer deleting a fresh session that never had an activation.
        Most derived facts recur from case to case (a rule's finding); the case fact never
        does and is always sent."""
        return kind == conditions.CASE or self.plain or self._bindable(kind, wire.tail)

    def _bindable(self, kind: str, tail: str) -> bool:
        """The core's answer for Compiled.takes, asked once per fact content."""
        known = self._takes.get(tail)
        if known is None:
            core = _core()
            text = f'[{{"{ID_FIELD}": "{kind}0", "sid": "{_PROBE}{tail}]'
            code, _ = core.assert_facts(self.handle, text)
            if code == _OBSERVED:
                raise RuntimeError(f"durable_rules saw a probe twice: {text[:200]}")
            if code != _NOT_HANDLED:
                core.retract_facts(self.handle, text)
            known = code != _NOT_HANDLED
            if len(self._takes) > 65536:
                self._takes.clear()
            self._takes[tail] = known
        return known

    def wires(self, kind: str, bodies: list[dict[str, Any]], run: Run
              ) -> list[tuple[Wire, bool]]:
        """The facts of one kind to assert, numbered after those of that kind already in the
        session, each with whether the core takes it (Compiled.takes). The catalog offers a
        case admits are shared objects (RuleBase.offers_for: equal fits are one object),
        always asserted first: each one's wire form is built and probed once, and each session
        gets its own copy."""
        first = len(run.facts.get(kind, ()))
        if kind != "offer" or first:
            wires = [self._wire(kind, body, f"{kind}{first + n}") for n, body in
                     enumerate(bodies, start=1)]
            return [(wire, self.takes(kind, wire)) for wire in wires]
        known, plain, out = self._offer_wires, self.plain, []
        for n, body in enumerate(bodies, start=1):
            fid = f"{kind}{n}"
            cached = known.get(id(body))
            if cached is None or cached[0] is not body:
                if len(known) > 8192:
                    known.clear()
                wire = self._wire(kind, body, fid)
                cached = known[id(body)] = (body, wire, self._bindable(kind, wire.tail))
            _, wire, taken = cached
            fact = dict(wire.fact)
            fact[ID_FIELD] = fid  # (the id is already the fact's last field)
            out.append((Wire(fact, dict(wire.body), f'{{"{ID_FIELD}": "{fid}", "sid": "',
                             wire.tail), plain or taken))
        return out

    def derived_text(self, kind: str, body: dict[str, Any], fixed: dict[str, Any] | None,
                     run: Run, sid: str) -> str | None:
        """Hold one fact a firing derived, numbered after those of its kind in the session, and
        give its text for the core if some rule can bind it. Its wire form and whether the core
        takes it are worked out once: for a rule's finding, the same on every firing (`fixed`,
        which `body` copies), by identity; for the rest by content (types included), since
        most recur from case to case (an offer proposed as an option, an outcome)."""
        held = run.facts.setdefault(kind, [])
        fid = f"{kind}{len(held) + 1}"
        if fixed is not None:
            cached = self._fixed_wires.get(id(fixed))
            if cached is None or cached[0] is not fixed:
                wire = self._wire(kind, fixed, "")
                cached = (fixed, wire, self._bindable(kind, wire.tail))
                self._fixed_wires[id(fixed)] = cached
            _, wire, taken = cached
        else:
            try:
                key: Any = (kind, tuple(body.items()), tuple(map(type, body.values())))
                known = self._derived_wires.get(key)
            except TypeError:  # a list value: not kept
                key, known = None, None
            if known is None:
                wire = self._wire(kind, body, "")
                known = (wire, self._bindable(kind, wire.tail))
                if key is not None:
                    if len(self._derived_wires) > 65536:
                        self._derived_wires.clear()
                    self._derived_wires[key] = known
            wire, taken = known
        fact = dict(wire.fact)
        fact[ID_FIELD] = fid
        held.append(fact)
        if taken or self.plain:  # actions read bodies only of facts the core holds
            run.bodies[fid] = dict(wire.body)
            return f'{{"{ID_FIELD}": "{fid}", "sid": "{sid}{wire.tail}'
        return None

    def start(self) -> Session:
        """A session for one case: one emptied by an earlier case if any, else a new one."""
        reuse = self._idle and not self.plain
        return Session(self, self._idle.pop() if reuse else str(next(self._sessions)))

    def release(self, session: Session, failed: bool) -> None:
        """Empty a finished session for the next case by retracting every fact it was sent.
        Measured on generated cases, that costs the core much less than deleting the session
        and creating another, which allocates and clears pools for each of the ruleset's join
        nodes. A session an error left mid-round is deleted instead."""
        core = _core()
        try:
            if not failed and not self.plain:
                if session.sent:
                    sid = session.sid
                    core.retract_facts(self.handle, "[" + ",".join(
                        f'{{"{ID_FIELD}": "{fid}", "sid": "{sid}"}}' for fid in session.sent) + "]")
                self._idle.append(session.sid)
                return
        except BaseException:
            core.delete_state(self.handle, session.sid)
            raise
        try:
            core.delete_state(self.handle, session.sid)
        except Exception:  # noqa: BLE001 - a session with no state is fine to lose
            pass


class Session:
    """One case's working memory; always closed, so sessions never pile up (limit: 1,024).

    Sessions run one at a time per process: durable_rules is not safe across threads (DESIGN.md
    saw segfaults). A web server's worker threads therefore queue here; parallelism comes from
    processes.

    Facts go to durable_rules' C core directly, one JSON array per round, and each activation
    it reports is handled here in order. durable's own Python driver (durable.engine.Ruleset)
    would also build a closure per activation and write the session state back as JSON after
    each one (update_state), for rules that read the state; ours never do.
    """

    def __init__(self, compiled: Compiled, sid: str) -> None:
        self.compiled = compiled
        self.sid = sid
        self.run = Run()
        # the id of every fact the core holds, to retract them, and the length of its text, to
        # step over it in an activation (Compiled.matched)
        self.sent: dict[str, int] = {}

    def __enter__(self) -> Session:
        _LOCK.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.compiled.release(self, failed=exc[0] is not None)
        finally:
            _LOCK.release()

    def assert_facts(self, facts_by_kind: dict[str, list[dict[str, Any]]]) -> None:
        """Assert a batch, then the facts its activations derived, round by round, until quiet.

        One call into durable_rules per round, however many facts it holds."""
        compiled, run, sid = self.compiled, self.run, self.sid
        texts = []
        for kind, bodies in facts_by_kind.items():
            held = run.facts.setdefault(kind, [])
            for wire, taken in compiled.wires(kind, bodies, run):
                held.append(wire.fact)
                run.bodies[wire.fact[ID_FIELD]] = wire.body
                if taken:
                    texts.append(wire.head + sid + wire.tail)
            if kind == conditions.CASE and held:
                run.case = run.bodies[held[-1][ID_FIELD]]
        while texts:
            sent = self.sent
            for text in texts:  # each starts {"id": "<id>": its id ends at the next quote
                sent[text[_ID_AT:text.index('"', _ID_AT)]] = len(text)
            self._round("[" + ",".join(texts) + "]")
            pending, run.pending = run.pending, []
            texts = [made for kind, body, fixed in pending
                     if (made := compiled.derived_text(kind, body, fixed, run, sid)) is not None]

    def _round(self, text: str) -> None:
        """Assert one JSON array and run every activation it leads to, in the core's order."""
        core, handle = _core(), self.compiled.handle
        code, state = core.assert_facts(handle, text)
        # "not handled": some fact passed no rule's tests of its own fields, so the core did not
        # keep it (nothing can match it); the rest of the batch went in. "Observed": a fact
        # asserted twice, impossible with an id in each.
        if code == _OBSERVED:
            raise RuntimeError(f"durable_rules saw a fact twice: {text[:200]}")
        result = core.start_action_for_state(handle, state)
        messages = None if result is None else result[1]
        fire, matched, run, sent = self.compiled.fire, self.compiled.matched, self.run, self.sent
        while messages is not None:
            try:
                fire(*matched(messages, sent), run)
            except BaseException:
                core.abandon_action(handle, state)
                raise
            messages = core.complete_and_start_action(handle, state)


def describe(kind: str, fact: dict[str, Any]) -> str:
    if kind == "finding":
        return f"finding {fact['rule']} ({fact['severity']})"
    if kind == "verdict":
        return f"{TRACE_VERDICT}{fact['verdict']}"
    if kind == "monitor":
        return f"monitor {fact.get('signal', '')}"
    rung, service = fact.get("rung"), fact.get("service")
    if rung and service:
        return f"{kind} {rung!s}/{service!s}".rstrip()
    if rung or service:
        return f"{kind} {rung or service!s}".rstrip()
    return kind


# ---------------------------------------------------------------- what crosses into the C core

_EXACT = 2**53  # integers up to here are exact as doubles too
_SMALL, _LARGE = 1e-4, 1e16  # Python writes finite floats outside this range in exponent form


def wire_json(value: Any, **_: Any) -> str:
    """JSON for durable_rules' C core, whose number parser crashes (SIGSEGV) or misreads a
    number written in exponent notation (Python writes 5e-05 and 1e+16 that way) and wraps
    integers past 64 bits. Every such number is written as a positional decimal with a point
    (0.00005, 10000000000000000.0), which the core reads as the same double; NaN and
    infinities are refused before they reach it."""
    if not _risky(value):  # the usual case: nothing to rewrite
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    json.dumps(value, allow_nan=False)  # refuse NaN and infinities
    return _positional(value)


def _risky(value: Any) -> bool:
    """Whether json.dumps would write a number of `value` in exponent notation, or one past
    the integers a double holds exactly (NaN and infinities: json.dumps refuses them)."""
    items = value.values() if isinstance(value, dict) else (
        value if isinstance(value, list | tuple) else (value,))
    for item in items:  # a flat loop: facts are flat, and this runs for every one
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if isinstance(item, float):
            size = abs(item)
            if size != 0 and (size < _SMALL or size >= _LARGE) and size != math.inf:
                return True
        elif isinstance(item, int):
            if abs(item) > _EXACT:
                return True
        elif isinstance(item, dict | list | tuple) and _risky(item):
            return True
    return False


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
# durable_rules_engine.assert_facts result codes (durable.engine.Ruleset._handle_result)
_NOT_HANDLED, _OBSERVED = 1, 2
_ID_AT = len(f'{{"{ID_FIELD}": "')  # where a fact's text gives its id
_PROBE = "probe"  # the session id of Compiled.takes' probes (cases' sessions are numbered)
_UNUSED = "unused"  # every rule's action: activations are handled by Session, never by durable


def _core() -> Any:
    """durable_rules' C extension, where facts are matched."""
    import durable_rules_engine

    return durable_rules_engine


def _host() -> Any:
    """A durable_rules Host, only to register rulesets: no timer threads (they ran actions
    late), and no actions, since sessions drive the C core themselves."""
    global _HOST
    if _HOST is None:
        import durable.engine
        from durable.engine import Host

        durable.engine.json = _WireCodec  # rulesets go to the core through wire_json too

        class QuietHost(Host):
            def _run(self) -> None:  # no timers
                return None

            def get_action(self, action_name: str) -> Callable[[Any], None]:
                return _no_action

        _HOST = QuietHost()
    return _HOST


def _no_action(c: Any) -> None:
    return None


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
            stage_two["selection"] = [selection_fact(resolution.selected,
                                                     facts.get("bench")) | {
                "simpler_open": simpler_open(resolution, rulebase.knowledge.ladder)}]
        session.assert_facts(stage_two)
        return session.run, resolution
