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
from collections.abc import Mapping
from typing import Any, TypeVar

# Lists: items shown before "N more ... see decision.json".
MAX_FINDINGS = 200          # across all phases, most severe first
MAX_PHASES = 20             # the seven lifecycle phases and a few unknown ones
MAX_OPTIONS = 60
MAX_REASONS = 20            # per option
MAX_CHECKS = 60             # benchmark checks per option
MAX_FACTS = 20              # per finding
MAX_TRACE = 300
MAX_ASSERTED = 20           # per trace step
MAX_ACTIONS = 100
MAX_PLAN = 50
MAX_BIAS = 50
MAX_CRITERIA = 30           # success criteria in the summary and the answers
MAX_COUNTERFACTUALS = 20
MAX_CHANGES = 20            # per counterfactual
MAX_ANSWER_ROWS = 300       # answers table rows, over all sections
MAX_LIST_ITEMS = 50         # items of a list shown inline as "a, b, c"
MAX_CHART_METRICS = 9       # three criteria charts of three metrics

# Strings: characters shown before "… (N more characters: see decision.json)".
MAX_TEXT = 3_000
MAX_NAME = 300              # project name and respondent: also the PDF title and author
# A token (run without whitespace) longer than MAX_TOKEN gets an invisible break opportunity
# (U+200B) every BREAK_EVERY characters, so line breaking never searches a giant word.
MAX_TOKEN = 100
BREAK_EVERY = 40

SEE = "see decision.json"
BREAK = "\u200b"
_LONG_TOKEN = re.compile(r"[^\s\u200b]{%d,}" % (MAX_TOKEN + 1))

T = TypeVar("T")


def more_note(count: int, what: str) -> str:
    """The visible line that stands for the items a list left out."""
    return f"{count:,} more {what} not shown: {SEE}"


def capped(items: list[T], limit: int) -> tuple[list[T], int]:
    """The first `limit` items and how many were left out."""
    return items[:limit], max(0, len(items) - limit)


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
    """A copy of a decision with every string (keys too) passed through `cut`. Lists keep
    their length: the report caps them where it shows them, so its counts stay true."""
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, Mapping):
        return {cut(k) if isinstance(k, str) else k: bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [bounded(v) for v in value]
    return value
