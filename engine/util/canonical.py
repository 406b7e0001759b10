"""Canonical JSON: the same document always gives the same bytes, and so the same sha256."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_bytes(doc: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8: stable across runs and machines."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def pretty_bytes(doc: Any) -> bytes:
    """Sorted keys and indentation for people, still deterministic."""
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def doc_sha256(doc: Any) -> str:
    return sha256_hex(canonical_bytes(doc))
