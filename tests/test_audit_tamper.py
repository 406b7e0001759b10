"""Tampering with the log file is detected and the first bad record is named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.audit import open_log
from engine.audit.canonical import canonical_json
from engine.audit.checkpoint import load_checkpoint, save_checkpoint
from engine.audit.signing import keygen, trusted_keys
from engine.audit.store import _SCHEMA, TRIGGERS, _split_sql
from engine.errors import AuditError
from engine.util.canonical import sha256_hex
from tests.audit_rows import canonical_body, make_plain, stored_like
from tests.audit_standin import make_assessment


def build(n: int = 10) -> tuple[Path, list[str]]:
    log = open_log()
    ids = [log.append(make_assessment(i)) for i in range(n)]
    log.close()
    return log.path, ids


def tamper(path: Path, *statements: tuple[str, tuple[object, ...]],
           restore_triggers: bool = True) -> None:
    """Edit the file the way someone with write access would: drop the triggers, change rows,
    put the triggers back (so that only the data change itself can give it away)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for sql, params in statements:
        conn.execute(sql, params)
    if restore_triggers:
        for statement in _split_sql(_SCHEMA):
            if "TRIGGER" in statement:
                conn.execute(statement)
    conn.close()


def failure(home: Path, **options: object) -> str:
    with pytest.raises(AuditError) as info:
        open_log().verify(**options)
    assert info.value.exit_code == 3
    return str(info.value)


def row(path: Path, seq: int, raw: bool = False) -> tuple:
    """(record_id, canonical body, prev_hash, entry_hash); with `raw`, the body as stored and
    its codec last."""
    conn = sqlite3.connect(path)
    found = conn.execute("SELECT record_id, body, prev_hash, entry_hash, codec FROM records"
                         " WHERE seq=?", (seq,)).fetchone()
    conn.close()
    if raw:
        return found
    return (found[0], canonical_body(path, seq), *found[2:4])


def test_healthy_log_verifies(home: Path) -> None:
    build(10)
    summary = open_log().verify()
    assert summary["ok"] and summary["records"] == 10


def test_empty_log_verifies(home: Path) -> None:
    assert open_log().verify()["records"] == 0


def test_edited_content_is_named(home: Path) -> None:
    path, ids = build()
    record_id, body, _, _ = row(path, 4)
    edited = body.replace(b'"verdict":"proceed-with-conditions"', b'"verdict":"proceed"')
    assert edited != body
    tamper(path, ("UPDATE records SET body=? WHERE seq=4", (stored_like(path, 4, edited),)))
    message = failure(home)
    assert f"record 4 ({ids[3]})" in message and "edited" in message


def test_edit_with_recomputed_hashes_is_caught_by_the_next_link(home: Path) -> None:
    path, ids = build()
    record_id, body, prev, _ = row(path, 4)
    record = json.loads(body)
    record["decision"]["verdict"] = "proceed"
    new_body = canonical_json(record)
    tamper(path, ("UPDATE records SET body=?, entry_hash=? WHERE seq=4",
                  (stored_like(path, 4, new_body), sha256_hex(prev.encode() + new_body))))
    message = failure(home)
    assert "record 5" in message and "prev_hash" in message


def test_rewritten_history_is_caught_by_the_checkpoint(home: Path) -> None:
    path, ids = build()
    log = open_log()
    checkpoint = log.checkpoint()
    # rewrite record 4 and every later hash so the chain is whole again
    conn = sqlite3.connect(path, isolation_level=None)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    prev = row(path, 3)[3]
    for seq in range(4, 11):
        _, body, _, _ = row(path, seq)
        if seq == 4:
            record = json.loads(body)
            record["respondent"] = "Someone Else"
            body = canonical_json(record)
        entry = sha256_hex(prev.encode() + body)
        conn.execute("UPDATE records SET body=?, prev_hash=?, entry_hash=? WHERE seq=?",
                     (stored_like(path, seq, body), prev, entry, seq))
        prev = entry
    for statement in _split_sql(_SCHEMA):
        if "TRIGGER" in statement:
            conn.execute(statement)
    conn.close()
    assert open_log().verify(saved=False)["records"] == 10  # a whole chain on its own...
    message = failure(home, checkpoint=checkpoint, saved=False)  # ...but not the one vouched for
    assert "record 10" in message and "history rewritten" in message
    message = failure(home)  # the head file beside the log says the same by default
    assert "audit.head.json" in message and "history rewritten" in message


def test_re_hashed_last_record_is_caught_by_the_head_file(home: Path) -> None:
    path, ids = build(4)
    _, body, prev, _ = row(path, 4)
    record = json.loads(body)
    record["decision"]["verdict"] = "proceed"
    new_body = canonical_json(record)
    tamper(path, ("UPDATE records SET body=?, entry_hash=? WHERE seq=4",
                  (stored_like(path, 4, new_body), sha256_hex(prev.encode() + new_body))))
    message = failure(home)
    assert f"record 4 ({ids[3]}) is not the record the checkpoint names" in message


def test_edited_column_is_named(home: Path) -> None:
    path, ids = build()
    tamper(path, ("UPDATE records SET time='2020-01-01T00:00:00.000000Z' WHERE seq=6", ()))
    message = failure(home)
    assert "record 6" in message and "time column" in message


@pytest.mark.parametrize("column,value", [("record_id", "another-id"), ("kind", "report"),
                                          ("signature", "AAAA"), ("prev_hash", "1" * 64)])
def test_every_edited_column_is_named(home: Path, column: str, value: str) -> None:
    path, ids = build()
    tamper(path, (f"UPDATE records SET {column}=? WHERE seq=6", (value,)))
    message = failure(home)
    assert "record 6" in message


def test_edited_entry_hash_is_named(home: Path) -> None:
    path, _ = build()
    tamper(path, ("UPDATE records SET entry_hash=? WHERE seq=7", ("f" * 64,)))
    assert "record 7" in failure(home)


def test_deleted_record_is_named(home: Path) -> None:
    path, ids = build()
    tamper(path, ("DELETE FROM records WHERE seq=5", ()))
    message = failure(home)
    assert "record 5 missing" in message and "deleted" in message


def test_deleted_first_record_is_named(home: Path) -> None:
    path, _ = build()
    tamper(path, ("DELETE FROM records WHERE seq=1", ()))
    assert "record 1 missing" in failure(home)


def test_reordered_records_are_named(home: Path) -> None:
    path, ids = build()
    a, b = row(path, 3, raw=True), row(path, 4, raw=True)
    swap = ("UPDATE records SET record_id=?, body=?, prev_hash=?, entry_hash=?, codec=?"
            " WHERE seq=?")
    tamper(path, (swap, ("t1", b"", "t2", "t3", None, 3)), (swap, (*a, 4)), (swap, (*b, 3)))
    message = failure(home)
    assert f"record 3 ({ids[3]})" in message and "reordered" in message


def test_reordered_by_swapping_seq_is_named(home: Path) -> None:
    path, ids = build()
    tamper(path, ("UPDATE records SET seq=1000 WHERE seq=8", ()),
           ("UPDATE records SET seq=8 WHERE seq=9", ()),
           ("UPDATE records SET seq=9 WHERE seq=1000", ()))
    message = failure(home)
    assert "record 8" in message and "reordered" in message


def test_truncated_tail_is_caught_by_the_sequence(home: Path) -> None:
    path, _ = build()
    tamper(path, ("DELETE FROM records WHERE seq>7", ()))
    message = failure(home)
    assert "records 8-10" in message and "truncated" in message


def test_truncated_tail_is_caught_by_a_saved_checkpoint(home: Path) -> None:
    path, _ = build()
    log = open_log()
    saved = save_checkpoint(home, log.checkpoint())
    log.close()
    # rebuild the first seven records into a fresh file: a tail cut off without traces
    src = sqlite3.connect(path)
    rows = src.execute("SELECT * FROM records WHERE seq<=7 ORDER BY seq").fetchall()
    blobs = src.execute("SELECT * FROM blobs").fetchall()
    bases = src.execute("SELECT * FROM rulebases").fetchall()
    meta = src.execute("SELECT * FROM meta").fetchall()
    src.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in _split_sql(_SCHEMA):
        conn.execute(statement)
    conn.executemany(f"INSERT INTO records VALUES ({','.join('?' * len(rows[0]))})", rows)
    conn.executemany("INSERT INTO blobs VALUES (?,?)", blobs)
    conn.executemany("INSERT INTO rulebases VALUES (?,?)", bases)
    conn.executemany("INSERT INTO meta VALUES (?,?)", meta)
    conn.close()
    assert open_log().verify(saved=False)["records"] == 7  # nothing inside the file shows it
    message = failure(home, checkpoint=load_checkpoint(saved), saved=False)
    assert "the log has 7 records" in message and "vouches for 10" in message
    (home / "audit.head.json").unlink()
    assert "vouches for 10" in failure(home)  # the saved copy in home/checkpoints is found


def test_checkpoint_of_another_log_is_named(home: Path, tmp_path: Path) -> None:
    build(3)
    other = open_log(tmp_path / "other")
    other.append(make_assessment(1))
    message = failure(home, checkpoint=other.checkpoint())
    assert "the log was replaced" in message


def test_forged_checkpoint_signature_is_named(home: Path) -> None:
    keygen(home)
    build(3)
    checkpoint = open_log().checkpoint()
    checkpoint["count"] = 2
    assert "signature does not match" in failure(home, checkpoint=checkpoint)


@pytest.mark.parametrize("where", ["header", "middle"])
def test_corrupt_file_is_detected(home: Path, where: str) -> None:
    path, _ = build(40)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    if where == "header":
        data[0:16] = b"garbage garbage!"
    else:
        start = len(data) // 2
        data[start:start + 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(data))
    with pytest.raises(AuditError) as info:
        open_log().verify()
    assert info.value.exit_code == 3
    assert "corrupt" in str(info.value) or "edited" in str(info.value)
    assert "\n" not in str(info.value)


def test_file_cut_in_half_is_detected(home: Path) -> None:
    path, _ = build(40)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(AuditError) as info:
        open_log().verify()
    assert "corrupt" in str(info.value) and info.value.exit_code == 3


@pytest.mark.parametrize("plain", [False, True])
def test_flipped_byte_in_a_body_is_named(home: Path, plain: bool) -> None:
    """A bit flipped on disk inside a stored body, compressed (zstd no longer inflates it, or
    what it inflates fails the hash) or plain (the hash fails)."""
    path, ids = build(5)
    if plain:
        make_plain(path)
    with sqlite3.connect(path) as conn:  # no stale copy of a page left in the file
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = row(path, 4, raw=True)[1]
    data = bytearray(path.read_bytes())
    if plain:
        at = data.index(b'"Project 3"')
    else:  # bytes of its body found nowhere else in the file (similar records share some)
        middle_first = [*range(len(stored) // 2, len(stored) - 32), *range(len(stored) // 2)]
        window = next(stored[i:i + 32] for i in middle_first
                      if data.count(stored[i:i + 32]) == 1)
        at = data.index(window)
    data[at + 1] ^= 0x10
    path.write_bytes(bytes(data))
    message = failure(home)
    assert f"record 4 ({ids[3]})" in message and "edited" in message


def test_altered_rule_base_file_is_named(home: Path) -> None:
    path, _ = build(3)
    conn = sqlite3.connect(path)
    digest = conn.execute("SELECT sha256 FROM blobs WHERE sha256 NOT IN (SELECT substr(codec, 6)"
                          " FROM records WHERE codec IS NOT NULL) LIMIT 1").fetchone()[0]
    conn.close()
    tamper(path, ("UPDATE blobs SET content=? WHERE sha256=?", (b"rules: [evil]\n", digest)))
    message = failure(home)
    assert "record 1 (" in message and "stored rule base file" in message
    assert "was altered" in message


def test_altered_rule_base_manifest_is_named(home: Path) -> None:
    path, ids = build(3)
    tamper(path, ("UPDATE rulebases SET manifest=?", (b'{"rules/x.yaml":"00"}',)))
    message = failure(home)
    assert f"record 1 ({ids[0]})" in message and "manifest was altered" in message


def test_dropped_trigger_is_named(home: Path) -> None:
    path, _ = build(3)
    tamper(path, restore_triggers=False)
    assert "append-only trigger" in failure(home)


def test_inserted_record_is_named(home: Path) -> None:
    path, ids = build(5)
    _, body, prev, entry = row(path, 5)
    forged = json.loads(body)
    forged["record_id"] = forged["decision"]["assessment_id"] = "forged"
    new_body = canonical_json(forged)
    tamper(path, ("INSERT INTO records (seq, record_id, kind, time, body, prev_hash, entry_hash)"
                  " VALUES (6, 'forged', 'assessment', ?, ?, 'x', ?)",
                  (forged["time"], new_body, sha256_hex(b"x" + new_body))))
    message = failure(home)
    assert "record 6 (forged)" in message


def test_signature_of_a_rewritten_record_fails(home: Path) -> None:
    keygen(home)
    path, ids = build(4)
    _, body, prev, _ = row(path, 4)
    record = json.loads(body)
    record["decision"]["verdict"] = "proceed"
    new_body = canonical_json(record)
    tamper(path, ("UPDATE records SET body=?, entry_hash=? WHERE seq=4",
                  (stored_like(path, 4, new_body), sha256_hex(prev.encode() + new_body))))
    message = failure(home)
    assert "record 4" in message and "signature does not match" in message


def test_log_re_signed_with_another_key_fails_against_trusted_keys(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keygen(home)
    trusted = trusted_keys(home)
    _, private, _ = keygen(tmp_path / "attacker")
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", str(private))
    build(2)
    assert open_log().verify(trusted={})["signed"] == 2  # consistent with its own keys
    assert "not a trusted key" in failure(home, trusted=trusted)
    assert "not a trusted key" in failure(home)  # home/keys/*.pub are trusted by default


def test_unsigned_records_fail_when_signatures_are_required(home: Path) -> None:
    build(2)
    assert "record 1" in failure(home, require_signatures=True)


def test_unsigned_record_after_signed_ones_fails_unless_allowed(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keygen(home)
    build(2)
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", "off")
    log = open_log()
    rid = log.append(make_assessment(7))
    message = failure(home)
    assert f"record 3 ({rid}): not signed, though earlier records are" in message
    summary = open_log().verify(allow_unsigned=True)
    assert summary["ok"] and summary["warnings"] and summary["unsigned"] == 1


def test_unreadable_head_file_is_named(home: Path) -> None:
    build(2)
    (home / "audit.head.json").write_text("{not json")
    assert "head file audit.head.json is unreadable" in failure(home)
