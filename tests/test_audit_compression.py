"""Compressed record bodies (issue 15): they round-trip, tampering with them is caught, and logs
written before compression, or with the zlib codec of earlier versions, keep working, read-only
and after new rows are added."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import rfc8785
from click.testing import CliRunner

from engine.audit import codec as codecs
from engine.audit import open_log
from engine.audit.headfile import HEAD_BYTES
from engine.audit.verify import verify_export
from engine.cli import cli
from engine.errors import AuditError
from tests.audit_rows import canonical_body, make_plain
from tests.audit_standin import make_assessment
from tests.test_audit_tamper import failure, tamper

FIXTURE = Path(__file__).parent / "fixtures" / "audit-v1"  # written by the code before codecs
FIXTURE_IDS = ["0fa2cbfc-6e50-40f4-b646-722874062c9b", "bcb3b4e0-b7b9-42c7-9f63-9e3c1f158382",
               "e32d0730-b4e2-4f0e-9ddb-a403fe2e16ed"]
# audit-v1 upgraded and appended to by the zlib codec (engine 0.2, before zstd): rows 1-4 plain,
# 5 a report event in plain zlib, 6-8 zlib against the first assessment's dictionary
ZLIB_FIXTURE = Path(__file__).parent / "fixtures" / "audit-zlib"
ZLIB_IDS = ["c4581b9e-de5e-4419-a9f8-f1a443568d51", "faa3abbf-4650-4646-823f-3f137330893f"]


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(records)")]


def codecs_of(path: Path) -> list[str | None]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT codec FROM records ORDER BY seq")]


def old_log(home: Path, fixture: Path = FIXTURE) -> Path:
    home.mkdir(parents=True)
    for name in ("audit.sqlite", "audit.head.json"):
        shutil.copy(fixture / name, home / name)
    return home / "audit.sqlite"


def dictionary_blob(path: Path, codec: str) -> bytes:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT content FROM blobs WHERE sha256=?",
                            (codecs.dictionary_sha(codec),)).fetchone()[0]


# -- new rows -----------------------------------------------------------------------------

def test_compressed_rows_round_trip(home: Path) -> None:
    log = open_log()
    ids = [log.append(make_assessment(i)) for i in range(4)]
    event = log.append_report(ids[0], "pdf", "b" * 64)
    path = log.path
    stored = codecs_of(path)
    assert stored[0].startswith(codecs.ZSTD_PREFIX)
    assert stored == [stored[0]] * 5  # every kind, one dictionary
    # the shipped one with the first record's bytes (up to its time), stored in the log and
    # named in meta
    blob = dictionary_blob(path, stored[0])
    first = canonical_body(path, 1)
    assert blob == codecs.ZSTD_DICTIONARY_FILE.read_bytes() + first[:first.rindex(b',"time":')]
    with sqlite3.connect(path) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        sizes = conn.execute("SELECT seq, length(body) FROM records ORDER BY seq").fetchall()
    assert codecs.ZSTD_PREFIX + meta["zstd_dictionary"] == stored[0]
    for seq, size in sizes:
        canonical = canonical_body(path, seq)
        assert size < len(canonical)
        record = log.get((ids + [event])[seq - 1])
        # what is read back is exactly what was hashed: the canonical bytes of the body
        assert rfc8785.dumps(dict(record.body)) == canonical
        assert hashlib.sha256(record.prev_hash.encode() + canonical).hexdigest() \
            == record.entry_hash
    assert sizes[-1][1] < 200  # a report event, against the dictionary
    assert all(size < 300 for _, size in sizes[1:4])  # similar decisions: a few hundred bytes
    assert log.get(event).of == ids[0]
    assert open_log().verify()["records"] == 5
    exported = io.StringIO()
    log.export(exported)
    export = home / "export.jsonl"
    export.write_text(exported.getvalue())
    assert verify_export(export)["records"] == 5


def test_a_report_event_before_any_assessment_uses_the_shipped_dictionary(home: Path) -> None:
    """A log upgraded with no dictionary of its own yet: a report event is too small to lend
    its bytes to one."""
    path = old_log(home)
    log = open_log()
    event = log.append_report(FIXTURE_IDS[0], "html", "c" * 64)
    assert codecs_of(path)[-1] == codecs.shipped_dictionary().codec
    assert log.get(event).format == "html"
    log.append(make_assessment(7))
    assert codecs_of(path)[-1].startswith(codecs.ZSTD_PREFIX)
    assert codecs_of(path)[-1] != codecs.shipped_dictionary().codec
    assert open_log().verify()["records"] == 6


def test_a_new_process_reuses_the_logs_dictionary(home: Path) -> None:
    open_log().append(make_assessment(1))
    open_log().append(make_assessment(2))  # another AuditLog, as another `assess` would be
    path = home / "audit.sqlite"
    assert len(set(codecs_of(path))) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM meta WHERE key='zstd_dictionary'"
                            ).fetchone()[0] == 1


def test_a_new_log_packs_records_in_larger_pages(home: Path) -> None:
    """2-4 KB records left most of a 4 KB page empty; an existing log keeps its page size."""
    from engine.audit.store import PAGE_BYTES

    path = open_log().path
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_BYTES > 4096
    old = old_log(home / "old")
    open_log(home / "old").append(make_assessment(3))
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096


def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import zlib

    bomb = zlib.compress(b" " * (codecs.MAX_RECORD_BYTES + 1), 9)
    with pytest.raises(codecs.CodecError, match="inflates past"):
        codecs.decode(bomb, codecs.ZLIB, lambda sha: None)
    shipped = codecs.shipped_dictionary()
    record = shipped.compress(b" " * 5000)
    assert codecs.decode(record, shipped.codec, lambda sha: shipped.content) == b" " * 5000
    monkeypatch.setattr(codecs, "MAX_RECORD_BYTES", 4096)  # the size its frame says is checked
    with pytest.raises(codecs.CodecError, match="inflates past"):  # before anything is inflated
        codecs.decode(record, shipped.codec, lambda sha: shipped.content)


def test_a_zstd_frame_that_does_not_say_its_size_is_refused() -> None:
    import zstandard

    shipped = codecs.shipped_dictionary()
    streamed = zstandard.ZstdCompressor(write_content_size=False).compress(b"{}")
    with pytest.raises(codecs.CodecError, match="does not say its size"):
        codecs.decode(streamed, shipped.codec, lambda sha: shipped.content)


def test_encode_inverts_decode_for_every_codec() -> None:
    shipped = codecs.shipped_dictionary()
    blobs = {shipped.sha256: shipped.content, "a" * 64: b'{"kind":"assessment"}' * 50}
    canonical = b'{"kind":"assessment","x":[1,2,3]}'
    for codec in (None, codecs.ZLIB, codecs.DICT_PREFIX + "a" * 64, shipped.codec):
        stored = codecs.encode(canonical, codec, blobs.get)
        assert codecs.decode(stored, codec, blobs.get) == canonical, codec


# -- tampering with compressed rows ---------------------------------------------------------

def build(n: int = 5) -> tuple[Path, list[str]]:
    log = open_log()
    ids = [log.append(make_assessment(i)) for i in range(n)]
    log.close()
    return log.path, ids


@pytest.mark.parametrize("sql,params,expected", [
    ("UPDATE records SET codec='zlib' WHERE seq=3", (), "does not decompress"),
    ("UPDATE records SET codec='lz4' WHERE seq=3", (), "unknown body codec"),
    ("UPDATE records SET codec=NULL WHERE seq=3", (), "entry_hash does not match"),
    ("UPDATE records SET codec='zstd:' || substr(codec, 6, 60) WHERE seq=3", (),
     "dictionary"),
    ("UPDATE records SET body=substr(body, 1, 40) WHERE seq=3", (), "does not decompress"),
    ("UPDATE records SET body=body || x'00' WHERE seq=3", (), "does not decompress"),
    ("UPDATE records SET body=x'00' || body WHERE seq=3", (), "does not decompress"),
    ("UPDATE records SET body=7 WHERE seq=3", (), "corrupt or edited"),
])
def test_tampered_compressed_row_is_named(home: Path, sql: str, params: tuple[object, ...],
                                          expected: str) -> None:
    path, ids = build()
    tamper(path, (sql, params))
    message = failure(home)
    assert f"record 3 ({ids[2]})" in message and expected in message
    assert "\n" not in message


def test_altered_dictionary_is_named(home: Path) -> None:
    path, ids = build()
    sha = codecs.dictionary_sha(codecs_of(path)[0])
    tamper(path, ("UPDATE blobs SET content=? WHERE sha256=?", (b"x" * 100, sha)))
    with pytest.raises(AuditError) as info:
        open_log().verify()
    problems = info.value.problems  # type: ignore[attr-defined]
    assert f"record 1 ({ids[0]})" in problems[0] and "does not decompress" in problems[0]
    assert any(f"stored file {sha[:12]} was altered" in p for p in problems)


def test_deleted_dictionary_is_named(home: Path) -> None:
    path, ids = build()
    tamper(path, ("DELETE FROM blobs WHERE sha256=?", (codecs.dictionary_sha(codecs_of(path)[0]),)))
    message = failure(home)
    assert f"record 1 ({ids[0]})" in message and "dictionary" in message and "missing" in message


# -- a log written before compression --------------------------------------------------------

def test_old_log_reads_and_verifies_without_being_changed(home: Path) -> None:
    path = old_log(home)
    before = columns(path)
    assert "codec" not in before
    result = run("verify")
    assert result.exit_code == 0 and result.stdout.startswith("ok: 4 records")
    shown = run("show", FIXTURE_IDS[1], "--format", "json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["record_id"] == FIXTURE_IDS[1]
    listed = run("list")
    assert listed.exit_code == 0 and all(i in listed.stdout for i in FIXTURE_IDS)
    export = home / "old.jsonl"
    assert run("export", "--out", str(export)).exit_code == 0
    assert verify_export(export)["records"] == 4
    assert columns(path) == before  # reading never upgrades


def test_old_log_upgrades_on_first_write_and_keeps_verifying(home: Path) -> None:
    path = old_log(home)
    old_head = open_log(create=False).head()
    log = open_log()  # opened for writing: the upgrade happens here, nothing is rewritten
    assert columns(path)[-1] == "codec" and codecs_of(path) == [None] * 4
    assert log.head() == old_head
    new = [log.append(make_assessment(10 + i)) for i in range(3)]
    stored = codecs_of(path)
    assert stored[:4] == [None] * 4 and all(c and c.startswith("zstd:") for c in stored[4:])
    summary = open_log().verify()
    assert summary["records"] == 7 and summary["checkpoints"]
    for record_id in FIXTURE_IDS + new:  # old and new rows read the same way
        assert log.get(record_id).record_id == record_id
    exported = io.StringIO()
    log.export(exported)
    export = home / "mixed.jsonl"
    export.write_text(exported.getvalue())
    assert verify_export(export)["records"] == 7
    assert open_log().verify()["records"] == 7  # a second open: no second upgrade
    assert columns(path).count("codec") == 1
    # the web's filter finds plain and compressed rows alike, old log or upgraded
    every = log.page(limit=20)
    for row in every:  # words of a name match as substrings: "Project 1" finds "Project 12"
        found = log.page(limit=20, search=row.project or "")
        assert row.seq in {r.seq for r in found}, row.project
    assert log.page(limit=20, search="no such project anywhere") == []


def test_a_zlib_log_reads_verifies_and_takes_zstd_rows(home: Path) -> None:
    """Rows written by the zlib codec (with and without a dictionary) read as before; new rows
    are zstd and the mixed log verifies as one chain."""
    path = old_log(home, ZLIB_FIXTURE)
    before = path.read_bytes()
    assert codecs_of(path)[4:] == [codecs.ZLIB] + [codecs_of(path)[5]] * 3
    assert codecs_of(path)[5].startswith(codecs.DICT_PREFIX)
    result = run("verify")
    assert result.exit_code == 0 and result.stdout.startswith("ok: 8 records")
    for record_id in ZLIB_IDS:
        shown = run("show", record_id, "--format", "json")
        assert shown.exit_code == 0 and json.loads(shown.stdout)["record_id"] == record_id
    export = home / "zlib.jsonl"
    assert run("export", "--out", str(export)).exit_code == 0
    assert verify_export(export)["records"] == 8
    assert path.read_bytes() == before  # reading changes nothing
    log = open_log()
    new = log.append(make_assessment(20))
    log.append_report(ZLIB_IDS[0], "pdf", "d" * 64)
    assert codecs_of(path)[-1] == codecs_of(path)[-2] and codecs_of(path)[-1].startswith("zstd:")
    assert open_log().verify()["records"] == 10
    assert {r.record_id for r in log.list()} >= {*ZLIB_IDS, new}
    assert [r.of for r in log.reports_for(ZLIB_IDS[0])] == [ZLIB_IDS[0]] * 2


def test_a_cut_zlib_row_is_still_named(home: Path) -> None:
    path = old_log(home, ZLIB_FIXTURE)
    tamper(path, ("UPDATE records SET body=substr(body, 1, 40) WHERE seq=7", ()))
    message = failure(home)
    assert f"record 7 ({ZLIB_IDS[1]})" in message and "cut short" in message


def test_old_plain_rows_replay_after_an_upgrade(home: Path) -> None:
    from engine.api import assess
    from tests.test_audit_replay import ANSWERS

    with open_log() as log:
        record_id = log.append(assess({"answers": ANSWERS, "benchmarks": None, "drift": None}))
    assert make_plain(home / "audit.sqlite") == 1  # stored as before compression
    assert codecs_of(home / "audit.sqlite") == [None]
    result = CliRunner().invoke(cli, ["audit", "replay", record_id, "--recorded-only",
                                      "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert '"reproduced": true' in result.stdout
    assert run("verify").exit_code == 0


# -- the head file ---------------------------------------------------------------------------

def test_head_file_is_overwritten_in_place(home: Path) -> None:
    log = open_log()
    log.append(make_assessment(1))
    head = home / "audit.head.json"
    assert head.stat().st_size == HEAD_BYTES
    inode = head.stat().st_ino
    log.append(make_assessment(2))
    assert head.stat().st_ino == inode and head.stat().st_size == HEAD_BYTES
    assert json.loads(head.read_text())["count"] == 2
    assert open_log().verify()["checkpoints"] == [2]


def test_an_old_head_file_is_replaced_and_a_symlink_is_not_followed(home: Path,
                                                                    tmp_path: Path) -> None:
    old_log(home)
    head = home / "audit.head.json"
    assert head.stat().st_size != HEAD_BYTES  # written by the old code
    open_log().append(make_assessment(1))
    assert head.stat().st_size == HEAD_BYTES and json.loads(head.read_text())["count"] == 5
    victim = tmp_path / "victim"
    victim.write_bytes(b"v" * HEAD_BYTES)
    head.unlink()
    os.symlink(victim, head)
    open_log().append(make_assessment(2))
    assert victim.read_bytes() == b"v" * HEAD_BYTES
    assert not head.is_symlink() and json.loads(head.read_text())["count"] == 6
