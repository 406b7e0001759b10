"""RFC 8785 (JSON Canonicalization Scheme) bytes, fast.

The `rfc8785` package is the reference but pure Python (about 8 ms for an 80 KB decision), too
slow for 1,000 appends a second. For the values our records hold, the C `json` encoder with
sorted keys gives the same bytes once its numbers are written as ECMAScript writes them:
integral floats as integers ("2.0" is "2"), and exponents in ECMAScript's range and form
("2.5e-06" is "0.0000025", "1e-07" is "1e-7", "1e+16" is "10000000000000000"), converted from
the float's repr exactly as `rfc8785` converts it. What the fast path leaves to `rfc8785`:
integers beyond 2**53 (an error there) and keys outside the BMP (RFC 8785 sorts them by UTF-16
code units). A property test checks the two agree.

orjson writes the same sorted, unspaced UTF-8 about fifteen times faster than `json` (0.02 ms
against 0.36 ms for a decision; the audit log's largest cost per append), with exponents
unpadded ("1e-7"), which the rewrite reads alike. It is used only for values made of the JSON
types and finite floats, checked by one walk first: orjson would write NaN as null and accept
datetimes, UUIDs and dataclasses, where RFC 8785 has no form and `json` refuses.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import orjson

_SAFE_INT = 2**53 - 1
_STRING = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")')  # JSON strings, kept by split()
# Where Python and ECMAScript may write a number differently: an integral float (1.0), an
# exponent (1e-05) or a long integer; the whole number token around each hit is then rewritten.
_SUSPECT = re.compile(r"\.0(?!\d)|\de|\d{16}")
_NUMBER_CHARS = frozenset("0123456789.-+e")
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010FFFF]")
_FOUR_BYTE_LEADS = tuple(bytes([lead]) for lead in range(0xF0, 0xF5))  # UTF-8 beyond the BMP
_PLAIN_FLOAT_LOW, _PLAIN_FLOAT_HIGH = 1e-3, 1e15
_CLOSERS = frozenset(b",]}")


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


# Read every digit as 0, every ']' and '}' as ',', and '+' as '-': then each spot where a
# number may need rewriting is found by one search for a literal (many times faster than a
# pattern led by a character class): an integral float ("<digits>.0" before ',', '}' or ']'),
# an exponent (repr writes at least two exponent digits), a long integer.
_FOLD = bytes.maketrans(b"123456789}]+", b"000000000,,-")
_INTEGRAL = b"0.0,"
_EXPONENT = b"0e-0"
_LONG = b"0" * 16
_TOKEN = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?")
_DIGIT_BYTES = frozenset(b"0123456789")
_NUMBER_BYTES = frozenset(b"0123456789.-+e")


def _suspects(data: bytes) -> list[tuple[int, bool]]:
    """(position, is an integral float's '.') of each spot that may need rewriting, in order;
    whether it is inside a string is for the caller to find out."""
    folded = data.translate(_FOLD)
    hits: list[tuple[int, bool]] = []
    at = folded.find(_INTEGRAL)
    while at >= 0:
        if data[at + 2] == 48:  # "0.5" folds to "0.0" too
            hits.append((at + 1, True))
        at = folded.find(_INTEGRAL, at + 4)
    if data.endswith(b".0") and folded.endswith(b"0.0"):  # a document that is one number
        hits.append((len(data) - 2, True))
    for needle in (_EXPONENT, _LONG):
        at = folded.find(needle)
        while at >= 0:
            hits.append((at, False))
            at = folded.find(needle, at + len(needle))
    hits.sort()
    return hits


def _rewrite_outside_strings(data: bytes, hits: list[tuple[int, bool]] | None = None) -> bytes:
    """Rewrite suspect numbers of canonical-candidate bytes that hold no escaped backslash.

    Then every `\\"` is an escaped quote, every other `"` opens or closes a string, and a
    position is inside a string when an odd number of such quotes precede it.
    """
    out: list[bytes] = []
    last = 0
    quotes = 0  # string delimiters in data[:scanned]
    scanned = 0
    backslash = b"\\" in data  # without one, no quote is escaped: a single count will do
    for at, integral in _suspects(data) if hits is None else hits:
        if at < last:
            continue  # inside a token already rewritten
        quotes += data.count(b'"', scanned, at)
        if backslash:
            quotes -= data.count(b'\\"', scanned, at)
        scanned = at
        if quotes % 2:
            continue  # inside a string
        found = _integral(data, at) if integral else _token(data, at)
        if found is not None:
            start, end, text = found
            out += (data[last:start], text)
            last = scanned = end
    if not out:
        return data
    out.append(data[last:])
    return b"".join(out)


def _integral(data: bytes, at: int) -> tuple[int, int, bytes]:
    """repr's "<digits>.0" with its '.' at `at`: RFC 8785 drops the ".0", writes -0.0 as 0."""
    start = at - 1
    while start and data[start - 1] in _DIGIT_BYTES:
        start -= 1
    if data[start:at] == b"0" and start and data[start - 1] == 45:  # "-0.0"
        return start - 1, at + 2, b"0"
    return at, at + 2, b""


def _token(data: bytes, at: int) -> tuple[int, int, bytes] | None:
    """The number token around `at` rewritten, or None when `at` is in no number."""
    start = at
    while start and data[start - 1] in _NUMBER_BYTES:
        start -= 1
    token = _TOKEN.match(data, start)
    if token is None or token.end() <= at:  # digits and an 'e' of a key, not a number
        return None
    return start, token.end(), _number(token.group().decode("ascii")).encode("ascii")


def _number(token: str) -> str:
    """A number as json.dumps wrote it (an int, or float.__repr__), as RFC 8785 writes it."""
    if "." not in token and "e" not in token:
        if abs(int(token)) > _SAFE_INT:
            raise _NeedsReference
        return token
    return _ecmascript(token)


def _ecmascript(text: str) -> str:
    """ECMA-262 Number::toString of a finite float, from its repr: the conversion `rfc8785`
    itself applies to str(f), so the digits and the form are the same by construction."""
    if float(text) == 0:
        return "0"
    if text[0] == "-":
        return "-" + _ecmascript(text[1:])
    mantissa, _, exponent = text.partition("e")
    first, _, last = mantissa.partition(".")
    if last == "0":
        last = ""
    power = int(exponent) if exponent else 0
    if 0 < power < 21:  # up to 21 integer digits are written out
        digits = first + last
        return digits + "0" * (power + 1 - len(digits))
    if -7 < power < 0:  # down to 0.000001 written out
        return "0." + "0" * (-power - 1) + first + last
    mark = f"e{'-' if power < 0 else '+'}{abs(power)}" if exponent else ""
    return first + ("." + last if last else "") + mark


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (raises ValueError if it has none)."""
    try:
        if type(value) is str:  # no number to rewrite, no key to sort: a record's small parts
            # escaped as RFC 8785 escapes (checked for every code point); a lone surrogate
            # raises TypeError, and the reference then refuses it
            return orjson.dumps(value)
        fast = _orjson_bytes(value)
        if fast is not None:
            data, floats = fast
            if (b"\\" not in data or b"\\\\" not in data) and (
                    data.isascii() or not any(lead in data for lead in _FOUR_BYTE_LEADS)):
                return _rewrite_outside_strings(data, _orjson_suspects(data, *floats))
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


def _orjson_bytes(value: Any) -> tuple[bytes, tuple[int, int]] | None:
    """orjson's sorted bytes of a value made only of JSON types, finite floats and integers
    within 2**53 - 1, with the walk's float counts (see _floats); else None (the `json` path
    then decides, as it did before orjson was used)."""
    try:
        floats = [0, 0]
        if not _plain((value,), floats):
            return None
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS), (floats[0], floats[1])
    except (TypeError, RecursionError, orjson.JSONEncodeError):
        return None  # a lone surrogate, nesting too deep


def _plain(items: Any, floats: list[int]) -> bool:
    """Whether the items hold only dicts, lists, tuples, str, None, bool, finite floats and
    integers RFC 8785 can write (orjson itself refuses keys that are not str), counting in
    `floats` the integral floats and those that may be written with an exponent: where none
    is, the rewrite skips that search. Recursive (about 0.07 ms for a decision's 700 values);
    nesting too deep for it goes the `json` way, as nesting too deep for orjson does."""
    for item in items:
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict or kind is list or kind is tuple:
            if not _plain(item.values() if kind is dict else item, floats):
                return False
        elif kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:
                return False
        elif kind is float:
            if not _count_float(item, floats):
                return False
        else:
            return False
    return True


def _count_float(item: float, floats: list[int]) -> bool:
    """False for NaN and the infinities; else counts the float where the rewrite looks."""
    if item - item:  # NaN and the infinities give NaN, which is true
        return False
    if item.is_integer():
        floats[0] += 1
    magnitude = abs(item)
    # repr writes an exponent below 1e-4 and from 1e16: counted with a margin
    if magnitude and not _PLAIN_FLOAT_LOW <= magnitude < _PLAIN_FLOAT_HIGH:
        floats[1] += 1
    return True


def _orjson_suspects(data: bytes, integral: int, exponent: int) -> list[tuple[int, bool]]:
    """_suspects for orjson's bytes of a value the walk passed: no integer there is long
    (the walk refused those), and a search is made only for the forms the walk counted. The
    literal searches run on the bytes as they are ('.' is rare where digits are common)."""
    hits: list[tuple[int, bool]] = []
    if integral:
        size = len(data)
        at = data.find(b".0")
        while at >= 0:
            end = at + 2
            if (end == size or data[end] in _CLOSERS) and at and data[at - 1] in _DIGIT_BYTES:
                hits.append((at, True))
            at = data.find(b".0", end)
    if exponent:
        for needle in (b"e-", b"e+"):
            at = data.find(needle)
            while at >= 0:
                if at and data[at - 1] in _DIGIT_BYTES:
                    hits.append((at - 1, False))
                at = data.find(needle, at + 2)
        hits.sort()
    return hits


def join_object(parts: dict[str, bytes]) -> bytes:
    """Canonical bytes of an object whose members are already canonical.

    Lets the slow part of a record be canonicalised before the write lock is taken and the
    time and chain link be added inside it. Keys must be ASCII, where UTF-16 order is byte order.
    """
    items = []
    for key in sorted(parts):
        if not key.isascii():
            raise ValueError(f"non-ASCII key {key!r}")
        items.append(_key(key) + parts[key])
    return b"{" + b",".join(items) + b"}"


@functools.lru_cache(maxsize=256)
def _key(key: str) -> bytes:
    """`"key":` (a record has the same few member names every time)."""
    return json.dumps(key).encode("ascii") + b":"
