"""Raw access to the log's rows for tests that play someone editing the file.

Bodies are stored compressed (engine/audit/codec.py): an editor who wants to change what a
record says decompresses it, edits the canonical JSON and stores it back, compressed the same
way or plain (rows written before compression are plain, and both are read).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.audit import codec as codecs
from engine.audit.store import _SCHEMA, _split_sql


def _dictionary(conn: sqlite3.Connection, codec: str | None) -> bytes | None:
    sha = codecs.dictionary_sha(codec)
    if sha is None:
        return None
    found = conn.execute("SELECT content FROM blobs WHERE sha256=?", (sha,)).fetchone()
    return found[0] if found else None


def canonical_body(path: Path, seq: int) -> bytes:
    """The canonical bytes record `seq` stores, whatever its codec."""
    with sqlite3.connect(path) as conn:
        body, codec = conn.execute("SELECT body, codec FROM records WHERE seq=?",
                                   (seq,)).fetchone()
        return codecs.decode(body, codec, lambda sha: _dictionary(conn, codecs.DICT_PREFIX + sha))


def stored_like(path: Path, seq: int, canonical: bytes) -> bytes:
    """`canonical` compressed the way record `seq` is stored, ready for `SET body=?`."""
    with sqlite3.connect(path) as conn:
        (codec,) = conn.execute("SELECT codec FROM records WHERE seq=?", (seq,)).fetchone()
        return codecs.encode(canonical, codec,
                             lambda sha: _dictionary(conn, codecs.DICT_PREFIX + sha))


def make_plain(path: Path) -> int:
    """Store every compressed body as its canonical JSON (codec NULL), as a log written before
    compression does: the chain is untouched (it covers the canonical bytes), and SQL text
    functions (replace, json_set) can then edit bodies. Returns the rows rewritten."""
    with sqlite3.connect(path) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM records WHERE codec IS NOT NULL")]
    plain = {seq: canonical_body(path, seq) for seq in seqs}
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("DROP TRIGGER records_no_update")
        for seq, body in plain.items():
            conn.execute("UPDATE records SET body=?, codec=NULL WHERE seq=?", (body, seq))
        (trigger,) = [s for s in _split_sql(_SCHEMA) if "records_no_update" in s]
        conn.execute(trigger)
    return len(plain)
