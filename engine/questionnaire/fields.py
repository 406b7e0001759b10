"""The questionnaire as typed fields, and the answers documents they fill.

Both front-ends (the terminal wizard in wizard.py and the web form in engine/web/forms.py) are
generated from one source: the questions, help and conditions in knowledge/questionnaire.yaml,
and the types, choices, defaults and bounds of the answers model in engine/model/answers.py.
This module holds what they share: the fields and how typed text becomes a valid answer, the
success-criterion sub-fields, which questions apply, the answers document in questionnaire
order, its YAML text (with the questions left at their default) and the commented template.
Nothing here names a task, rung or service.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from engine.errors import InputError
from engine.model.answers import (
    ANSWERS_SCHEMA,
    group_of,
    leaf_paths,
    validation_to_input_error,
)
from engine.model.vocab import GOALS
from engine.util import dotted

TRUE_WORDS = ("y", "yes", "true", "1")
FALSE_WORDS = ("n", "no", "false", "0")
REQUIRED = object()  # the default of a field that has none


@dataclass(frozen=True)
class Field:
    """One question: how to ask it (knowledge) and what it accepts (the answers model)."""

    path: str
    section: str
    question: str
    help: str
    kind: str  # text | bool | choice | int | float | criteria | list
    choices: tuple[str, ...]
    default: Any  # REQUIRED when the answer has no default
    nullable: bool
    bounds: str
    ask_when: Any
    personal: bool
    example: Any
    description: str
    adapter: TypeAdapter[Any] = field(compare=False, repr=False)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def name(self) -> str:
        """An identifier safe for HTML ids and form names."""
        return self.path.replace(".", "__")

    def validate(self, value: Any, source: str = "<answer>") -> Any:
        """The value as the answers model accepts it, or an InputError naming this field."""
        try:  # back to plain JSON-able data: criteria become dicts, not models
            return self.adapter.dump_python(self.adapter.validate_python(value), mode="json")
        except ValidationError as error:
            problem = validation_to_input_error(source, error)
            problem.path = f"{self.path}.{problem.path}" if problem.path else self.path
            raise problem from None

    def parse(self, text: str, source: str = "<answer>") -> Any:
        """Typed text (a terminal line, a form field) -> a validated value.

        Empty text takes the default; a required answer without one is refused.
        """
        text = text.strip()
        if not text:
            if self.required:
                raise InputError(source, self.path, "an answer is required")
            return self.validate(self.default, source)
        return _PARSERS.get(self.kind, Field._parse_text)(self, text, source)

    def _parse_bool(self, text: str, source: str) -> Any:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise InputError(source, self.path, "yes or no", text)

    def _parse_choice(self, text: str, source: str) -> Any:
        """A choice by its name or by its number in the list (from 1)."""
        if is_index(text) and 1 <= int(text) <= len(self.choices):
            return self.choices[int(text) - 1]
        if text not in self.choices:
            raise InputError(source, self.path,
                             f"one of {', '.join(self.choices)} (or its number)", text)
        return text

    def _parse_number(self, text: str, source: str) -> Any:
        return self.validate(parse_number(text, self.kind, self.path, source), source)

    def _parse_list(self, text: str, source: str) -> Any:
        """Comma-separated items; empty items are left out."""
        return self.validate([p.strip() for p in text.split(",") if p.strip()], source)

    def _parse_criteria(self, text: str, source: str) -> Any:
        raise InputError(source, self.path, "criteria are entered one by one")

    def _parse_text(self, text: str, source: str) -> Any:
        return self.validate(text, source)

    def show(self, value: Any) -> str:
        """A value as a person reads it."""
        if value is None:
            return "(none)"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if self.kind == "list":
            return ", ".join(value) if value else "(none)"
        if self.kind == "criteria":
            return "; ".join(criterion_text(c) for c in value) if value else "(none)"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


# How typed text becomes each kind of answer; any other kind is free text.
_PARSERS: dict[str, Callable[[Field, str, str], Any]] = {
    "bool": Field._parse_bool,
    "choice": Field._parse_choice,
    "int": Field._parse_number,
    "float": Field._parse_number,
    "list": Field._parse_list,
    "criteria": Field._parse_criteria,
}


def default_text(f: Field) -> str:
    """A field's default in words: 'no', 'moderate', 'unknown', 'none'."""
    if f.kind in ("criteria", "list"):
        return "none"
    if f.default is None:
        return "unknown"
    return f.show(f.default)


def criterion_text(criterion: Mapping[str, Any]) -> str:
    goal = str(criterion.get("goal", "at-least")).replace("-", " ")
    threshold = criterion.get("threshold")
    if isinstance(threshold, float) and threshold.is_integer():
        threshold = int(threshold)
    return f"{criterion.get('metric')} {goal} {threshold}"


def is_index(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() then refuses."""
    return text.isascii() and text.isdigit()


def parse_number(text: str, kind: str, path: str, source: str) -> float | int:
    """Typed text as a number, leniently: `12,000`, `12_000` and `12 000` are 12000."""
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(source, path, "a whole number" if kind == "int" else "a number",
                         text) from None
    if kind == "int":
        if not value.is_integer():
            raise InputError(source, path, "a whole number", text)
        return int(value)
    return value


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _base(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    base = _base(annotation)
    if get_origin(base) is Literal:
        return "choice", tuple(str(a) for a in get_args(base))
    if get_origin(base) is list:
        item = _base(get_args(base)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "criteria", ()
        return "list", ()
    if base is bool:
        return "bool", ()
    if base is int:
        return "int", ()
    if base is float:
        return "float", ()
    return "text", ()


def _adapter(info: Any, nullable: bool = False) -> TypeAdapter[Any]:
    """A validator for one field alone: its type with its constraints (bounds, lengths);
    `nullable` also accepts None (a field required only inside an optional group)."""
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation | None if nullable else annotation)


def _bounds(metadata: Iterable[Any]) -> str:
    out = []
    for item in metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                out.append(f"{sign} {value}")
    return ", ".join(out)


_CACHE: dict[int, tuple[Any, tuple[Field, ...]]] = {}


def _fields_for(questionnaire: Any) -> tuple[Field, ...]:
    cached = _CACHE.get(id(questionnaire))
    if cached is not None and cached[0] is questionnaire:
        return cached[1]
    result = _build_fields(questionnaire)
    _CACHE[id(questionnaire)] = (questionnaire, result)
    return result


def _build_fields(questionnaire: Any) -> tuple[Field, ...]:
    from engine.rulebase.conditions import parse

    infos = leaf_paths()
    out = []
    for section in questionnaire.sections:
        for q in section.questions:
            info = infos[q.path]
            inner, nullable = _strip_optional(info.annotation)
            kind, choices = _kind(inner)
            # required inside an optional group (project.current_solution.rung): an answer
            # left empty leaves the whole group out, so as a question it is optional
            in_group = info.is_required() and group_of(q.path) is not None
            if in_group:
                default: Any = None
                nullable = True
            elif info.is_required():
                default = [] if kind in ("criteria", "list") and info.default_factory \
                    else REQUIRED
            else:
                default = info.get_default(call_default_factory=True)
            adapter = _adapter(info, in_group)
            out.append(Field(
                path=q.path, section=section.id, question=q.question, help=q.help, kind=kind,
                choices=choices, default=default, nullable=nullable,
                bounds=_bounds(info.metadata), ask_when=parse(q.ask_when, f"{q.path}.ask_when")
                if q.ask_when is not None else None,
                personal=q.personal, example=q.example, description=info.description or "",
                adapter=adapter))
    return tuple(out)


def questionnaire() -> Any:
    from engine.rulebase.loading import default_rulebase

    return default_rulebase().knowledge.questionnaire


def fields() -> tuple[Field, ...]:
    """Every question of the questionnaire as a typed field, in the order asked."""
    return _fields_for(questionnaire())


def sections() -> list[tuple[Any, list[Field]]]:
    """(section, its fields) in questionnaire order."""
    by_path = {f.path: f for f in fields()}
    return [(s, [by_path[q.path] for q in s.questions]) for s in questionnaire().sections]


def criterion_fields() -> dict[str, Field]:
    """The success-criterion sub-fields as typed fields (metric, threshold, goal)."""
    from engine.model.answers import SuccessCriterion

    out = {}
    for name, info in SuccessCriterion.model_fields.items():
        kind, choices = _kind(info.annotation)
        adapter = _adapter(info)
        out[name] = Field(
            path=f"business.success_criteria.{name}", section="", question=name, help="",
            kind=kind, choices=choices,
            default=REQUIRED if info.is_required() else info.get_default(),
            nullable=False, bounds="", ask_when=None, personal=False, example=None,
            description=info.description or "", adapter=adapter)
    return out



# ------------------------------------------------------------------ answers documents

def flat_answers(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted path -> the answer given, else the model's default (what a condition sees)."""
    flat = {}
    for f in fields():
        value = dotted.get(doc, f.path)
        if value is dotted.MISSING:
            value = None if f.required else f.default
        flat[f.path] = value
    return flat


def is_asked(f: Field, doc: Mapping[str, Any]) -> bool:
    """Whether the question applies given the answers so far (its `ask_when`)."""
    if f.ask_when is None:
        return True
    from engine.rulebase.conditions import evaluate

    return evaluate(f.ask_when, {"case": flat_answers(doc)}, ())


def ordered(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document with `schema` first and answers in questionnaire order."""
    out: dict[str, Any] = {"schema": ANSWERS_SCHEMA}
    for f in fields():
        value = dotted.get(doc, f.path)
        if value is not dotted.MISSING:
            dotted.set(out, f.path, value)
    return out


DEFAULTED_NOTE = "# Left at their default (the report lists them as defaulted):"
DEFAULTED_MORE = "#   "


QUESTIONNAIRE_ORIGIN = "written by `mladvisor questionnaire`"


def dump_answers(doc: Mapping[str, Any], defaulted: Iterable[str] = (),
                 origin: str = QUESTIONNAIRE_ORIGIN) -> str:
    """The answers file; questions answered with Enter (the default) are named in a comment,
    so that the report still lists them as defaulted and --resume does not ask them again.

    `origin` says in the header comment which front-end wrote the file (one line per line)."""
    import yaml

    def tidy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(v) for v in value]
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value

    first, *more = origin.splitlines() or [""]
    header = f"# mladvisor answers file, {first}\n" + "".join(f"# {line}\n" for line in more)
    text = header + yaml.safe_dump(tidy(ordered(doc)), sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)
    left = [f.path for f in fields() if f.path in set(defaulted) and not dotted.has(doc, f.path)]
    if left:
        import textwrap

        lines = textwrap.wrap(", ".join(left), 96, break_on_hyphens=False)
        text += DEFAULTED_NOTE + "\n" + "".join(f"{DEFAULTED_MORE}{line}\n" for line in lines)
    return text


def read_defaulted(text: str) -> set[str]:
    """The questions a saved answers file says were left at their default."""
    known = {f.path for f in fields()}
    out: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith(DEFAULTED_NOTE):
            inside = True
            line = DEFAULTED_MORE + line[len(DEFAULTED_NOTE):]
        if inside and line.startswith(DEFAULTED_MORE):
            out.update(p.strip() for p in line[len(DEFAULTED_MORE):].split(","))
        elif inside:
            inside = False
    return out & known


def check_document(raw: Any, source: str) -> dict[str, Any]:
    """A partial answers document (for --resume): a mapping whose keys are known fields."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(source, "", "a mapping of answers (mladvisor.answers/1)",
                         type(raw).__name__)
    schema = raw.get("schema", ANSWERS_SCHEMA)
    if schema != ANSWERS_SCHEMA:
        raise InputError(source, "schema", f"expected {ANSWERS_SCHEMA}", schema)
    known = {f.path for f in fields()}
    # sections and groups: every proper prefix of a field's path
    prefixes = {p.rsplit(".", i)[0] for p in known for i in range(1, p.count(".") + 1)}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path == "schema":
                continue
            if path in known:
                continue
            if path in prefixes and isinstance(value, dict):
                walk(value, path + ".")
                continue
            if path in prefixes and value is None and prefix:  # a group left out: null
                continue
            raise InputError(source, path, "unknown key (not part of the format)")

    walk(raw, "")
    return ordered(raw)


# ------------------------------------------------------------------ the commented template

def _yaml_scalar(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000)
    return text.strip().removesuffix("...").strip()


def template_text() -> str:
    """A commented answers file: every question, its help, choices and default.

    It is valid as it stands (required answers hold the questionnaire's example, the rest are
    commented out so that they count as defaulted until someone answers them), so a person can
    edit it field by field and assess it at any point.
    """
    lines = [f"# mladvisor answers file ({ANSWERS_SCHEMA})",
             "# Required answers are filled with examples: replace them. Every other answer is",
             "# commented out and takes the default shown; uncomment a line to answer it (and its",
             "# section's line, e.g. `team:`). The report lists the answers left at default.",
             "# Check the file with: mladvisor assess THIS_FILE",
             f"schema: {ANSWERS_SCHEMA}"]
    live_heads = {f.path.split(".")[0] for f in fields() if f.required}
    top: str | None = None
    group: str | None = None
    for section, section_fields in sections():
        lines += ["", f"# == {section.title} =="]
        if section.intro:
            lines.append(f"# {section.intro}")
        for f in section_fields:
            head, key = f.path.split(".", 1)
            if head != top:
                lines.append(f"{head}:" if head in live_heads else f"# {head}:")
                top = head
            parent, _, key = key.rpartition(".")  # a group (current_solution) nests its fields
            if parent and parent != group:
                lines.append(f"  # {parent}:")
            group = parent
            lines += _template_question(f, key, "  " * (1 + bool(parent)))
    return "\n".join(lines) + "\n"


def _template_question(f: Field, key: str, indent: str) -> list[str]:
    """One question of the template: its help as comments, then the key (commented out
    unless required)."""
    lines = [f"{indent}# {f.question}"]
    lines += [f"{indent}#   {line}" for line in wrap(f.help)]
    lines.append(f"{indent}#   {describe(f)}")
    if f.ask_when is not None:
        lines.append(f"{indent}#   Asked only when: {_yaml_scalar(_raw_ask_when(f))}")
    value = f.example if f.required else f.default
    if f.kind == "criteria":
        lines.append(f"{indent}#   One entry per criterion, for example:")
        lines.append(f"{indent}#   - {{metric: NAME, threshold: NUMBER, goal: at-least}}")
    lines.append(f"{indent}{'' if f.required else '# '}{key}: {_yaml_scalar(value)}")
    return lines


def _raw_ask_when(f: Field) -> Any:
    for q in questionnaire().questions():
        if q.path == f.path:
            return q.ask_when
    return None


def wrap(text: str, width: int = 90) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]


def describe(f: Field) -> str:
    """Type, choices, bounds and default in one line."""
    if f.kind == "choice":
        what = "one of: " + " | ".join(f.choices)
    elif f.kind == "bool":
        what = "true or false"
    elif f.kind == "criteria":
        what = f"a list of {{metric, threshold, goal: {' | '.join(GOALS)}}}"
    elif f.kind == "list":
        what = "a list of names"
    else:
        what = {"int": "a whole number", "float": "a number", "text": "text"}[f.kind]
    if f.bounds:
        what += f" ({f.bounds})"
    if f.nullable:
        what += ", or null if unknown"
    if f.required:
        return what + "; required"
    return what + f"; default {_yaml_scalar(f.default)}"


# ------------------------------------------------------------------ plain words

_PLAIN = (
    (re.compile(r"^input should be greater than or equal to (\S+)$"), "must be {} or more"),
    (re.compile(r"^input should be greater than (\S+)$"), "must be more than {}"),
    (re.compile(r"^input should be less than or equal to (\S+)$"), "must be {} or less"),
    (re.compile(r"^input should be less than (\S+)$"), "must be less than {}"),
    (re.compile(r"^string should have at most (\d+) characters?$"),
     "must be at most {} characters long"),
    (re.compile(r"^string should match pattern .*a-z0-9_.*$"),
     "lower-case letters, digits and _ only, starting with a letter (like f1_macro)"),
    (re.compile(r"^string should match pattern .*a-z0-9\]\+\(-.*$"),
     "lower-case letters and digits, words joined by single hyphens (like amazon-comprehend)"),
)


def plain(expected: str) -> str:
    """The model's wording of a constraint, in words a stakeholder uses."""
    for pattern, words in _PLAIN:
        match = pattern.match(expected.strip())
        if match:
            return words.format(*match.groups())
    return expected
