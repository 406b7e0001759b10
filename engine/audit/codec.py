"""How a record's canonical bytes are stored: compressed against a dictionary kept in the log.

The entry hash covers the canonical JSON, never the stored bytes, so how a body is stored can
change without touching the chain: a row's `codec` column says how to get the canonical bytes
back, and verification hashes those.

- `NULL` (every row written before compression): the body is the canonical JSON itself.
- `zlib`: the body is zlib (RFC 1950) of the canonical JSON.
- `zlib:<sha256>`: zlib with a preset dictionary, the `blobs` row of that sha256.
- `zstd:<sha256>`: a Zstandard frame (RFC 8878) compressed with a dictionary, the `blobs` row of
  that sha256 (what this version writes).

Decisions share most of their text and all of their structure, yet one record alone
compresses only about 4x (30 KB to 7 KB); against a dictionary it takes a few KB or less.
The zlib rows of earlier versions used the canonical bytes of the log's first assessment
(zlib uses at most the last 32 KB) as preset dictionary, stored once in `blobs` and named by
`meta.dictionary`, content-addressed like the rule base files, so verification checks it like
them and any auditor with zlib can read such a row:
`zlib.decompressobj(zdict=blob).decompress(body)`.

Rows are now written with zstd against a dictionary trained on the canonical records of
decisions the benchmark never measures (scripts/train_audit_dictionary.py, shipped as
`records.zdict`): it compresses a 27 KB decision to about 2.4 KB in a tenth of zlib's time,
and decompresses faster. A log's first assessment appends its canonical bytes to that
dictionary's content (log_dictionary), as zlib's rows used that record, so that a log of
similar decisions stores each in a few hundred bytes. The dictionary is stored in the log the
same way (a `blobs` row by sha256, named by `meta.zstd_dictionary`) with the first row that
needs it, so any auditor with zstd can read a row:
`zstd -d -D blob` or `zstandard.ZstdDecompressor(dict_data=ZstdCompressionDict(blob))`.
Rows written with zlib keep their codec and read as before.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard

from engine.util.canonical import sha256_hex

ZLIB = "zlib"
DICT_PREFIX = "zlib:"
ZSTD_PREFIX = "zstd:"
ZSTD_LEVEL = 2  # level 3 shrinks records by 6% more at twice the CPU (0.07 against 0.034 ms)
ZSTD_DICTIONARY_FILE = Path(__file__).with_name("records.zdict")
LOG_RECORD_BYTES = 64 * 1024  # of the first record, added to a log's dictionary
LEVEL = 6  # zlib's, as earlier versions wrote it
# Far above any record append writes (its input documents are limited to 8 MiB each): an
# edited row cannot make a reader inflate gigabytes.
MAX_RECORD_BYTES = 256 << 20


class CodecError(ValueError):
    """A stored body that cannot be turned back into canonical bytes (edited or corrupt)."""


class ZstdDictionary:
    """A zstd dictionary and the codec name that points at its blob; compresses whole records
    (level ZSTD_LEVEL, content size in the frame, no checksum: the entry hash covers the
    bytes). One per process is shared by every open log; a lock keeps its compressor to one
    thread at a time (zstd contexts are not thread safe)."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.sha256 = sha256_hex(content)
        self.codec = ZSTD_PREFIX + self.sha256
        loaded = zstandard.ZstdCompressionDict(content)
        loaded.precompute_compress(level=ZSTD_LEVEL)
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=loaded,
                                                    write_checksum=False,
                                                    write_content_size=True)
        self._lock = threading.Lock()

    def compress(self, data: bytes) -> bytes:
        with self._lock:
            out: bytes = self._compressor.compress(data)
        return out


_shipped: ZstdDictionary | None = None


def shipped_dictionary() -> ZstdDictionary:
    """The dictionary this version compresses new rows with (loaded once per process)."""
    global _shipped
    if _shipped is None:
        _shipped = ZstdDictionary(ZSTD_DICTIONARY_FILE.read_bytes())
    return _shipped


def log_dictionary(first_record: bytes) -> ZstdDictionary:
    """A log's own dictionary: the shipped one with the canonical bytes of the first assessment
    the log records with zstd appended to its content (as zlib's rows used that record alone),
    so that a log of similar decisions stores each in a few hundred bytes."""
    return ZstdDictionary(shipped_dictionary().content + first_record[-LOG_RECORD_BYTES:])


def _forget_shipped() -> None:
    """A forked child makes its own: its parent's lock may have been held by another thread."""
    global _shipped
    _shipped = None


os.register_at_fork(after_in_child=_forget_shipped)


def dictionary_sha(codec: str | None) -> str | None:
    """The sha256 of the dictionary blob a codec names, or None."""
    if codec:
        for prefix in (DICT_PREFIX, ZSTD_PREFIX):
            if codec.startswith(prefix):
                return codec[len(prefix):]
    return None


def encode(canonical: bytes, codec: str | None,
           dictionary: Callable[[str], bytes | None]) -> bytes:
    """`canonical` stored as `codec` says (the inverse of decode; for tools and tests)."""
    if codec is None:
        return canonical
    if codec.startswith(ZSTD_PREFIX):
        return ZstdDictionary(_blob(codec[len(ZSTD_PREFIX):], dictionary)).compress(canonical)
    if codec == ZLIB:
        deflater = zlib.compressobj(LEVEL)
    elif codec.startswith(DICT_PREFIX):
        deflater = zlib.compressobj(LEVEL, zdict=_blob(codec[len(DICT_PREFIX):], dictionary))
    else:
        raise CodecError(f"unknown body codec {codec!r}")
    return deflater.compress(canonical) + deflater.flush()


def decode(stored: object, codec: object,
           dictionary: Callable[[str], bytes | None]) -> bytes:
    """The canonical bytes of a stored body; `dictionary(sha256)` returns a blob or None.

    Raises CodecError naming what is wrong; never returns bytes other than those stored.
    """
    if isinstance(stored, bytes | bytearray | memoryview):
        data = bytes(stored)
    elif codec is None:
        data = str(stored).encode("utf-8", "replace")  # an edited row: the hash decides
    else:
        raise CodecError(f"a {codec} body stored as {type(stored).__name__}, not bytes")
    if codec is None:
        return data
    if isinstance(codec, str) and codec.startswith(ZSTD_PREFIX):
        return _unzstd(data, codec[len(ZSTD_PREFIX):], dictionary)
    return _inflate(data, codec, dictionary)


def _blob(sha: str, dictionary: Callable[[str], bytes | None]) -> bytes:
    content = dictionary(sha)
    if content is None:
        raise CodecError(f"its compression dictionary {sha[:12]} is missing")
    return content


def _inflate(data: bytes, codec: object, dictionary: Callable[[str], bytes | None]) -> bytes:
    """A zlib body (the codec of earlier versions)."""
    if codec == ZLIB:
        inflater = zlib.decompressobj()
    elif isinstance(codec, str) and codec.startswith(DICT_PREFIX):
        inflater = zlib.decompressobj(zdict=_blob(codec[len(DICT_PREFIX):], dictionary))
    else:
        raise CodecError(f"unknown body codec {codec!r}")
    try:
        out = inflater.decompress(data, MAX_RECORD_BYTES)
    except zlib.error as error:
        raise CodecError(f"its compressed body does not decompress ({error})") from None
    if inflater.unconsumed_tail:
        raise CodecError(f"its compressed body inflates past {MAX_RECORD_BYTES >> 20} MiB")
    if not inflater.eof or inflater.unused_data:
        raise CodecError("its compressed body is cut short or has bytes after its end")
    return out


_local = threading.local()  # zstd decompressors are not thread safe: verify decodes on a pool


def _decompressor(sha: str, content: bytes) -> Any:
    """A zstd decompressor for a dictionary, made once per thread and dictionary content."""
    cache: dict[str, tuple[bytes, Any]] = _local.__dict__.setdefault("zstd", {})
    found = cache.get(sha)
    if found is None or found[0] != content:
        if len(cache) > 8:
            cache.clear()
        loaded = zstandard.ZstdCompressionDict(content)
        found = cache[sha] = (content, zstandard.ZstdDecompressor(dict_data=loaded))
    return found[1]


def _unzstd(data: bytes, sha: str, dictionary: Callable[[str], bytes | None]) -> bytes:
    content = _blob(sha, dictionary)
    try:
        size = zstandard.frame_content_size(data)
        if size < 0 or size > MAX_RECORD_BYTES:  # unknown (-1): a writer of ours always sets it
            raise CodecError(f"its compressed body inflates past {MAX_RECORD_BYTES >> 20} MiB"
                             if size > 0 else "its compressed body does not say its size")
        out: bytes = _decompressor(sha, content).decompress(data, allow_extra_data=False)
    except zstandard.ZstdError as error:
        raise CodecError(f"its compressed body does not decompress ({error})") from None
    if len(out) != size:
        raise CodecError("its compressed body is cut short or has bytes after its end")
    return out
