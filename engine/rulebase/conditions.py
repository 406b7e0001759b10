"""The rules' condition language: parsed once, evaluated in Python, compiled to durable_rules.

A condition is `all: [...]`, `any: [...]`, `not: {...}` or a leaf `path: value` (equality) /
`path: {op: value}` with op one of eq, ne, lt, le, gt, ge, in, not_in, exists. A value may be
`{ref: other.path}` to compare with another fact. The first segment of a path names the fact
type when it is a derived type (offer, option, bench, ...); any other path is an answer of the
case fact (data.labeled_examples).

Semantics shared by both evaluators (and tested to agree): a comparison with a missing value is
false, negated or not. `not` is pushed down to the leaves (negation normal form) before either
evaluator sees it, so durable_rules never needs an absence test.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists")
NEGATED = {
    "eq": "ne",
    "ne": "eq",
    "lt": "ge",
    "ge": "lt",
    "le": "gt",
    "gt": "le",
    "in": "not_in",
    "not_in": "in",
}
DURABLE_OPS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
CASE = "case"


class ConditionError(ValueError):
    """A malformed condition; `where` is its location inside the rule."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Ref:
    path: str


@dataclass(frozen=True)
class Leaf:
    path: str
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    kind: str  # "all" | "any"
    items: tuple[Node, ...]


Node = Leaf | Group


def split_path(path: str, derived_types: Iterable[str]) -> tuple[str, str]:
    """'offer.rung' -> ('offer', 'rung'); 'data.labeled_examples' -> ('case', ...)."""
    head, _, rest = path.partition(".")
    if head in derived_types and rest:
        return head, rest
    return CASE, path


def parse(cond: Any, where: str = "when", negate: bool = False) -> Node:
    """YAML condition -> normalised tree with `not` pushed to the leaves."""
    if isinstance(cond, list):
        cond = {"all": cond}
    if not isinstance(cond, Mapping) or not cond:
        raise ConditionError(where, "expected a mapping (all/any/not or path: value)")
    if len(cond) == 1:
        ((key, body),) = cond.items()
        if key in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise ConditionError(f"{where}.{key}", "expected a non-empty list of conditions")
            kind = key if not negate else ("any" if key == "all" else "all")
            items = tuple(parse(c, f"{where}.{key}[{i}]", negate) for i, c in enumerate(body))
            return Group(kind, items)
        if key == "not":
            return parse(body, f"{where}.not", not negate)
        return _leaf(str(key), body, where, negate)
    # several keys: an implicit all
    return parse({"all": [{k: v} for k, v in cond.items()]}, where, negate)


def _leaf(path: str, body: Any, where: str, negate: bool) -> Node:
    if not path or any(not part for part in path.split(".")):
        raise ConditionError(where, f"bad fact path {path!r}")
    if isinstance(body, Mapping) and body and set(body) - {"ref"}:
        leaves = [_one(path, op, value, f"{where}.{path}", negate) for op, value in body.items()]
        if len(leaves) == 1:
            return leaves[0]
        return Group("any" if negate else "all", tuple(leaves))
    return _one(path, "eq", body, f"{where}.{path}", negate)


def _one(path: str, op: str, value: Any, where: str, negate: bool) -> Leaf:
    if op not in OPS:
        raise ConditionError(where, f"unknown operator {op!r} (expected one of {', '.join(OPS)})")
    if isinstance(value, Mapping):
        if set(value) != {"ref"} or not isinstance(value["ref"], str):
            raise ConditionError(where, "a mapping value must be {ref: fact.path}")
        value = Ref(value["ref"])
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(where, f"{op} expects a non-empty list")
        value = tuple(value)
    if op == "exists":
        if not isinstance(value, bool):
            raise ConditionError(where, "exists expects true or false")
        return Leaf(path, op, value != negate)
    if negate:
        op = NEGATED[op]
    return Leaf(path, op, value)


def leaves(node: Node) -> Iterator[Leaf]:
    if isinstance(node, Leaf):
        yield node
    else:
        for item in node.items:
            yield from leaves(item)


@functools.lru_cache(maxsize=4096)
def paths(node: Node) -> frozenset[str]:
    """Every fact path a condition reads (cached: conditions are immutable)."""
    out: set[str] = set()
    for leaf in leaves(node):
        out.add(leaf.path)
        if isinstance(leaf.value, Ref):
            out.add(leaf.value.path)
    return frozenset(out)


# ---------------------------------------------------------------- Python evaluation

_MISSING = object()


def lookup(bindings: Mapping[str, Mapping[str, Any]], path: str, derived: Iterable[str]) -> Any:
    alias, key = split_path(path, derived)
    fact = bindings.get(alias)
    if fact is None:
        return _MISSING
    value = fact.get(key, _MISSING)
    return _MISSING if value is None else value


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda actual, expected: actual in expected,
    "not_in": lambda actual, expected: actual not in expected,
}


def _compare(op: str, actual: Any, expected: Any) -> bool:
    """A missing value or values of types that do not compare never match, as in durable-rules."""
    if actual is _MISSING or expected is _MISSING:
        return False
    try:
        return bool(_OPERATORS[op](actual, expected))
    except TypeError:
        return False


def eval_leaf(
    leaf: Leaf, bindings: Mapping[str, Mapping[str, Any]], derived: Iterable[str]
) -> bool:
    actual = lookup(bindings, leaf.path, derived)
    if leaf.op == "exists":
        return (actual is not _MISSING) == leaf.value
    expected = leaf.value
    if isinstance(expected, Ref):
        expected = lookup(bindings, expected.path, derived)
    return _compare(leaf.op, actual, expected)


def evaluate(node: Node, bindings: Mapping[str, Mapping[str, Any]], derived: Iterable[str]) -> bool:
    if isinstance(node, Leaf):
        return eval_leaf(node, bindings, derived)
    results = (evaluate(item, bindings, derived) for item in node.items)
    return all(results) if node.kind == "all" else any(results)


def failing_leaves(
    node: Node, bindings: Mapping[str, Mapping[str, Any]], derived: Iterable[str]
) -> list[Leaf]:
    """Leaves that make the node false: each one, changed, is a reason the rule did not fire."""
    if isinstance(node, Leaf):
        return [] if eval_leaf(node, bindings, derived) else [node]
    if node.kind == "all":
        return [f for item in node.items for f in failing_leaves(item, bindings, derived)]
    if any(evaluate(item, bindings, derived) for item in node.items):
        return []
    return [f for item in node.items for f in failing_leaves(item, bindings, derived)]


def aliases(node: Node, derived: Iterable[str]) -> list[str]:
    """Fact types a condition binds, the case first, then in order of appearance."""
    derived = tuple(derived)
    seen: list[str] = []
    for leaf in leaves(node):
        for path in (leaf.path, leaf.value.path if isinstance(leaf.value, Ref) else None):
            if path is None:
                continue
            alias, _ = split_path(path, derived)
            if alias not in seen:
                seen.append(alias)
    if CASE in seen:
        seen.remove(CASE)
        seen.insert(0, CASE)
    return seen


def matches(
    node: Node, facts_by_type: Mapping[str, list[Mapping[str, Any]]], derived: Iterable[str]
) -> list[dict[str, Mapping[str, Any]]]:
    """Every binding of facts (one per fact type) that satisfies the condition."""
    derived = tuple(derived)
    names = aliases(node, derived)
    pools = [facts_by_type.get(name, []) for name in names]
    found = []
    for combo in itertools.product(*pools):
        bindings = dict(zip(names, combo, strict=True))
        if evaluate(node, bindings, derived):
            found.append(bindings)
    return found


# ---------------------------------------------------------------- durable_rules compilation


@functools.lru_cache(maxsize=8192)
def field_name(key: str) -> str:
    """durable_rules field names cannot hold dots: a.b -> a__b"""
    return key.replace(".", "__")


def _durable_leaf(leaf: Leaf, derived: tuple[str, ...],
                  named: Callable[[str], str] = field_name) -> dict[str, Any]:
    alias, key = split_path(leaf.path, derived)
    name = named(key)
    value: Any = leaf.value
    if isinstance(value, Ref):
        ref_alias, ref_key = split_path(value.path, derived)
        # a field of the same fact is "$m"; another fact's field is named by its alias
        value = {"$m" if ref_alias == alias else ref_alias: named(ref_key)}
    if leaf.op == "exists":
        return {"$ex" if leaf.value else "$nex": {name: 1}}
    if leaf.op == "eq":
        return {name: value}
    if leaf.op == "in":
        return {"$or": [{name: v} for v in value]}
    if leaf.op == "not_in":
        return {"$and": [{"$neq": {name: v}} for v in value]}
    return {DURABLE_OPS[leaf.op]: {name: value}}


def _durable(node: Node, derived: tuple[str, ...],
             named: Callable[[str], str] = field_name) -> dict[str, Any]:
    if isinstance(node, Leaf):
        return _durable_leaf(node, derived, named)
    parts = [_durable(item, derived, named) for item in node.items]
    if len(parts) == 1:
        return parts[0]
    return {"$and" if node.kind == "all" else "$or": parts}


def _owners(node: Node, derived: tuple[str, ...]) -> set[str]:
    """Fact types a node reads, a reference's target included: a node reading two types is split
    into branches, so a reference to another fact always stands alone in its branch."""
    out = set()
    for leaf in leaves(node):
        out.add(split_path(leaf.path, derived)[0])
        if isinstance(leaf.value, Ref):
            out.add(split_path(leaf.value.path, derived)[0])
    return out


def _cross_ref(item: Node, derived: tuple[str, ...]) -> tuple[str, str] | None:
    """(alias, field) of another fact a leaf compares with, or None."""
    if not isinstance(item, Leaf) or not isinstance(item.value, Ref):
        return None
    ref_alias, ref_key = split_path(item.value.path, derived)
    return None if ref_alias == split_path(item.path, derived)[0] else (ref_alias, ref_key)


def _branches(node: Node, derived: tuple[str, ...]) -> list[list[Node]]:
    """Disjunctive normal form over fact types: each branch is a conjunction of sub-conditions
    that each test a single fact type (durable_rules patterns cannot span two facts)."""
    if isinstance(node, Leaf) or len(_owners(node, derived)) == 1:
        return [[node]]
    if node.kind == "any":
        return [branch for item in node.items for branch in _branches(item, derived)]
    combos: list[list[Node]] = [[]]
    for item in node.items:
        combos = [done + more for done in combos for more in _branches(item, derived)]
    return combos


def compile_durable(node: Node, derived: Iterable[str], type_field: str = "t",
                    named: Callable[[str], str] = field_name) -> list[list[dict]]:
    """durable_rules `all` lists, one per branch: a pattern per bound fact type in each, each
    field named by `named` (the engine gives short names: see inference.wire_name)."""
    derived = tuple(derived)
    order = aliases(node, derived)
    out = []
    for branch in _branches(node, derived):
        per_alias: dict[str, list[dict[str, Any]]] = {a: [] for a in order}
        for item in branch:
            owner = split_path(next(leaves(item)).path, derived)[0]
            target = _cross_ref(item, derived)
            if target is not None:
                # durable_rules' C core crashes comparing with another fact's missing field;
                # a comparison with a missing value is false, so require the field to exist.
                per_alias.setdefault(target[0], []).append({"$ex": {named(target[1]): 1}})
            for leaf in leaves(item):
                if isinstance(leaf.value, Ref):
                    ref_alias, _ = split_path(leaf.value.path, derived)
                    if ref_alias not in order or order.index(ref_alias) > order.index(owner):
                        raise ConditionError(
                            "when",
                            f"{leaf.path} refers to {leaf.value.path}: a reference must "
                            f"name a fact type bound earlier ({' -> '.join(order)})",
                        )
            per_alias[owner].append(_durable(item, derived, named))
        out.append([{alias: {"$and": [{type_field: alias}, *per_alias[alias]]}} for alias in order])
    return out
