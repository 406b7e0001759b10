"""What a report lays out at most, so a hostile or broken decision costs seconds, not minutes.

WeasyPrint's time and memory grow faster than the page count, and a single unbreakable word of
100,000 characters makes its line breaking crawl. So the report shows a bounded prefix of every
list and string and says, visibly, how much it left out; the whole decision is always in
decision.json (attached to every PDF report, written by `assess --format json`).

The caps sit far above what a real decision reaches. Measured on the bundled examples (with
their benchmarks and drift evidence) and the report fixtures, the largest were: 30 findings
(14 in the examples), 10 options, 3 reasons and 9 benchmark checks per option, 3 facts per
finding, 36 trace steps with 2 asserted facts each and matched facts of 151 characters, 12
actions, 9 monitoring-plan items, 20 drift features, 2 bias rows, 3 success criteria, 10
counterfactuals of 2 changes (the explain step stops at 10), strings of 1,464 characters and
words of 328 characters (64 in the examples: a SHA-256). No example comes near a cap, so their
reports never carry a truncation note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from engine.util.text import clean

# Lists: items shown before "N more ... see decision.json". Three to ten times the largest
# real list, and small enough that all of them at once stay a report of tens of pages.
MAX_FINDINGS = 100          # across all phases, most severe first
MAX_PHASES = 20             # the seven lifecycle phases and a few unknown ones
MAX_OPTIONS = 30
MAX_REASONS = 10            # per option
MAX_CHECKS = 30             # benchmark checks per option
MAX_FACTS = 10              # per finding
MAX_TRACE = 150
MAX_ASSERTED = 10           # per trace step
MAX_ACTIONS = 50
MAX_PLAN = 30
MAX_BIAS = 30
MAX_CRITERIA = 20           # success criteria in the summary and the answers
MAX_COUNTERFACTUALS = 20
MAX_CHANGES = 10            # per counterfactual
MAX_ANSWER_ROWS = 150       # answers table rows, over all sections
MAX_LIST_ITEMS = 30         # items of a list shown inline as "a, b, c"
MAX_CHART_METRICS = 9       # three criteria charts of three metrics
# Characters of list items one section (ladder, alternatives, findings, answers, plan,
# actions, trace) may lay out, and the whole report, sections taken in display order: many
# items near the string cap stop here whatever their count. The largest real decision (the
# large report fixture) has 18,400 in its findings and 34,000 in all, in 20 pages; the
# examples at most 6,000 and 21,000. A report at the budget is about 25 pages.
SECTION_BUDGET = 25_000
REPORT_BUDGET = 50_000

# Strings: characters shown before "… (N more characters: see decision.json)".
MAX_TEXT = 2_000
MAX_JSON = 1_200            # a fact's value or a trace step's matched facts, as JSON (an offer
                            # fact carries its per-task text)
# A token (run without whitespace) longer than MAX_TOKEN gets an invisible break opportunity
# (U+200B) every BREAK_EVERY characters, so line breaking never searches a giant word.
MAX_TOKEN = 100
BREAK_EVERY = 40

SEE = "see decision.json"
BREAK = "\u200b"
_LONG_TOKEN = re.compile(r"[^\s\u200b]{" + str(MAX_TOKEN + 1) + ",}")

T = TypeVar("T")


def more_note(count: int, what: str) -> str:
    """The visible line that stands for the items a list left out."""
    return f"{count:,} more {what} not shown: {SEE}"


def capped(items: list[T], limit: int) -> tuple[list[T], int]:
    """The first `limit` items and how many were left out."""
    return items[:limit], max(0, len(items) - limit)


def budgeted(items: list[T], limit: int, size: Callable[[T], int],
             budget: int = SECTION_BUDGET) -> tuple[list[T], int]:
    """The first items, at most `limit` of them and at most `budget` characters in all (the
    first item is always shown), and how many were left out."""
    shown: list[T] = []
    used = 0
    for item in items[:limit]:
        used += size(item)
        if shown and used > budget:
            break
        shown.append(item)
    return shown, len(items) - len(shown)


class Budget:
    """What is left of the report's character budget as its sections take their share."""

    def __init__(self, total: int = REPORT_BUDGET) -> None:
        self.left = total

    def take(self, items: list[T], limit: int,
             size: Callable[[T], int]) -> tuple[list[T], int]:
        """`budgeted` within this section's share; what it shows is spent."""
        shown, more = budgeted(items, limit, size, max(0, min(SECTION_BUDGET, self.left)))
        self.left -= sum(size(item) for item in shown)
        return shown, more


def size_of(value: Any) -> int:
    """Characters a view-model value will lay out: its strings, nested, plus a little per
    item for the box around it."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(size_of(v) for v in value.values()) + 8
    if isinstance(value, list | tuple):
        return sum(size_of(v) for v in value) + 8
    return 4


def _break_token(match: re.Match[str]) -> str:
    token = match.group()
    return BREAK.join(token[i:i + BREAK_EVERY] for i in range(0, len(token), BREAK_EVERY))


def cut(value: str, limit: int = MAX_TEXT) -> str:
    """At most `limit` characters with a note saying how many were dropped, and break
    opportunities inside very long words. Short ordinary text comes back unchanged."""
    if len(value) > limit:
        value = (value[:limit] + f"… ({len(value) - limit:,} more characters: {SEE})")
    if len(value) > MAX_TOKEN:
        value = _LONG_TOKEN.sub(_break_token, value)
    return value


def bounded(value: Any) -> Any:
    """A copy of a decision with every string (keys too) cleaned for display (see
    engine.util.text.clean) and passed through `cut`, in one walk. Lists keep their length:
    the report caps them where it shows them, so its counts stay true."""
    if isinstance(value, str):
        return cut(clean(value))
    if isinstance(value, Mapping):
        return {cut(k) if isinstance(k, str) else k: bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [bounded(v) for v in value]
    return value
