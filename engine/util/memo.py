"""Caches of answers kept per the values they read, bounded for a long-running server that
sees endless answers: a full cache is emptied and starts again, cheaper than LRU bookkeeping on
paths asked for every offer of every case."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def keep(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store `value` under `key` (emptying the cache first when it holds `limit` entries)."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
