"""Text from users shown safely: on a terminal no escape sequence may act, in a report none may
break the render or make shown text differ from what was typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# C0/C1 controls (but tab, newline, carriage return), bidi overrides and lone surrogates:
# invalid in HTML, unencodable, or able to make shown text differ from what was typed.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff]")
SURROGATE = re.compile("[\ud800-\udfff]")
# On a terminal carriage return and every other control act too; only newline and tab may pass.
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """Control characters shown as visible escapes (`\\x1b`), so user text cannot move the
    cursor, recolour the screen or hide what follows it."""
    return _TERMINAL.sub(_escape, text)


def clean(value: Any, unsafe: re.Pattern[str] = UNSAFE) -> Any:
    """A copy of a value whose strings can all be shown and encoded: each unsafe character
    becomes U+FFFD, visibly, rather than vanishing or breaking the render."""
    if isinstance(value, str):
        return unsafe.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {clean(k, unsafe) if isinstance(k, str) else k: clean(v, unsafe)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, unsafe) for v in value]
    return value


def encodable(value: Any) -> Any:
    """Only lone surrogates replaced: JSON escapes every other character itself."""
    return clean(value, SURROGATE)
