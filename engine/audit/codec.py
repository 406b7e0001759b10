"""How a record's canonical bytes are stored: zlib, against a dictionary kept in the log.

The entry hash covers the canonical JSON, never the stored bytes, so how a body is stored can
change without touching the chain: a row's `codec` column says how to get the canonical bytes
back, and verification hashes those.

- `NULL` (every row written before compression): the body is the canonical JSON itself.
- `zlib`: the body is zlib (RFC 1950) of the canonical JSON.
- `zlib:<sha256>`: zlib with a preset dictionary, the `blobs` row of that sha256.

Decisions share most of their text and all of their structure, yet one record alone
compresses only about 4x (30 KB to 7 KB); against an earlier decision as a preset dictionary
it takes a few KB or less. The first assessment a log records with this code lends its
canonical bytes (zlib uses at most the last 32 KB) as the dictionary: it is stored once in
`blobs`, content-addressed like the rule base files, so verification checks it like them and
any auditor with zlib can read a row: `zlib.decompressobj(zdict=blob).decompress(body)`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from engine.util.canonical import sha256_hex

ZLIB = "zlib"
DICT_PREFIX = "zlib:"
LEVEL = 6
DICTIONARY_BYTES = 32 * 1024  # zlib's window: bytes before the last 32 KB are never used
# Far above any record append writes (its input documents are limited to 8 MiB each): an
# edited row cannot make a reader inflate gigabytes.
MAX_RECORD_BYTES = 256 << 20


class CodecError(ValueError):
    """A stored body that cannot be turned back into canonical bytes (edited or corrupt)."""


class Dictionary:
    """A preset dictionary: its bytes and the codec name that points at its blob."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.sha256 = sha256_hex(content)
        self.codec = DICT_PREFIX + self.sha256

    @classmethod
    def from_record(cls, canonical: bytes) -> Dictionary:
        return cls(canonical[-DICTIONARY_BYTES:])


def compressor(dictionary: Dictionary | None) -> zlib._Compress:
    """A zlib stream, so that the bulk of a record is compressed before the log is locked."""
    if dictionary is None:
        return zlib.compressobj(LEVEL)
    return zlib.compressobj(LEVEL, zdict=dictionary.content)


def dictionary_sha(codec: str | None) -> str | None:
    """The sha256 of the dictionary blob a codec names, or None."""
    if codec and codec.startswith(DICT_PREFIX):
        return codec[len(DICT_PREFIX):]
    return None


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
    if codec == ZLIB:
        inflater = zlib.decompressobj()
    else:
        sha = dictionary_sha(codec if isinstance(codec, str) else None)
        if sha is None:
            raise CodecError(f"unknown body codec {codec!r}")
        zdict = dictionary(sha)
        if zdict is None:
            raise CodecError(f"its compression dictionary {sha[:12]} is missing")
        inflater = zlib.decompressobj(zdict=zdict)
    try:
        out = inflater.decompress(data, MAX_RECORD_BYTES)
    except zlib.error as error:
        raise CodecError(f"its compressed body does not decompress ({error})") from None
    if inflater.unconsumed_tail:
        raise CodecError(f"its compressed body inflates past {MAX_RECORD_BYTES >> 20} MiB")
    if not inflater.eof or inflater.unused_data:
        raise CodecError("its compressed body is cut short or has bytes after its end")
    return out
