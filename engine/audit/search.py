"""Finding recorded assessments by project name, verdict or strategy (the web's filter box).

SQLite pulls just those few fields out of each plain body (json_extract, in C); a compressed
body (engine.audit.codec), and every body in PostgreSQL, is inflated and read in Python.
Python matches them, so non-ASCII names compare case-insensitively too; rows are read newest
first and only until a page is full, so a filter that matches recent records reads little of
a long log.
A body that is not JSON (an edited copy) matches nothing here: `audit verify` reports it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from contextlib import closing
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from engine.audit.store import AuditLog

MAX_QUERY = 200  # characters of filter text; longer input is cut, not refused

# project name (decision, else answers), verdict, rung, service: the columns the list shows
_FIELDS = ("'$.decision.project.name', '$.input.answers.project.name', '$.decision.verdict', "
           "'$.decision.strategy.rung', '$.decision.strategy.service'")
_PATHS = (("decision", "project", "name"), ("input", "answers", "project", "name"),
          ("decision", "verdict"), ("decision", "strategy", "rung"),
          ("decision", "strategy", "service"))
_SEPARATORS = re.compile(r"[\s\-_.·/]+")


def normalise(text: str) -> str:
    """Case-folded words joined by one space: "Proceed-with conditions" ~ "proceed with"."""
    return " ".join(_SEPARATORS.split(text.casefold())).strip()


def words(query: str) -> list[str]:
    """The words a record must all contain (empty: no filter)."""
    return [w for w in normalise(query[:MAX_QUERY]).split(" ") if w]


def haystack(fields: Any) -> str:
    """The searchable text of one record from json_extract's array (None when unreadable)."""
    if not isinstance(fields, list) or len(fields) != 5:
        return ""
    name = fields[0] if fields[0] else fields[1]
    return normalise(" ".join(str(v) for v in (name, *fields[2:]) if v is not None))


def matching_seqs(log: AuditLog, query: str, *, kind: str | None, before: int | None,
                  after: int | None, limit: int) -> list[int]:
    """Sequence numbers of at most `limit` matching records: the newest below `before`, or
    the oldest above `after` (then in ascending order); newest first otherwise.

    The log is read without checking each body first (json_valid costs more than the
    extraction itself, measured ~6x); a body that is not JSON stops that read, and the
    search is run again with the check, so such a body matches nothing instead."""
    from engine.errors import AuditError

    try:
        return _scan(log, words(query), kind, before, after, limit, checked=False)
    except AuditError:
        return _scan(log, words(query), kind, before, after, limit, checked=True)


def _extract(body: Any, codec: str, log: AuditLog) -> list[Any] | None:
    """The searched fields of a compressed body, as json_extract gives them for a plain one."""
    from engine.audit.codec import CodecError, decode

    try:
        record = json.loads(decode(body, codec, log._dictionary_blob))
    except (CodecError, ValueError):
        return None
    out: list[Any] = []
    for path in _PATHS:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        out.append(value)
    return out


def _searchable(log: AuditLog, extracted: Any, stored: Any, codec: Any) -> str:
    """A row's searchable text: from SQLite's extraction, or from the body itself (compressed,
    or any body of a database that does not extract JSON)."""
    if stored is not None:
        return haystack(_extract(stored, codec, log))
    try:
        return haystack(json.loads(extracted)) if extracted else ""
    except ValueError:
        return ""


def _scan(log: AuditLog, wanted: list[str], kind: str | None, before: int | None,
          after: int | None, limit: int, checked: bool) -> list[int]:
    from engine.audit.store import range_filter

    if log._db.extracts_json:
        fields = f"json_extract(b, {_FIELDS})"
        if checked:
            fields = f"CASE WHEN json_valid(b) THEN {fields} END"
        codec = log._columns.rsplit(",", 1)[1].strip()  # codec, or NULL in an old log
        sql = (f"SELECT seq, CASE WHEN c IS NULL THEN {fields} END,"
               " CASE WHEN c IS NOT NULL THEN body END, c FROM (SELECT seq, body, "
               f"CASE WHEN {codec} IS NULL THEN CAST(body AS TEXT) END AS b, {codec} AS c"
               " FROM records WHERE 1=1")
    else:
        sql = ("SELECT seq, NULL, body, codec FROM (SELECT seq, body, codec FROM records"
               " WHERE 1=1")
    where, params = range_filter(kind, before, after)
    sql += where + ") AS r ORDER BY seq " + ("ASC" if after is not None else "DESC")
    found: list[int] = []
    if limit <= 0:
        return found
    rows = cast(Generator[tuple[Any, ...], None, None], log._stream(sql, tuple(params)))
    with closing(rows):  # stopping early closes the reader connection at once
        for seq, extracted, stored, codec in rows:
            text = _searchable(log, extracted, stored, codec)
            if all(w in text for w in wanted):
                found.append(int(seq))
                if len(found) >= limit:
                    break
    return found
