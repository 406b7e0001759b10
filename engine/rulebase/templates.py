"""Rule text and `then` templates: `{path}` placeholders filled from the facts a rule matched.

A template is compiled once into a function of the bindings (the path of each placeholder split
into fact type and field, literal text kept as is), because rules fill their templates on every
firing: the engine's hottest Python path besides durable_rules itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.rulebase import conditions
from engine.rulebase.loading import DERIVED_TYPES
from engine.util.display import show_value

Bindings = Mapping[str, Mapping[str, Any]]
Template = Callable[[Bindings], Any]

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
_MISSING = conditions._MISSING


def fill(template: Any, bindings: Bindings) -> Any:
    """Substitute {path} placeholders from the matched facts; a lone placeholder keeps its type."""
    if isinstance(template, str):
        return _compile_text(template)(bindings)
    return compile_template(template)(bindings)


def compile_template(template: Any) -> Template:
    """A template (a mapping, list, string or plain value) as a function of the bindings."""
    if isinstance(template, dict):
        # a part without placeholders is kept as is, not called (the keys keep their order)
        items = [(key, *_part(value)) for key, value in template.items()]
        return lambda b: {key: part(b) if call else part for key, part, call in items}
    if isinstance(template, list):
        parts = [compile_template(value) for value in template]
        return lambda b: [part(b) for part in parts]
    if isinstance(template, str):
        return _compile_text(template)
    return lambda b: template


def _part(template: Any) -> tuple[Any, bool]:
    """A template inside a mapping: (its constant value, False) when it is a string without
    placeholders, a number, a boolean or null; else (its compiled form, True)."""
    if template is None or isinstance(template, bool | int | float):
        return template, False
    if isinstance(template, str) and not PLACEHOLDER.search(template):
        return template, False
    return compile_template(template), True


@functools.lru_cache(maxsize=8192)
def _compile_text(template: str) -> Template:
    lone = PLACEHOLDER.fullmatch(template)
    if lone:
        return _lone(lone.group(1))
    pieces = PLACEHOLDER.split(template)  # literal, path, literal, path, ..., literal
    if len(pieces) == 1:
        return lambda b: template
    literals, paths = pieces[0::2], [_field(p) for p in pieces[1::2]]

    def text(b: Bindings) -> str:
        out = [literals[0]]
        for (alias, key), literal in zip(paths, literals[1:], strict=True):
            out.append(_words(_value(b, alias, key)))
            out.append(literal)
        return "".join(out)

    return text


def _lone(path: str) -> Template:
    """"{offer}" is every field of the bound fact; "{offer.rung}" one value, of its own type."""
    alias, key = _field(path)

    def value(b: Bindings) -> Any:
        if path in b:
            return dict(b[path])
        found = _value(b, alias, key)
        return None if found is _MISSING else found

    return value


def _field(path: str) -> tuple[str, str]:
    return conditions.split_path(path, DERIVED_TYPES)


def _value(b: Bindings, alias: str, key: str) -> Any:
    fact = b.get(alias)
    if fact is None:
        return _MISSING
    value = fact.get(key)
    return _MISSING if value is None else value


def _words(value: Any) -> str:
    """A value inside a sentence: numbers as the report writes them ("200,000 requests",
    "1,314.5 USD", never "1e+06")."""
    if value is _MISSING:
        return "(not given)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return show_value(value, grouped=True)
    return str(value)
