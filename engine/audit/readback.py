"""Record bodies decoded and hashed ahead of the verification walk, on other threads.

zstd's and zlib's decompression and hashlib's sha256 release the GIL, so rows further on are
decompressed and hashed on the other cores while the walk checks the current one (on one core,
verifying 10,000 compressed records took twice as long as the same records stored plain). The
walk stays in order and single-threaded; only pure functions of a row run in the pool.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from engine.audit import codec as codecs

CHUNK = 32  # rows a task: enough to amortise the hand-off, few enough to keep memory small
AHEAD = 8  # chunks in flight


@dataclass(frozen=True)
class Decoded:
    """A row's canonical bytes and sha256(prev_hash ‖ bytes), or why it has none."""

    body: bytes | None
    digest: str | None
    error: str | None = None


def decode(stored: Any, codec: Any, link: Any,
           dictionary: Callable[[str], bytes | None]) -> Decoded:
    try:
        body = codecs.decode(stored, codec, dictionary)
    except codecs.CodecError as error:
        return Decoded(None, None, str(error))
    digest = hashlib.sha256(str(link).encode("ascii", "replace"))
    digest.update(body)
    return Decoded(body, digest.hexdigest())


def decoded(rows: Iterable[tuple[Any, ...]], body: int, codec: int, link: int,
            dictionary: Callable[[str], bytes | None]) -> Iterator[tuple[tuple[Any, ...], Decoded]]:
    """(row, Decoded) in the rows' order; `body`, `codec` and `link` are column positions.

    `dictionary` is called on this thread only (it may use a database connection): each
    chunk's dictionaries are looked up before the chunk goes to the pool.
    """
    workers = min(4, os.cpu_count() or 1)
    if workers < 2:
        for row in rows:
            yield row, decode(row[body], row[codec], row[link], dictionary)
        return
    known: dict[str, bytes | None] = {}

    def lookup(sha: str) -> bytes | None:
        return known.get(sha)

    def work(chunk: list[tuple[Any, ...]]) -> list[Decoded]:
        return [decode(row[body], row[codec], row[link], lookup) for row in chunk]

    pending: deque[tuple[list[tuple[Any, ...]], Future[list[Decoded]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit-verify") as pool:
        for chunk in _chunks(rows):
            for row in chunk:
                sha = codecs.dictionary_sha(row[codec] if isinstance(row[codec], str) else None)
                if sha is not None and sha not in known:
                    known[sha] = dictionary(sha)
            pending.append((chunk, pool.submit(work, chunk)))
            if len(pending) >= AHEAD:
                yield from _ready(pending.popleft())
        while pending:
            yield from _ready(pending.popleft())


def _ready(item: tuple[list[tuple[Any, ...]], Future[list[Decoded]]]
           ) -> Iterator[tuple[tuple[Any, ...], Decoded]]:
    chunk, future = item
    yield from zip(chunk, future.result(), strict=True)


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
