"""The report's date, read from the assessment id.

A decision carries no timestamp (so that the same input gives the same bytes); the time of an
assessment is the one encoded in its UUIDv7 id: the first 48 bits are Unix milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def timestamp_of(assessment_id: object) -> datetime | None:
    """The UTC time of a UUIDv7 assessment id, or None when the id is not a UUIDv7.

    Prefers `engine.ids.timestamp_of` when the core package offers it, so there is one truth.
    """
    if not isinstance(assessment_id, str) or not _UUID.match(assessment_id.strip()):
        return None
    try:
        from engine.ids import timestamp_of as core_timestamp_of  # type: ignore[import-not-found]
    except ImportError:
        core_timestamp_of = None
    if core_timestamp_of is not None:
        try:
            value = core_timestamp_of(assessment_id)
        except Exception:  # a malformed id is shown as "date unknown", never a crash
            value = None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return _from_ms(value if value > 1e11 else value * 1000)
        return None
    hexdigits = assessment_id.strip().replace("-", "")
    if hexdigits[12] != "7":
        return None
    return _from_ms(int(hexdigits[:12], 16))


def _from_ms(ms: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None
