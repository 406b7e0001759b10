"""The terminal wizard: asks the questionnaire phase by phase, validating every answer.

The questions, their types and the answers document come from fields.py (shared with the web
form); this module only converses. It reads and writes injected text streams, so tests drive
it without a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from engine.errors import InputError
from engine.model.decision import Decision
from engine.questionnaire.fields import (
    FALSE_WORDS,
    Field,
    criterion_fields,
    default_text,
    describe,
    fields,
    is_asked,
    is_index,
    ordered,
    parse_number,
    plain,
    sections,
    wrap,
)
from engine.util import dotted
from engine.util.display import strategy_text
from engine.util.text import for_terminal

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
        return dotted.has(self.answers, f.path) or f.path in self.defaulted

    def _check_resumed(self) -> None:
        """Resumed answers are validated too; an invalid one is dropped and asked again."""
        self.defaulted = {p for p in self.defaulted if not dotted.has(self.answers, p)}
        for f in fields():
            value = dotted.get(self.answers, f.path)
            if value is dotted.MISSING:
                continue
            try:
                dotted.set(self.answers, f.path, f.validate(value, self.source))
            except InputError as error:
                self.say(f"! {f.path}: the saved answer is not valid ({_reason(error)}); "
                         "it will be asked again.")
                dotted.drop(self.answers, f.path, prune=True)

    def _drop_skipped(self, section_fields: Iterable[Field]) -> None:
        for f in section_fields:
            if not is_asked(f, self.answers):
                dotted.drop(self.answers, f.path, prune=True)
                self.defaulted.discard(f.path)

    def _visit(self, f: Field) -> None:
        if not is_asked(f, self.answers):
            dotted.drop(self.answers, f.path, prune=True)
            self.defaulted.discard(f.path)
            return
        if self._answered(f):
            return
        self.ask(f)

    def ask(self, f: Field) -> None:
        """Ask one question until the answer is valid, then record it."""
        self.say()
        self.say(f.question)
        for line in wrap(f.help, 88):
            self.say(f"  {line}")
        if f.kind == "choice":
            for index, choice in enumerate(f.choices, start=1):
                self.say(f"    {index:>2}. {choice}")
        current = dotted.get(self.answers, f.path)
        if f.kind == "criteria":
            value = self._ask_criteria(f, current if isinstance(current, list) else None)
        else:
            value = self._ask_value(f, current)
        if value is DEFAULTED:
            dotted.drop(self.answers, f.path, prune=True)
            self.defaulted.add(f.path)
        else:
            dotted.set(self.answers, f.path, value)
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
        if current is not dotted.MISSING and current is not None:
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
            if not text.strip() and current is not dotted.MISSING and current is not None:
                return current
            if not text.strip() and not f.required:
                return DEFAULTED
            if text.strip() == "?":
                self.say(f"  {f.description}")
                self.say(f"  Expected: {describe(f)}.")
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
        item_adapter = criterion_fields()
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
                    parse_number(text.strip(), "float", "threshold", self.source), self.source)
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
            if not is_index(choice) or not 1 <= int(choice) <= len(numbered):
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
                    shown_value = f.show(dotted.get(self.answers, f.path, None))
                self.say(f"  {len(numbered):>2}. {f.question} {shown_value}")
        return numbered


def _required(name: str, source: str) -> Any:
    raise InputError(source, name, "an answer is required")



def _reason(error: InputError) -> str:
    """An InputError without its file and path: the wizard already shows the question."""
    text = plain(error.expected)
    if error.got is not None:
        text += f", got {error.got!r}" if not isinstance(error.got, str) else f", got {error.got}"
    return text[0].upper() + text[1:] if text else "Invalid answer"



def summary_text(decision: Decision) -> str:
    """A few lines a person reads at the end of the wizard: verdict, strategy, top actions."""
    lines = [f"Verdict: {decision.verdict}"]
    strategy = decision.strategy
    if strategy:
        lines.append(f"Strategy: {strategy_text(strategy)}")
        if strategy.summary:
            lines.append(f"  {strategy.summary}")
    else:
        lines.append("Strategy: none until the blockers are fixed")
    actions = decision.actions[:5]
    if actions:
        lines.append("Next actions:")
        lines += [f"  - {a}" for a in actions]
    lines.append(f"Assessment id: {decision.assessment_id}")
    return "\n".join(lines) + "\n"
