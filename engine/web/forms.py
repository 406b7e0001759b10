"""The questionnaire as one HTML form: build the view of each field, read a submission back.

A submitted form becomes an answers document plus a message per field that needs attention,
keyed by the field's dotted path (InputError.path), so every message lands beside its input.
Unanswered optional questions are left out of the document so that the report lists them as
defaulted, exactly as with a hand-written answers file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError
from engine.questionnaire.fields import (
    Field,
    criterion_fields,
    default_text,
    fields,
    is_asked,
    ordered,
    parse_number,
    plain,
    sections,
)
from engine.util import dotted

SOURCE = "form"
MIN_CRITERIA_ROWS = 3
MAX_CRITERIA = 50  # the answers model allows 50 criteria
CRITERION_PARTS = ("metric", "threshold", "goal")
MAX_DIGITS = 15  # a float holds 15 significant digits exactly; longer numbers are refused
# A plain decimal in ASCII digits, optionally grouped by commas: no exponents, no '²' or '٣'
# (str.isdigit() and float() accept those), no 'inf', 'nan', '0x10' or '1_000'.
NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?", re.ASCII)
ROW_KEY = re.compile(r"-([0-9]{1,2})-(?:metric|threshold|goal)", re.ASCII)


@dataclass
class Submission:
    """What the person typed (to show it again), the document, and the messages by path."""

    values: dict[str, Any] = field(default_factory=dict)
    doc: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    criteria_rows: int = MIN_CRITERIA_ROWS


def reason(error: InputError) -> str:
    """An InputError as a sentence for a person, without file and path (the form shows those)."""
    text = plain(error.expected)
    if error.got is not None and not isinstance(error.got, dict | list):
        text += f" (you entered {error.got})"
    return text[:1].upper() + text[1:]


def row_name(f: Field, index: int, part: str) -> str:
    return f"{f.name}-{index}-{part}"


def read_form(form: Mapping[str, Any]) -> Submission:
    """Form fields -> answers document and per-field messages (empty when all is well)."""
    sub = Submission()
    for f in fields():
        if f.kind == "criteria":
            _read_criteria(f, form, sub)
            continue
        raw = str(form.get(f.name, "") or "")
        sub.values[f.name] = raw
        if not raw.strip():
            if f.required:
                sub.errors[f.path] = "An answer is required"
            continue  # unanswered: the model's default applies and the report says so
        try:
            dotted.set(sub.doc, f.path, f.parse(strict(f, raw), SOURCE))
        except InputError as error:
            sub.errors[f.path] = reason(error)
    for f in fields():  # a question that does not apply is not part of the answers
        if not is_asked(f, sub.doc):
            sub.errors.pop(f.path, None)
            if dotted.get(sub.doc, f.path, None) is not None:
                dotted.drop(sub.doc, f.path, prune=True)
    if not sub.errors:
        _check_whole(sub)
    sub.doc = ordered(sub.doc)
    return sub


def strict(f: Field, raw: str) -> str:
    """`raw` when it is a well-formed answer for `f`'s kind; else an InputError for `f`.

    The form sends choice ids and plain decimals; anything else (a Unicode digit, an exponent,
    a choice given by number) is refused here, before lenient terminal-style parsing.
    """
    text = raw.strip()
    if not text:
        return raw  # empty: the default or "an answer is required", decided by the caller
    if f.kind in ("int", "float"):
        return plain_number(text, f.kind, f.path)
    if f.kind == "choice" and text not in f.choices:
        raise InputError(SOURCE, f.path, f"one of {', '.join(f.choices)}", text[:60])
    return raw


def plain_number(text: str, kind: str, path: str) -> str:
    """`text` if it is a plain decimal of at most MAX_DIGITS digits (whole for 'int')."""
    expected = "a whole number" if kind == "int" else "a number"
    if not NUMBER.fullmatch(text):
        raise InputError(SOURCE, path, f"{expected}, written with the digits 0-9",
                         text[:60])
    digits = sum(ch.isdigit() for ch in text.lstrip("+-0").replace(".", ""))
    if digits > MAX_DIGITS:
        raise InputError(SOURCE, path, f"{expected} of at most {MAX_DIGITS} digits",
                         text[:60])
    if kind == "int" and "." in text and text.split(".")[1].strip("0"):
        raise InputError(SOURCE, path, expected, text[:60])
    return text


def _read_criteria(f: Field, form: Mapping[str, Any], sub: Submission) -> None:
    """Rows `NAME-i-metric/threshold/goal`; messages are keyed by the row (PATH.i.part)."""
    parts = criterion_fields()
    indexes = _row_indexes(f, form, sub)
    criteria = []
    for index in indexes:
        item = _read_row(f, form, index, parts, sub)
        if item is not None:
            criteria.append(item)
    sub.criteria_rows = max(MIN_CRITERIA_ROWS, (max(indexes) + 1) if indexes else 0)
    if criteria and not any(k.startswith(f.path + ".") for k in sub.errors):
        try:
            dotted.set(sub.doc, f.path, f.validate(criteria, SOURCE))
        except InputError as error:
            sub.errors[f.path] = reason(error)


def _row_indexes(f: Field, form: Mapping[str, Any], sub: Submission) -> list[int]:
    """The row numbers the form sent, in order; a row name out of range is an error."""
    odd = [k for k in form if k.startswith(f.name + "-") and not (
        (m := ROW_KEY.fullmatch(k[len(f.name):])) and int(m.group(1)) < MAX_CRITERIA)]
    if odd:  # browsers never send these; a crafted name is refused, not guessed at
        sub.errors[f.path] = (f"Success criteria rows are numbered 0 to {MAX_CRITERIA - 1} "
                              f"in the digits 0-9 (the form sent {odd[0][:60]})")
    return sorted({int(m.group(1)) for k in form if k.startswith(f.name + "-")
                   and (m := ROW_KEY.fullmatch(k[len(f.name):]))
                   and int(m.group(1)) < MAX_CRITERIA})


def _read_row(f: Field, form: Mapping[str, Any], index: int, parts: Mapping[str, Field],
              sub: Submission) -> dict[str, Any] | None:
    """One criterion row (its text kept to show again); None for an empty row."""
    raw = {p: str(form.get(row_name(f, index, p), "") or "").strip() for p in CRITERION_PARTS}
    for p in CRITERION_PARTS:
        sub.values[row_name(f, index, p)] = raw[p]
    if not raw["metric"] and not raw["threshold"]:
        return None  # an empty row (its goal keeps the preselected choice)
    item: dict[str, Any] = {}
    for p in CRITERION_PARTS:
        key = f"{f.path}.{index}.{p}"
        try:
            item[p] = _criterion_part(parts[p], p, raw[p], key)
        except InputError as error:
            sub.errors[key] = reason(error)
    return item


def _criterion_part(part: Field, name: str, raw: str, key: str) -> Any:
    """One cell of a row: the goal as a choice, the threshold as a plain number, the metric
    as text; only the goal may be left empty (it has a default)."""
    if name == "goal":
        return part.parse(strict(part, raw), SOURCE)
    if not raw:
        raise InputError(SOURCE, key, "an answer is required")
    if name == "threshold":
        number = plain_number(raw, "float", key)
        return part.validate(parse_number(number, "float", key, SOURCE), SOURCE)
    return part.validate(raw, SOURCE)


def _check_whole(sub: Submission) -> None:
    """The whole document through the answers model, the same check the engine makes."""
    from engine.model.answers import parse_answers

    try:
        parse_answers(ordered(sub.doc), SOURCE)
    except InputError as error:
        sub.errors[field_path(error.path)] = reason(error)


def field_path(path: str) -> str:
    """The question a (possibly nested) error path belongs to: the path's own question, else
    the first question inside it (a group such as project.current_solution), else the nearest
    question above it; unknown paths go to the top."""
    known = {f.path for f in fields()}
    inside = [f.path for f in fields() if f.path.startswith(path + ".")] if path else []
    if path not in known and inside:
        return inside[0]
    probe = path
    while probe:
        if probe in known:
            return probe
        probe = probe.rpartition(".")[0]
    return ""


def from_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Form values prefilled from an answers document (edit and assess again)."""
    values: dict[str, Any] = {}
    for f in fields():
        value = dotted.get(answers, f.path, None)
        if value is None:
            continue
        if f.kind == "criteria":
            for index, item in enumerate(value):
                for p in CRITERION_PARTS:
                    shown = item.get(p, "")
                    if isinstance(shown, float) and shown.is_integer():
                        shown = int(shown)
                    values[row_name(f, index, p)] = str(shown)
        elif f.kind == "bool":
            values[f.name] = "yes" if value else "no"
        elif f.kind == "list":
            values[f.name] = ", ".join(value)
        elif isinstance(value, float) and value.is_integer():
            values[f.name] = str(int(value))
        else:
            values[f.name] = str(value)
    return values


def condition_note(f: Field) -> str:
    """'Answer this if you answered yes to “…”.' from the question's ask_when."""
    from engine.rulebase.conditions import Leaf, leaves

    if f.ask_when is None:
        return ""
    by_path = {g.path: g for g in fields()}
    parts = []
    for leaf in leaves(f.ask_when):
        if not isinstance(leaf, Leaf) or leaf.path not in by_path:
            continue
        parts.append(_leaf_words(leaf.op, leaf.value, by_path[leaf.path]))
    return ("Answer this only if " + " and ".join(parts) + ".") if parts else ""


def _leaf_words(op: str, value: Any, other: Field) -> str:
    """One condition on an earlier answer, as the person gave that answer."""
    asked = f"“{other.question}”"
    if op in ("in", "not_in"):
        listed = ", ".join(other.show(v) for v in value)
        verb = "answered one of" if op == "in" else "did not answer any of"
        return f"you {verb} {listed} to {asked}"
    if op == "exists":
        return f"you answered {asked}" if value else f"you left {asked} unanswered"
    if op == "eq":
        return f"you answered {other.show(value)} to {asked}"
    if op == "ne":
        return f"you did not answer {other.show(value)} to {asked}"
    return f"{asked} is {op} {other.show(value)}"


def view(sub_values: Mapping[str, Any], errors: Mapping[str, str],
         criteria_rows: int = MIN_CRITERIA_ROWS) -> list[dict[str, Any]]:
    """Everything the template needs, section by section; no decisions are made here."""
    out = []
    for number, (section, section_fields) in enumerate(sections(), start=1):
        items = []
        for f in section_fields:
            item: dict[str, Any] = {
                "f": f, "id": f"q-{f.name}", "name": f.name, "value": sub_values.get(f.name, ""),
                "error": errors.get(f.path, ""), "note": condition_note(f),
                "default": "" if f.required else default_text(f),
                "empty": _empty_text(f), "bounds": _bounds_text(f.bounds),
            }
            if f.kind == "criteria":
                item["rows"] = _criteria_rows(f, sub_values, errors, criteria_rows)
            items.append(item)
        out.append({"number": number, "section": section, "questions": items,
                    "id": f"phase-{section.id}"})
    return out


def _empty_text(f: Field) -> str:
    """What leaving a text box empty means, in words."""
    if f.required:
        return ""
    if f.kind in ("criteria", "list"):
        return "Leave empty for none."
    if f.default is None:
        return "Leave empty if unknown."
    return f"Leave empty to use the default, {f.show(f.default)}."


def _bounds_text(bounds: str) -> str:
    words = {">=": "{} or more", ">": "more than {}", "<=": "{} or less", "<": "less than {}"}
    out = []
    for part in filter(None, (b.strip() for b in bounds.split(","))):
        sign, _, value = part.partition(" ")
        out.append(words.get(sign, sign + " {}").format(value))
    return " and ".join(out)


def _criteria_rows(f: Field, values: Mapping[str, Any], errors: Mapping[str, str],
                   count: int) -> list[dict[str, Any]]:
    filled = [i for i in range(MAX_CRITERIA)
              if any(values.get(row_name(f, i, p)) for p in ("metric", "threshold"))]
    total = min(MAX_CRITERIA, max(count, (max(filled) + 1) if filled else 0, MIN_CRITERIA_ROWS))
    rows = []
    for index in range(total):
        rows.append({
            "index": index, "number": index + 1,
            "cells": {p: {"name": row_name(f, index, p), "id": f"q-{row_name(f, index, p)}",
                          "value": values.get(row_name(f, index, p), ""),
                          "error": errors.get(f"{f.path}.{index}.{p}", "")}
                      for p in CRITERION_PARTS},
        })
    return rows


def error_list(errors: Mapping[str, str]) -> list[dict[str, str]]:
    """The summary at the top of the form: each message linking to its input."""
    by_path = {f.path: f for f in fields()}
    out = []
    for path, message in errors.items():
        f = by_path.get(field_path(path))
        if f is None:
            out.append({"href": "#answers-form", "label": "The answers", "message": message})
        elif f.kind == "criteria" and path != f.path:
            index, part = path[len(f.path) + 1:].split(".", 1)
            out.append({"href": f"#q-{row_name(f, int(index), part)}",
                        "label": f"Success criterion {int(index) + 1}: {part}",
                        "message": message})
        else:
            out.append({"href": f"#q-{f.name}", "label": f.question, "message": message})
    return out
