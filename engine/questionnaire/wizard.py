"""The questionnaire as typed fields, and the terminal wizard that asks it.

Both front-ends (this wizard and the web form) are generated from one source: the questions,
help and conditions in knowledge/questionnaire.yaml, and the types, choices, defaults and
bounds of the answers model in engine/model/answers.py. Nothing here names a task, rung or service.

The wizard reads and writes injected text streams, so tests drive it without a terminal.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TextIO, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from engine.errors import InputError
from engine.model.answers import ANSWERS_SCHEMA, leaf_paths, validation_to_input_error
from engine.util.display import strategy_text
from engine.util.text import for_terminal

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
        if self.kind == "bool":
            if text.lower() in TRUE_WORDS:
                return True
            if text.lower() in FALSE_WORDS:
                return False
            raise InputError(source, self.path, "yes or no", text)
        if self.kind == "choice":
            if _is_index(text) and 1 <= int(text) <= len(self.choices):
                return self.choices[int(text) - 1]
            if text not in self.choices:
                raise InputError(source, self.path,
                                 f"one of {', '.join(self.choices)} (or its number)", text)
            return text
        if self.kind in ("int", "float"):
            return self.validate(_number(text, self.kind, self.path, source), source)
        if self.kind == "list":
            return self.validate([p.strip() for p in text.split(",") if p.strip()], source)
        if self.kind == "criteria":
            raise InputError(source, self.path, "criteria are entered one by one")
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


def _is_index(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() then refuses."""
    return text.isascii() and text.isdigit()


def _number(text: str, kind: str, path: str, source: str) -> float | int:
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


def _adapter(info: Any) -> TypeAdapter[Any]:
    """A validator for one field alone: its type with its constraints (bounds, lengths)."""
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation)


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
            if info.is_required():
                default: Any = [] if kind in ("criteria", "list") and info.default_factory \
                    else REQUIRED
            else:
                default = info.get_default(call_default_factory=True)
            adapter = _adapter(info)
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


# ------------------------------------------------------------------ nested answer documents

_MISSING = object()


def get_path(doc: Mapping[str, Any], path: str, default: Any = _MISSING) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def has_path(doc: Mapping[str, Any], path: str) -> bool:
    return get_path(doc, path) is not _MISSING


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def drop_path(doc: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def flat_answers(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted path -> the answer given, else the model's default (what a condition sees)."""
    flat = {}
    for f in fields():
        value = get_path(doc, f.path)
        if value is _MISSING:
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
        value = get_path(doc, f.path)
        if value is not _MISSING:
            set_path(out, f.path, value)
    return out


DEFAULTED_NOTE = "# Left at their default (the report lists them as defaulted):"
DEFAULTED_MORE = "#   "


def dump_answers(doc: Mapping[str, Any], defaulted: Iterable[str] = ()) -> str:
    """The answers file; questions answered with Enter (the default) are named in a comment,
    so that the report still lists them as defaulted and --resume does not ask them again."""
    import yaml

    def tidy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(v) for v in value]
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value

    header = "# mladvisor answers file, written by `mladvisor questionnaire`\n"
    text = header + yaml.safe_dump(tidy(ordered(doc)), sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)
    left = [f.path for f in fields() if f.path in set(defaulted) and not has_path(doc, f.path)]
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
    prefixes = {p.split(".")[0] for p in known}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path == "schema":
                continue
            if path in known:
                continue
            if not prefix and key in prefixes and isinstance(value, dict):
                walk(value, path + ".")
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
    top = None
    for section, section_fields in sections():
        lines += ["", f"# == {section.title} =="]
        if section.intro:
            lines.append(f"# {section.intro}")
        for f in section_fields:
            head, key = f.path.split(".", 1)
            if head != top:
                lines.append(f"{head}:" if head in live_heads else f"# {head}:")
                top = head
            lines.append(f"  # {f.question}")
            lines += [f"  #   {line}" for line in _wrap(f.help)]
            lines.append(f"  #   {_describe(f)}")
            if f.ask_when is not None:
                lines.append(f"  #   Asked only when: {_yaml_scalar(_raw_ask_when(f))}")
            value = f.example if f.required else f.default
            if f.kind == "criteria":
                lines.append("  #   One entry per criterion, for example:")
                lines.append("  #   - {metric: NAME, threshold: NUMBER, goal: at-least}")
            lines.append(f"  {'' if f.required else '# '}{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def _raw_ask_when(f: Field) -> Any:
    for q in questionnaire().questions():
        if q.path == f.path:
            return q.ask_when
    return None


def _wrap(text: str, width: int = 90) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]


def _describe(f: Field) -> str:
    """Type, choices, bounds and default in one line."""
    if f.kind == "choice":
        what = "one of: " + " | ".join(f.choices)
    elif f.kind == "bool":
        what = "true or false"
    elif f.kind == "criteria":
        what = "a list of {metric, threshold, goal: at-least | at-most}"
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


# ------------------------------------------------------------------ the terminal wizard

DEFAULTED = object()  # the person pressed Enter: the model's default applies


class InputEnded(Exception):
    """The input stream ended before the questionnaire did (progress is kept)."""


@dataclass
class Wizard:
    """Asks the questionnaire phase by phase on `stdin`/`out`, validating every answer.

    `answers` holds what is already known (a resumed file) and `defaulted` the questions already
    answered with Enter; those are left out of the document so that the report lists them as
    defaulted. `on_progress(answers, defaulted)` is called after every answer so that an
    interrupted session can be resumed.
    """

    stdin: TextIO
    out: TextIO
    answers: dict[str, Any] = field(default_factory=dict)
    on_progress: Callable[[dict[str, Any], list[str]], None] | None = None
    source: str = "<answer>"
    defaulted: set[str] = field(default_factory=set)

    def say(self, text: str = "") -> None:
        self.out.write(for_terminal(text) + "\n")  # answers (a resumed file) are shown here
        self.out.flush()

    def read(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        if self.stdin is sys.stdin and sys.stdin.isatty():
            return self._read_terminal()
        line = self.stdin.readline()
        if not line:
            self.say()
            raise InputEnded
        return line.rstrip("\r\n")

    def _read_terminal(self) -> str:
        """A real terminal gets line editing (readline) where the platform has it."""
        try:
            import readline  # noqa: F401
        except ImportError:
            pass
        try:
            return input()
        except EOFError:
            self.say()
            raise InputEnded from None

    def run(self) -> dict[str, Any]:
        """Ask every applicable question not yet answered, review, and return the answers."""
        self.answers = ordered(self.answers)
        self._check_resumed()
        self.say("Answer each question and press Enter. Enter alone keeps the value shown in "
                 "brackets (the default);")
        self.say("type ? for more about a question. You can review and change every answer at "
                 "the end.")
        all_sections = sections()
        for number, (section, section_fields) in enumerate(all_sections, start=1):
            pending = [f for f in section_fields
                       if not self._answered(f) or not is_asked(f, self.answers)]
            if not any(is_asked(f, self.answers) for f in pending):
                self._drop_skipped(section_fields)
                continue
            self.say()
            self.say(f"== Phase {number} of {len(all_sections)}: {section.title} ==")
            if section.intro:
                self.say(section.intro)
            for f in section_fields:
                self._visit(f)
        self.review()
        return self.answers

    def _answered(self, f: Field) -> bool:
        return has_path(self.answers, f.path) or f.path in self.defaulted

    def _check_resumed(self) -> None:
        """Resumed answers are validated too; an invalid one is dropped and asked again."""
        self.defaulted = {p for p in self.defaulted if not has_path(self.answers, p)}
        for f in fields():
            value = get_path(self.answers, f.path)
            if value is _MISSING:
                continue
            try:
                set_path(self.answers, f.path, f.validate(value, self.source))
            except InputError as error:
                self.say(f"! {f.path}: the saved answer is not valid ({_reason(error)}); "
                         "it will be asked again.")
                drop_path(self.answers, f.path)

    def _drop_skipped(self, section_fields: Iterable[Field]) -> None:
        for f in section_fields:
            if not is_asked(f, self.answers):
                drop_path(self.answers, f.path)
                self.defaulted.discard(f.path)

    def _visit(self, f: Field) -> None:
        if not is_asked(f, self.answers):
            drop_path(self.answers, f.path)
            self.defaulted.discard(f.path)
            return
        if self._answered(f):
            return
        self.ask(f)

    def ask(self, f: Field) -> None:
        """Ask one question until the answer is valid, then record it."""
        self.say()
        self.say(f.question)
        for line in _wrap(f.help, 88):
            self.say(f"  {line}")
        if f.kind == "choice":
            for index, choice in enumerate(f.choices, start=1):
                self.say(f"    {index:>2}. {choice}")
        current = get_path(self.answers, f.path)
        if f.kind == "criteria":
            value = self._ask_criteria(f, current if isinstance(current, list) else None)
        else:
            value = self._ask_value(f, current)
        if value is DEFAULTED:
            drop_path(self.answers, f.path)
            self.defaulted.add(f.path)
        else:
            set_path(self.answers, f.path, value)
            self.defaulted.discard(f.path)
        self._progress()

    def _prompt(self, f: Field, current: Any) -> str:
        hints = []
        if f.kind == "bool":
            hints.append("yes/no")
        elif f.kind == "list":
            hints.append("comma-separated")
        elif f.kind in ("int", "float") and f.bounds:
            hints.append(f.bounds)
        if current is not _MISSING and current is not None:
            hints.append(f"Enter keeps {f.show(current)}")
        elif f.required:
            if f.example:
                hints.append(f"e.g. {f.example}")
        elif f.default is None:
            hints.append("Enter if unknown")
        else:
            hints.append(f"default {f.show(f.default)}")
        return f"  [{'; '.join(hints)}] > " if hints else "  > "

    def _ask_value(self, f: Field, current: Any) -> Any:
        while True:
            text = self.read(self._prompt(f, current))
            if not text.strip() and current is not _MISSING and current is not None:
                return current
            if not text.strip() and not f.required:
                return DEFAULTED
            if text.strip() == "?":
                self.say(f"  {f.description}")
                self.say(f"  Expected: {_describe(f)}.")
                continue
            try:
                return f.parse(text, self.source)
            except InputError as error:
                self.say(f"  ! {_reason(error)}. Please try again.")

    def _ask_criteria(self, f: Field, current: list[Any] | None) -> Any:
        if current:
            self.say(f"  Current: {f.show(current)}")
            keep = self.read("  Keep these criteria? [yes/no; Enter keeps them] > ")
            if keep.strip().lower() not in FALSE_WORDS:
                return current
        item_adapter = _criterion_fields()
        criteria: list[dict[str, Any]] = []
        self.say("  Enter one criterion at a time; an empty metric name finishes the list.")
        while True:
            number = len(criteria) + 1
            metric = self._ask_part(
                f"  Criterion {number}: metric name (e.g. f1_macro; Enter to finish) > ",
                lambda text: None if not text.strip() else item_adapter["metric"].validate(
                    text.strip(), self.source))
            if metric is None:
                break
            threshold = self._ask_part(
                f"  Criterion {number}: threshold for {metric} (a number) > ",
                lambda text: item_adapter["threshold"].validate(
                    _number(text.strip(), "float", "threshold", self.source), self.source)
                if text.strip() else _required("threshold", self.source))
            goal = self._ask_part(
                f"  Criterion {number}: must {metric} be at-least or at-most {threshold}? "
                "[Enter: at-least] > ",
                lambda text: item_adapter["goal"].parse(text, self.source))
            criteria.append({"metric": metric, "threshold": threshold, "goal": goal})
            try:
                f.validate(criteria, self.source)
            except InputError as error:
                criteria.pop()
                self.say(f"  ! {_reason(error)}. That criterion was not added.")
        return criteria or DEFAULTED

    def _ask_part(self, prompt: str, parse: Callable[[str], Any]) -> Any:
        while True:
            text = self.read(prompt)
            try:
                return parse(text)
            except InputError as error:
                self.say(f"  ! {_reason(error)}. Please try again.")

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(ordered(self.answers), sorted(self.defaulted))

    def review(self) -> None:
        """Show every answer; let the person change any of them before saving."""
        while True:
            numbered = self._show_review()
            choice = self.read("Press Enter to save these answers, or type a number to change "
                               "one > ").strip()
            if not choice:
                return
            if not _is_index(choice) or not 1 <= int(choice) <= len(numbered):
                self.say(f"  ! expected a number from 1 to {len(numbered)}, got {choice}.")
                continue
            f = numbered[int(choice) - 1]
            self.ask(f)
            self._settle()

    def _settle(self) -> None:
        """After a change, ask questions that now apply and drop those that no longer do."""
        for f in fields():
            self._visit(f)
        self._progress()

    def _show_review(self) -> list[Field]:
        self.say()
        self.say("== Review ==")
        numbered: list[Field] = []
        for section, section_fields in sections():
            shown = [f for f in section_fields if is_asked(f, self.answers)]
            if not shown:
                continue
            self.say(section.title)
            for f in shown:
                numbered.append(f)
                if f.path in self.defaulted:
                    shown_value = f"{default_text(f)} (default)"
                else:
                    shown_value = f.show(get_path(self.answers, f.path, None))
                self.say(f"  {len(numbered):>2}. {f.question} {shown_value}")
        return numbered


def _criterion_fields() -> dict[str, Field]:
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


def _required(name: str, source: str) -> Any:
    raise InputError(source, name, "an answer is required")


_PLAIN = (
    (re.compile(r"^input should be greater than or equal to (\S+)$"), "must be {} or more"),
    (re.compile(r"^input should be greater than (\S+)$"), "must be more than {}"),
    (re.compile(r"^input should be less than or equal to (\S+)$"), "must be {} or less"),
    (re.compile(r"^input should be less than (\S+)$"), "must be less than {}"),
    (re.compile(r"^string should have at most (\d+) characters?$"),
     "must be at most {} characters long"),
    (re.compile(r"^string should match pattern .*a-z.*$"),
     "lower-case letters, digits and _ only, starting with a letter (like f1_macro)"),
)


def plain(expected: str) -> str:
    """The model's wording of a constraint, in words a stakeholder uses."""
    for pattern, words in _PLAIN:
        match = pattern.match(expected.strip())
        if match:
            return words.format(*match.groups())
    return expected


def _reason(error: InputError) -> str:
    """An InputError without its file and path: the wizard already shows the question."""
    text = plain(error.expected)
    if error.got is not None:
        text += f", got {error.got!r}" if not isinstance(error.got, str) else f", got {error.got}"
    return text[0].upper() + text[1:] if text else "Invalid answer"


def summary_text(decision: Mapping[str, Any]) -> str:
    """A few lines a person reads at the end of the wizard: verdict, strategy, top actions."""
    lines = [f"Verdict: {decision.get('verdict')}"]
    strategy = decision.get("strategy")
    if strategy:
        lines.append(f"Strategy: {strategy_text(strategy)}")
        if strategy.get("summary"):
            lines.append(f"  {strategy['summary']}")
    else:
        lines.append("Strategy: none until the blockers are fixed")
    actions = list(decision.get("actions") or [])[:5]
    if actions:
        lines.append("Next actions:")
        lines += [f"  - {a}" for a in actions]
    lines.append(f"Assessment id: {decision.get('assessment_id')}")
    return "\n".join(lines) + "\n"
