"""The report's date, read from the assessment id.

A decision carries no timestamp (so that the same input gives the same bytes); the time of an
assessment is the one encoded in its UUIDv7 id (first 48 bits: Unix milliseconds).
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine.ids import timestamp_of as _id_time


def timestamp_of(assessment_id: object) -> datetime | None:
    """The UTC second of a UUIDv7 assessment id; None for anything else, never an error."""
    if not isinstance(assessment_id, str):
        return None
    moment = _id_time(assessment_id.strip())
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.replace(microsecond=0)
