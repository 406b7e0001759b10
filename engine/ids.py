"""Assessment ids: UUIDv7, so an id also tells when the assessment was made.

The decision document carries no timestamp (same input, same bytes); its date is read from the id.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime


def new_id(now_ms: int | None = None) -> str:
    """A RFC 9562 version-7 UUID: 48 bits of Unix milliseconds, then random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version 7
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def timestamp_of(assessment_id: str) -> datetime | None:
    """The UTC time a UUIDv7 id was made, or None for an id of another kind."""
    try:
        parsed = uuid.UUID(assessment_id)
    except (ValueError, AttributeError, TypeError):
        return None
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)
