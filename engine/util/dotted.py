"""Dotted paths (`data.labeled_examples`) into nested answer documents, in one place.

Answers, facts, forms, reports and diffs all name an answer by its dotted path; reading,
writing, removing and flattening by such a path were written a dozen times with small
differences. Those differences are kept, as keyword arguments, so each caller still says
which behaviour it relies on: how lists are flattened, whether `None` is a leaf, whether an
empty mapping is one, whether `None` removes an answer.

A key is one path segment: keys that themselves contain a dot are not addressed by these
functions (the answers format has none).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Final, Literal


class _Missing:
    """The type of MISSING: distinct from every value a document can hold, including None."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def get(doc: Any, path: str, default: Any = MISSING) -> Any:
    """The value at `path`, or `default` (MISSING unless given) when any segment is absent or
    a value on the way is not a mapping. A stored None is returned as None, not as absent."""
    node = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def has(doc: Any, path: str) -> bool:
    """Whether `path` is present (its value may be None)."""
    return get(doc, path) is not MISSING


def set(doc: MutableMapping[str, Any], path: str, value: Any, *,
        none_drops: bool = False, replace: bool = False) -> None:
    """Store `value` at `path`, creating missing mappings on the way.

    `none_drops`: a None value removes the answer instead (a rule example's `null` means "take
    the default"). `replace`: a non-mapping value on the way is replaced by a new mapping;
    without it, that is a TypeError, as a document of the wrong shape is a caller's bug.
    The value is stored as given, not copied."""
    if value is None and none_drops:
        drop(doc, path)
        return
    *parents, last = path.split(".")
    node: MutableMapping[str, Any] = doc
    for part in parents:
        child = node.get(part, MISSING)
        if child is MISSING or (replace and not isinstance(child, MutableMapping)):
            child = node[part] = {}
        elif not isinstance(child, MutableMapping):
            raise TypeError(f"{path}: {part} holds {type(child).__name__}, not a mapping")
        node = child
    node[last] = value


def drop(doc: MutableMapping[str, Any], path: str, *, prune: bool = False) -> None:
    """Remove `path` if present. `prune`: also remove the mappings it leaves empty (a section
    with no answer left is left out of the document)."""
    *parents, last = path.split(".")
    chain: list[tuple[MutableMapping[str, Any], str]] = []
    node: Any = doc
    for part in parents:
        child = node.get(part) if isinstance(node, MutableMapping) else None
        chain.append((node, part))
        node = child
    if not isinstance(node, MutableMapping):
        return
    node.pop(last, None)
    if prune:
        for parent, part in reversed(chain):
            if parent[part]:
                break
            del parent[part]


def flatten(value: Any, prefix: str = "", *, lists: Literal["leaf", "count"] = "leaf",
            skip_none: bool = False, empty_leaf: bool = False) -> dict[str, Any]:
    """Nested mappings as {dotted path: leaf value}, depth first in the document's order.

    `lists`: "leaf" keeps a list whole as one value; "count" gives `PATH.count` = its length
    instead (the facts the rules see). `skip_none`: leave out None leaves. `empty_leaf`: an
    empty mapping is a leaf of its own (shown as {}) instead of contributing nothing."""
    out: dict[str, Any] = {}
    _flatten(value, prefix, out, lists, skip_none, empty_leaf)
    return out


def _flatten(value: Any, prefix: str, out: dict[str, Any], lists: str, skip_none: bool,
             empty_leaf: bool) -> None:
    if isinstance(value, Mapping) and (value or not empty_leaf):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, lists, skip_none,
                     empty_leaf)
    elif isinstance(value, list) and lists == "count":
        out[f"{prefix}.count"] = len(value)
    elif value is not None or not skip_none:
        out[prefix] = value
