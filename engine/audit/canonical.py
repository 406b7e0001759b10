"""RFC 8785 (JSON Canonicalization Scheme) bytes, fast.

The `rfc8785` package is the reference but pure Python (about 8 ms for an 80 KB decision), too
slow for 1,000 appends a second. For the values our records hold, the C `json` encoder with
sorted keys gives the same bytes once integral floats are written as integers; everything where
the two could differ (tiny or huge floats, integers beyond 2**53, keys outside the BMP, which
RFC 8785 sorts by UTF-16 code units) falls back to `rfc8785`. A property test checks the two agree.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SAFE_INT = 2**53 - 1
_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")')  # JSON strings, kept by split()
# Where Python and ECMAScript may write a number differently: an integral float (1.0), an
# exponent (1e-05) or a long integer; the whole number token around each hit is then rewritten.
_SUSPECT = re.compile(r"\.0(?!\d)|\de|\d{16}")
_NUMBER_CHARS = frozenset("0123456789.-+e")
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010FFFF]")


class _NeedsReference(Exception):
    """A value the fast path cannot write exactly as RFC 8785 does."""


def _rewrite(rest: str) -> str:
    """Rewrite the suspect number tokens of the text outside strings."""
    out: list[str] = []
    last = 0
    for hit in _SUSPECT.finditer(rest):
        start, end = hit.start(), hit.end()
        if start < last:
            continue  # inside a token already rewritten
        while start > 0 and rest[start - 1] in _NUMBER_CHARS:
            start -= 1
        while end < len(rest) and rest[end] in _NUMBER_CHARS:
            end += 1
        out.append(rest[last:start])
        out.append(_number(rest[start:end]))
        last = end
    out.append(rest[last:])
    return "".join(out)


_INTEGRAL_B = re.compile(rb"\.0(?![0-9])")
_EXPONENT_B = re.compile(rb"e[+-][0-9]")
_DIGIT_RUN = bytes.maketrans(b"123456789", b"000000000")  # a run of digits becomes 0000...
_DIGIT_BYTES = frozenset(b"0123456789")
_NUMBER_BYTES = frozenset(b"0123456789.-+e")


def _suspects(data: bytes) -> list[int]:
    """Positions that may be in a number written differently (found with literal-led searches,
    which are many times faster than one pattern starting with a character class)."""
    hits: list[int] = []
    if b".0" in data:
        hits += [m.start() for m in _INTEGRAL_B.finditer(data)]
    if b"e+" in data or b"e-" in data:
        hits += [m.start() for m in _EXPONENT_B.finditer(data)
                 if m.start() and data[m.start() - 1] in _DIGIT_BYTES]
    runs = data.translate(_DIGIT_RUN)
    at = runs.find(b"0" * 16)
    while at >= 0:
        hits.append(at)
        at = runs.find(b"0" * 16, at + 16)
    return sorted(hits)


def _rewrite_outside_strings(data: bytes) -> bytes:
    """Rewrite suspect numbers of canonical-candidate bytes that hold no escaped backslash.

    Then every `\\"` is an escaped quote, every other `"` opens or closes a string, and a
    position is inside a string when an odd number of such quotes precede it.
    """
    out: list[bytes] = []
    last = 0
    quotes = 0  # string delimiters in data[:scanned]
    scanned = 0
    for start in _suspects(data):
        if start < last:
            continue  # inside a token already rewritten
        quotes += data.count(b'"', scanned, start) - data.count(b'\\"', scanned, start)
        scanned = start
        if quotes % 2:
            continue  # inside a string
        end = start
        while start > 0 and data[start - 1] in _NUMBER_BYTES:
            start -= 1
        while end < len(data) and data[end] in _NUMBER_BYTES:
            end += 1
        out.append(data[last:start])
        out.append(_number(data[start:end].decode("ascii")).encode("ascii"))
        last = end
        quotes += data.count(b'"', scanned, end) - data.count(b'\\"', scanned, end)
        scanned = end
    if not out:
        return data
    out.append(data[last:])
    return b"".join(out)


def _number(token: str) -> str:
    if "." not in token and "e" not in token:
        if abs(int(token)) > _SAFE_INT:
            raise _NeedsReference
        return token
    value = float(token)
    if value.is_integer():
        if abs(value) <= _SAFE_INT:
            return str(int(value))
        raise _NeedsReference
    if abs(value) < 1e-4:  # Python writes 1e-05, ECMAScript 0.00001
        raise _NeedsReference
    return token


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (raises ValueError if it has none)."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        if not text.isascii() and _OUTSIDE_BMP.search(text):  # keys sort by UTF-16 units
            raise _NeedsReference
        if "\\\\" not in text:  # no literal backslash: quote parity tells strings apart
            return _rewrite_outside_strings(text.encode("utf-8"))
        parts = _STRING.split(text)  # odd items are strings, even items the rest
        rest = "\x00".join(parts[0::2])  # no NUL outside strings: a safe separator
        if not _SUSPECT.search(rest):
            return text.encode("utf-8")
        parts[0::2] = _rewrite(rest).split("\x00")
        return "".join(parts).encode("utf-8")
    except (_NeedsReference, UnicodeEncodeError, ValueError, TypeError):
        import rfc8785

        try:
            return rfc8785.dumps(value)
        except (rfc8785.CanonicalizationError, TypeError, UnicodeEncodeError) as error:
            raise ValueError(f"not representable as canonical JSON: {error}") from None


def join_object(parts: dict[str, bytes]) -> bytes:
    """Canonical bytes of an object whose members are already canonical.

    Lets the slow part of a record be canonicalised before the write lock is taken and the
    time and chain link be added inside it. Keys must be ASCII, where UTF-16 order is byte order.
    """
    items = []
    for key in sorted(parts):
        if not key.isascii():
            raise ValueError(f"non-ASCII key {key!r}")
        items.append(json.dumps(key).encode("ascii") + b":" + parts[key])
    return b"{" + b",".join(items) + b"}"
