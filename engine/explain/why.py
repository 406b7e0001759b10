"""Explanations of a decision: why rules fired, why others did not, and what would change it.

Counterfactuals are searched, never inferred: every candidate set of answer changes is assessed
again with `engine.api.assess`, and only the verdict and strategy that run produced are reported.
The search domain comes from the answers model (Literal choices, booleans, numeric bounds, lists)
and from the thresholds the rule conditions compare answers with; no task, rung, service or
threshold is named here. The rule conditions are used only to prune the search: a field no rule
that can move the verdict or strategy reads is not varied, and of the values of a field that every
condition treats alike only one is tried.
"""

from __future__ import annotations

import copy
import itertools
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.errors import InputError
from engine.model.answers import leaf_paths
from engine.model.decision import Decision
from engine.rulebase import conditions
from engine.rulebase.conditions import Leaf, Ref
from engine.rulebase.inference import plain
from engine.rulebase.knowledge import FIT_PATHS
from engine.rulebase.loading import DERIVED_TYPES, Rule, RuleBase
from engine.util import dotted
from engine.util.display import show_value

CASE = conditions.CASE
# Answers that identify a project rather than describe it: never varied.
IDENTITY = ("project.name", "project.id", "project.respondent")
# Consequences that move option statuses, the strategy or the verdict (monitor only plans).
DECISIVE_THEN = ("option", "reject", "demote", "meets", "verdict")
# What a rule over a fact type needs when the case has no fact of that type at all.
FACT_KIND = {
    "bench": "a benchmark row", "check": "a benchmark measurement of a success criterion",
    "criterion": "a success criterion", "feature": "a feature of the drift summary",
    "bias": "a bias check of the drift summary", "offer": "a catalog offer for this project",
    "option": "a candidate option", "finding": "a finding", "selection": "a selected option",
    "outcome": "a resolution of the options",
}
MAX_COUNTERFACTUALS = 10
# The engine takes 1-15 ms a case: these bounds keep one explanation well under a second.
MAX_SINGLE_RUNS = 64
MAX_PAIR_SEEDS = 6  # singles combined into pairs: C(6, 2) = 15 extra runs at most
MAX_FAILED_LEAVES = 5
PER_ANSWER = 2  # counterfactuals changing the same answers, before the others get a turn

Outcome = tuple[str, str | None, str | None]  # verdict, rung, service


# ---------------------------------------------------------------- why and why not

def why(assessment: Any) -> list[dict[str, Any]]:
    """Each rule that fired, once per distinct set of facts it used, in firing order."""
    titles = {f.rule: f.title for f in assessment.model.findings}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for step in assessment.model.trace:
        entry = {"rule": step.rule, "matched": step.matched}
        key = json.dumps([entry["rule"], entry["matched"]], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        out.append({"rule": entry["rule"], "finding": titles.get(entry["rule"]),
                    "facts": entry["matched"], "source": assessment.rulebase.where(entry["rule"])})
    return out


def facts_of(assessment: Any) -> dict[str, list[dict[str, Any]]]:
    """Every fact the run saw, by type, with dotted field names (as conditions name them)."""
    return {kind: [plain(f) for f in items] for kind, items in assessment.run.facts.items()}


def why_not(assessment: Any, rulebase: RuleBase | None = None) -> list[dict[str, Any]]:
    """Each active rule that did not fire, with condition leaves that are false on the facts."""
    rb = rulebase or assessment.rulebase
    facts = facts_of(assessment)
    fired = {f.rule.id for f in assessment.run.firings}
    out = []
    for rule in rb.active():
        if rule.id in fired:
            continue
        failed = _failed(rule, facts)
        if failed:
            out.append({"rule": rule.id, "failed": failed, "source": rb.where(rule.id)})
    return out


def _failed(rule: Rule, facts: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    names = conditions.aliases(rule.condition, DERIVED_TYPES)
    empty = [n for n in names if not facts.get(n)]
    if empty:
        return [{"path": n, "expected": FACT_KIND.get(n, f"a {n} fact"), "actual": None}
                for n in empty]
    best: tuple[int, list[Leaf], dict[str, Any]] | None = None
    for combo in itertools.product(*(facts[n] for n in names)):
        bindings = dict(zip(names, combo, strict=True))
        leaves = conditions.failing_leaves(rule.condition, bindings, DERIVED_TYPES)
        if best is None or len(leaves) < best[0]:
            best = (len(leaves), leaves, bindings)
    if best is None or not best[1]:
        return []  # true on the facts: nothing to explain (the engine would have fired it)
    _, leaves, bindings = best
    return [{"path": leaf.path, "expected": describe_expected(leaf, bindings),
             "actual": _value(bindings, leaf.path)} for leaf in leaves[:MAX_FAILED_LEAVES]]


def _value(bindings: Mapping[str, Mapping[str, Any]], path: str) -> Any:
    value = conditions.lookup(bindings, path, DERIVED_TYPES)
    return None if value is conditions._MISSING else value


SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
           "in": "one of", "not_in": "none of"}


def describe_expected(leaf: Leaf, bindings: Mapping[str, Mapping[str, Any]]) -> str:
    """A leaf's test as a person reads it: '< 100', '> data.labeled_examples (40)', 'yes'.
    Values read as the actual ones beside them do ("is no, needs yes"); equality needs no
    symbol."""
    if leaf.op == "exists":
        return "present" if leaf.value else "absent"
    value = leaf.value
    if isinstance(value, Ref):
        text = f"{value.path} ({show_value(_value(bindings, value.path), none='not given')})"
    elif isinstance(value, tuple):
        text = show_value(list(value))
    else:
        text = show_value(value)
    return text if leaf.op == "eq" else f"{SYMBOLS[leaf.op]} {text}"


# ---------------------------------------------------------------- the search domain

def relevant_rules(rb: RuleBase) -> list[Rule]:
    """Rules whose firing can move the verdict or the strategy: those with a decisive
    consequence, and those whose finding a decisive rule's condition can match."""
    rules = rb.active()
    relevant = {r.id for r in rules if any(getattr(r.then, k) for k in DECISIVE_THEN)}
    changed = True
    while changed:
        changed = False
        readers = [r for r in rules if r.id in relevant
                   and "finding" in conditions.aliases(r.condition, DERIVED_TYPES)]
        for rule in rules:
            if rule.id in relevant or not rule.then.finding:
                continue
            finding = {"rule": rule.id, "phase": rule.phase, "severity": rule.severity}
            if any(_could_match(r.condition, "finding", finding) for r in readers):
                relevant.add(rule.id)
                changed = True
    return [r for r in rules if r.id in relevant]


def _could_match(node: conditions.Node, alias: str, fact: Mapping[str, Any]) -> bool:
    """Whether the condition can hold with this fact bound to alias (other leaves open)."""
    if isinstance(node, Leaf):
        if conditions.split_path(node.path, DERIVED_TYPES)[0] != alias:
            return True
        if isinstance(node.value, Ref):
            return True
        return conditions.eval_leaf(node, {alias: fact}, DERIVED_TYPES)
    results = [_could_match(item, alias, fact) for item in node.items]
    return all(results) if node.kind == "all" else any(results)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The base type of a field annotation, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def _bounds(info: Any) -> tuple[float | None, float | None]:
    """(ge, gt) bounds of a numeric field."""
    ge = gt = None
    for meta in info.metadata:
        ge = getattr(meta, "ge", ge)
        gt = getattr(meta, "gt", gt)
    return ge, gt


def _case_path(path: str) -> str | None:
    """The case path of a leaf, or None for a derived fact type's field."""
    alias, key = conditions.split_path(path, DERIVED_TYPES)
    return key if alias == CASE else None


def _field_of(case_path: str, fields: Mapping[str, Any]) -> str | None:
    """Answer field a case path reads: itself, or a list field behind its `.count`."""
    if case_path in fields:
        return case_path
    head, _, tail = case_path.rpartition(".")
    if tail == "count" and head in fields:
        return head
    return None


@dataclass
class Domain:
    """Candidate values per answer field, and the leaves that read each field."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    leaves: dict[str, list[Leaf]] = field(default_factory=dict)


def _numbers(values: Iterable[Any]) -> list[float]:
    return [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def _thresholds(path: str, leaves: list[Leaf], case: Mapping[str, Any],
                facts: Mapping[str, list[dict[str, Any]]]) -> list[float]:
    """Numbers the conditions compare this answer with: constants, other answers, and the
    fields of facts a reference links it to."""
    found: list[Any] = []
    for leaf in leaves:
        mine = _case_path(leaf.path) == path
        other = leaf.value.path if isinstance(leaf.value, Ref) else None
        if mine and other is None:
            found.extend(leaf.value if isinstance(leaf.value, tuple) else [leaf.value])
            continue
        partner = other if mine else leaf.path
        if partner is None:
            continue
        alias, key = conditions.split_path(partner, DERIVED_TYPES)
        if alias == CASE:
            found.append(case.get(key))
        else:
            found.extend(f.get(key) for f in facts.get(alias, []))
    return sorted(set(_numbers(found)))


def _example_item(path: str, rb: RuleBase) -> Any:
    """One list element for a list field, taken from the rule base's own examples."""
    sources = [rb.baseline] + [ex.answers for r in rb.rules for ex in r.examples]
    for source in sources:
        value = source.get(path) if path in source else dotted.get(source, path, None)
        if isinstance(value, list) and value:
            return copy.deepcopy(value[0])
    return None


def domain(assessment: Any, rulebase: RuleBase | None = None) -> Domain:
    """Candidate values for each answer field worth varying, nearest to the current value first."""
    rb = rulebase or assessment.rulebase
    fields = leaf_paths()
    answers = assessment.model.input.answers
    facts = facts_of(assessment)
    case = facts["case"][0]
    out = Domain(leaves=_leaves_by_field(rb, fields))
    fact_dependent = _fact_dependent(rb, fields)
    for path in fact_dependent:
        out.leaves.setdefault(path, [])
    for path, info in fields.items():
        if path in IDENTITY:
            continue
        base, optional = _unwrap(info.annotation)
        current = dotted.get(answers, path, None)
        if typing.get_origin(base) is list:
            out.values[path] = _list_candidates(path, current, rb)
            continue
        if path not in out.leaves:
            continue  # no rule that can move the decision reads it
        candidates = _scalar_candidates(path, base, info, current, out.leaves[path], case, facts)
        if candidates is None:
            continue  # free text: not part of the search
        if optional and current is not None:
            candidates.append(None)
        if path in fact_dependent:
            out.values[path] = candidates  # the facts themselves change with it: try them all
        else:
            out.values[path] = _distinct(path, candidates, current, out.leaves[path], case, facts)
    return out


def _leaves_by_field(rb: RuleBase, fields: Mapping[str, Any]) -> dict[str, list[Leaf]]:
    """The condition leaves of the relevant rules that read each answer field (either side)."""
    leaves: dict[str, list[Leaf]] = {}
    for rule in relevant_rules(rb):
        for leaf in conditions.leaves(rule.condition):
            paths = [leaf.path] + ([leaf.value.path] if isinstance(leaf.value, Ref) else [])
            for p in paths:
                cp = _case_path(p)
                name = _field_of(cp, fields) if cp else None
                if name and leaf not in leaves.setdefault(name, []):
                    leaves[name].append(leaf)
    return leaves


def _list_candidates(path: str, current: Any, rb: RuleBase) -> list[Any]:
    """A list answer: emptied when it has items (or cut to its first), else given one item."""
    item = current[0] if current else _example_item(path, rb)
    if item is None:
        item = "example"
    candidates: list[Any] = [[]] if current else [[item]]
    if current and len(current) > 1:
        candidates.append([copy.deepcopy(current[0])])
    return candidates


def _scalar_candidates(path: str, base: Any, info: Any, current: Any, leaves: list[Leaf],
                       case: Mapping[str, Any], facts: Mapping[str, list[dict[str, Any]]]
                       ) -> list[Any] | None:
    """The other values of a closed set, a flag's opposite, numbers around the thresholds the
    rules compare with; None for free text."""
    if typing.get_origin(base) is Literal:
        return [v for v in typing.get_args(base) if v != current]
    if base is bool:
        return [not current]
    if base in (int, float):
        return _numeric(path, base, info, current, leaves, case, facts)
    return None


def _fact_dependent(rb: RuleBase, fields: Mapping[str, Any]) -> set[str]:
    """Answers that decide which facts enter a session (the rule base's offer filter) or what
    they carry (knowledge.FIT_PATHS): values of these cannot be judged alike from the facts of
    the current run."""
    node = getattr(rb, "offer_filter", None)
    paths = list(FIT_PATHS) + ([] if node is None else list(conditions.paths(node)))
    out = set()
    for path in paths:
        case_path = _case_path(path)
        name = _field_of(case_path, fields) if case_path else None
        if name:
            out.add(name)
    return out


def _numeric(path: str, base: type, info: Any, current: Any, leaves: list[Leaf],
             case: Mapping[str, Any], facts: Mapping[str, list[dict[str, Any]]]) -> list[Any]:
    ge, gt = _bounds(info)
    values: set[float] = set()
    for t in _thresholds(path, leaves, case, facts):
        step = 1 if base is int or abs(t) >= 10 else 0.01
        for v in (t - step, t, t + step):
            v = int(round(v)) if base is int else round(float(v), 6)
            if (ge is not None and v < ge) or (gt is not None and v <= gt):
                continue
            values.add(v)
    if not values and current is None:  # only tested for presence: any allowed value will do
        values.add(ge if ge is not None else (gt + 1 if gt is not None else 1))
        values = {int(v) if base is int else float(v) for v in values}
    values.discard(current)
    if current is None:
        return sorted(values)
    return sorted(values, key=lambda v: (abs(v - current), v))


def _signature(path: str, value: Any, leaves: list[Leaf], case: Mapping[str, Any],
               facts: Mapping[str, list[dict[str, Any]]]) -> tuple[bool, ...]:
    """How every condition leaf reading this answer judges a value, against every fact."""
    bound = {k: v for k, v in case.items() if k != path}
    if value is not None:
        bound[path] = value
    out: list[bool] = []
    for leaf in leaves:
        others = [a for a in conditions.aliases(leaf, DERIVED_TYPES) if a != CASE]
        pools = [facts.get(a, []) for a in others]
        for combo in itertools.product(*pools):
            bindings = {CASE: bound, **dict(zip(others, combo, strict=True))}
            out.append(conditions.eval_leaf(leaf, bindings, DERIVED_TYPES))
    return tuple(out)


def _distinct(path: str, candidates: list[Any], current: Any, leaves: list[Leaf],
              case: Mapping[str, Any], facts: Mapping[str, list[dict[str, Any]]]) -> list[Any]:
    """One value per way the conditions can judge the answer, skipping the current way."""
    seen = {_signature(path, current, leaves, case, facts)}
    kept = []
    for value in candidates:
        sig = _signature(path, value, leaves, case, facts)
        if sig not in seen:
            seen.add(sig)
            kept.append(value)
    return kept


# ---------------------------------------------------------------- counterfactual search

def apply_changes(answers: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The answers document with each dotted path set to its new value (sections created)."""
    doc = copy.deepcopy(dict(answers))
    for path, value in changes.items():
        dotted.set(doc, path, copy.deepcopy(value), replace=True)
    return doc


def outcome_of(decision: Decision) -> Outcome:
    strategy = decision.strategy
    if not strategy:
        return str(decision.verdict), None, None
    return str(decision.verdict), strategy.rung, strategy.service


@dataclass
class Trial:
    changes: dict[str, Any]
    outcome: Outcome
    rules: frozenset[str]  # decisive rules that fired
    options: frozenset[str]  # option statuses
    cost: tuple[float, float] | None = None  # the selected option's monthly range


def _promise(trial: Trial, base: Trial) -> tuple[int, int]:
    """How far a change that kept the outcome moved what decides it: decisive rules it
    silenced (net of those it woke), then option statuses it changed."""
    return (len(base.rules - trial.rules) - len(trial.rules - base.rules),
            len(trial.options ^ base.options))


class Searcher:
    """Re-assesses changed answers with the real engine, once per distinct answers document."""

    def __init__(self, assessment: Any, rulebase: RuleBase) -> None:
        self.assessment = assessment
        self.rulebase = rulebase
        self.relevant = {r.id for r in relevant_rules(rulebase)}
        self.runs = 0
        self.errors: list[str] = []
        self._cache: dict[str, Trial | None] = {}

    def as_trial(self, changes: dict[str, Any], result: Any) -> Trial:
        """A run's outcome and what decided it: decisive rules fired and option statuses."""
        fired = {f.rule.id for f in result.run.firings if f.rule.id in self.relevant}
        statuses = {f"{o.rung}/{o.service}={o.status}" for o in result.model.options}
        selected = next((o for o in result.model.options if o.status == "selected"), None)
        cost = None if selected is None or selected.cost is None else (
            selected.cost.low_usd_per_month, selected.cost.high_usd_per_month)
        return Trial(changes, outcome_of(result.model), frozenset(fired), frozenset(statuses),
                     cost)

    def trial(self, changes: dict[str, Any]) -> Trial | None:
        from engine.api import assess

        doc = dict(self.assessment.input_doc)
        doc["answers"] = apply_changes(doc["answers"], changes)
        key = json.dumps(doc["answers"], sort_keys=True, default=str)
        if key in self._cache:
            return self._cache[key]
        self.runs += 1
        try:
            result = assess(doc, self.rulebase, assessment_id="explain")
        except InputError:
            trial = None  # a value the model refuses in this context: not a counterfactual
        except Exception as error:  # noqa: BLE001 - one failed hypothesis must not sink the rest
            self.errors.append(f"{json.dumps(changes, default=str)}: {error!r}")
            trial = None
        else:
            trial = self.as_trial(changes, result)
        self._cache[key] = trial
        return trial


def _round_robin(values: Mapping[str, list[Any]], order: list[str],
                 budget: int) -> list[tuple[str, Any]]:
    """Each field's nearest candidate first, then each field's next one, up to the budget: a
    field with many choices cannot crowd out the others."""
    out: list[tuple[str, Any]] = []
    for depth in range(max((len(v) for v in values.values()), default=0)):
        out.extend((p, values[p][depth]) for p in order if depth < len(values.get(p, [])))
    return out[:budget]


@dataclass
class SearchResult:
    counterfactuals: list[dict[str, Any]]
    sensitivity: list[dict[str, Any]]
    runs: int  # engine runs the search made
    candidates: int  # single changes in the domain (some left untried past the budget)
    errors: list[str]  # changes the engine failed on (skipped; a bug to report)


def search(assessment: Any, rulebase: RuleBase | None = None, limit: int = MAX_COUNTERFACTUALS,
           max_runs: int = MAX_SINGLE_RUNS, levers_only: bool = True) -> SearchResult:
    """Counterfactuals (single changes, then pairs of promising ones) and each answer's
    sensitivity; every outcome reported comes from a real run of the engine. By default only
    the answers the questionnaire marks as levers are changed, and only changes that lead to a
    better verdict or another strategy with the same verdict are kept; `levers_only=False`
    varies every answer and keeps every outcome, for rule authors."""
    rb = rulebase or assessment.rulebase
    dom = domain(assessment, rb)
    levers = rb.knowledge.questionnaire.levers()
    if levers_only:  # a team changes an answer; leaving it unanswered is no lever
        dom.values = {p: [x for x in v if x is not None]
                      for p, v in dom.values.items() if p in levers}
    searcher = Searcher(assessment, rb)
    base_trial = searcher.as_trial({}, assessment)
    base = base_trial.outcome
    order = list(leaf_paths())
    precedence: list[str] = list(rb.knowledge.ladder.verdict_precedence)  # worst first

    def moves(outcome: Outcome) -> bool:
        """A counterfactual flips the verdict or moves the strategy to another rung; with
        levers only, never to a worse verdict."""
        if levers_only and precedence.index(outcome[0]) < precedence.index(base[0]):
            return False
        return outcome[:2] != base[:2]

    changed: list[Trial] = []  # any change of verdict or strategy (service included)
    # single changes that leave verdict and rung alone but move what decides them: pair material
    promising: dict[str, tuple[tuple[int, int], Trial]] = {}
    for path, value in _round_robin(dom.values, order, max_runs):
        trial = searcher.trial({path: value})
        if trial is None:
            continue
        if trial.outcome != base:
            changed.append(trial)
        if moves(trial.outcome):
            continue
        score = _promise(trial, base_trial)
        # equal promise: keep the farther value (it silences at least as much alone, and
        # _nearest moves a pair back towards the current answers)
        if any(score) and (path not in promising or score >= promising[path][0]):
            promising[path] = (score, trial)
    singles = [t for t in changed if moves(t.outcome)]

    pairs = _pairs(promising, singles, order, moves, dom.values, searcher)
    chosen = _select(singles + pairs, base, rb, order, limit)
    counterfactuals = [_counterfactual(t, base_trial, levers) for t in chosen]
    decisive = {next(iter(t.changes)) for t in changed}
    varied = [p for p in order if not levers_only or p in levers]
    sensitivity = [{"path": p, "decisive": p in decisive} for p in varied]
    return SearchResult(counterfactuals, sensitivity, searcher.runs,
                        sum(len(v) for v in dom.values.values()), searcher.errors)


def _pairs(promising: Mapping[str, tuple[tuple[int, int], Trial]], singles: list[Trial],
           order: list[str], moves: Any, values: Mapping[str, list[Any]],
           searcher: Searcher) -> list[Trial]:
    """Pairs of the most promising single changes that reach an outcome no single change
    reaches (minimal only), each moved as near the current answers as it allows."""
    single_outcomes = {t.outcome[:2] for t in singles}
    seeds = sorted(promising.items(), key=lambda item: (-item[1][0][0], -item[1][0][1],
                                                         order.index(item[0])))
    pairs: list[Trial] = []
    for (_, (_, a)), (_, (_, b)) in itertools.combinations(seeds[:MAX_PAIR_SEEDS], 2):
        both = {**a.changes, **b.changes}
        trial = searcher.trial({p: both[p] for p in sorted(both, key=order.index)})
        if trial is not None and moves(trial.outcome) and \
                trial.outcome[:2] not in single_outcomes:
            pairs.append(_nearest(trial, values, searcher))
    return pairs


def _nearest(trial: Trial, values: Mapping[str, list[Any]], searcher: Searcher) -> Trial:
    """A pair's values moved as close to the current answers as still gives its outcome: a
    seed's value was chosen for what it silenced alone, not for the pair (a budget raised to
    1,106 where 8 would do)."""
    for path in list(trial.changes) * 2:  # twice: one value's move can free the other's
        for value in values.get(path, []):  # nearest to the current answer first
            if value == trial.changes[path]:
                break
            tried = searcher.trial({**trial.changes, path: value})
            if tried is not None and tried.outcome == trial.outcome:
                trial = tried
                break
    return trial


def _counterfactual(trial: Trial, base: Trial, levers: Mapping[str, str]) -> dict[str, Any]:
    """A counterfactual as reported: the changes (with how a team makes each, for levers), the
    outcome of re-assessing them, and the recommended option's cost where it differs."""
    out: dict[str, Any] = {
        "changes": trial.changes, "verdict": trial.outcome[0],
        "strategy": None if trial.outcome[1] is None and trial.outcome[2] is None
        else {"rung": trial.outcome[1], "service": trial.outcome[2]}}
    how = {p: levers[p] for p in trial.changes if p in levers}
    if how:
        out["levers"] = how
    if trial.cost is not None and trial.cost != base.cost:
        out["cost"] = {"low_usd_per_month": trial.cost[0], "high_usd_per_month": trial.cost[1]}
    return out


def _select(trials: list[Trial], base: Outcome, rb: RuleBase, order: list[str],
            limit: int) -> list[Trial]:
    """A short, varied list: one change set per path set and outcome (the value nearest the
    current answer), fewest changes first; outcomes taken in turn from each kind of change
    (a better verdict, another rung with the same verdict, a worse verdict)."""
    precedence: list[str] = list(rb.knowledge.ladder.verdict_precedence)  # worst first
    rungs = [r.id for r in rb.knowledge.ladder.rungs]
    by_outcome = _by_outcome(trials, order)

    def kind(outcome: Outcome) -> int:
        better = precedence.index(outcome[0]) - precedence.index(base[0])  # > 0: better
        if better > 0:
            return 0
        if outcome[1] != base[1] and better == 0:
            return 1
        return 2 if better < 0 else 3

    def rank(outcome: Outcome) -> tuple[Any, ...]:
        verdict, rung, service = outcome
        return (kind(outcome), -precedence.index(verdict),
                rungs.index(rung) if rung in rungs else -1, service or "",
                len(by_outcome[outcome][0].changes))

    kinds: dict[int, list[Outcome]] = {}
    for outcome in sorted(by_outcome, key=rank):
        kinds.setdefault(kind(outcome), []).append(outcome)
    return _spread(_in_turns(kinds, by_outcome), limit)


def _by_outcome(trials: list[Trial], order: list[str]) -> dict[Outcome, list[Trial]]:
    """Trials grouped by outcome, fewest changes first, one per outcome and set of paths."""
    by_outcome: dict[Outcome, list[Trial]] = {}
    seen: set[tuple[Outcome, tuple[str, ...]]] = set()
    for trial in sorted(trials, key=lambda t: (len(t.changes),
                                               [order.index(p) for p in t.changes])):
        key = (trial.outcome, tuple(sorted(trial.changes)))
        if key not in seen:
            seen.add(key)
            by_outcome.setdefault(trial.outcome, []).append(trial)
    return by_outcome


def _in_turns(kinds: dict[int, list[Outcome]], by_outcome: dict[Outcome, list[Trial]]
              ) -> list[Trial]:
    """One trial per outcome, kinds in turn; then the next trial of each outcome, and so on."""
    turns: list[Outcome] = []
    for depth in range(max((len(v) for v in kinds.values()), default=0)):
        turns.extend(v[depth] for _, v in sorted(kinds.items()) if depth < len(v))
    ranked: list[Trial] = []
    for depth in range(max((len(q) for q in by_outcome.values()), default=0)):
        ranked.extend(by_outcome[o][depth] for o in turns if depth < len(by_outcome[o]))
    return ranked


def _spread(ranked: list[Trial], limit: int) -> list[Trial]:
    """At most PER_ANSWER changes of one answer before every other answer has had its turn."""
    chosen: list[Trial] = []
    uses: dict[tuple[str, ...], int] = {}
    for trial in ranked:
        paths = tuple(sorted(trial.changes))
        if uses.get(paths, 0) < PER_ANSWER:
            uses[paths] = uses.get(paths, 0) + 1
            chosen.append(trial)
    chosen.extend(t for t in ranked if not any(t is c for c in chosen))
    return chosen[:limit]


# ---------------------------------------------------------------- the public API

def explain(assessment: Any, rulebase: RuleBase | None = None,
            limit: int = MAX_COUNTERFACTUALS, levers_only: bool = True) -> dict[str, Any]:
    """Why, why not, what would change the recommendation, and which answers it hinges on."""
    rb = rulebase or assessment.rulebase
    found = search(assessment, rb, limit, levers_only=levers_only)
    return {"why": why(assessment), "why_not": why_not(assessment, rb),
            "counterfactuals": found.counterfactuals, "sensitivity": found.sensitivity}


def counterfactuals_for_report(assessment: Any, limit: int = MAX_COUNTERFACTUALS
                               ) -> list[dict[str, Any]]:
    """The report's 'What would change this recommendation' section (decision['explanation'])."""
    return search(assessment, assessment.rulebase, limit).counterfactuals


__all__ = ["explain", "counterfactuals_for_report", "why", "why_not", "search", "domain",
           "apply_changes", "outcome_of", "relevant_rules"]
