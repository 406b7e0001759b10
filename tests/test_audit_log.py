"""The decision log's store: records, content-addressed rule bases, append-only, signing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.audit import GENESIS, open_log
from engine.audit.canonical import canonical_json, join_object
from engine.audit.record import AuditRecord, RulebaseRef
from engine.audit.signing import keygen
from engine.errors import AuditError, InputError
from tests.audit_standin import StandInRuleBase, make_assessment


def test_append_records_every_field_and_chains(home: Path, backend: str) -> None:
    log = open_log()
    first = make_assessment(1)
    second = make_assessment(2, respondent="Sam Roe")
    rid1 = log.append(first, {"html": "a" * 64})
    rid2 = log.append(second)
    assert rid1 == first.decision["assessment_id"]
    rec1, rec2 = log.get(rid1), log.get(rid2)
    assert rec1.prev_hash == GENESIS
    assert rec2.prev_hash == rec1.entry_hash
    assert rec1.respondent == "Dana Lee, Support Ops"
    assert rec2.respondent == "Sam Roe"
    assert rec1.input == first.input_doc
    assert rec1.decision == first.decision
    assert rec1.reports == {"html": "a" * 64}
    assert rec1.rulebase.version == "standin-1"
    assert rec1.rulebase.sha256 == first.rulebase.sha256
    assert rec1.engine_version == "0.1.0"
    assert rec1.input_sha256 == first.decision["input_sha256"]
    assert rec1.time.endswith("Z") and rec1.time <= rec2.time
    # entry_hash = sha256(prev_hash ‖ RFC 8785 canonical JSON of the record)
    body = {k: v for k, v in rec1.to_dict().items()
            if k not in {"seq", "prev_hash", "entry_hash", "signature", "key_id"}}
    expected = hashlib.sha256(GENESIS.encode() + rfc8785.dumps(body)).hexdigest()
    assert rec1.entry_hash == expected


def test_rule_base_files_are_stored_once_per_content(home: Path) -> None:
    log = open_log()
    rb = StandInRuleBase()
    for n in range(5):
        log.append(make_assessment(n, rulebase=rb))
    changed = StandInRuleBase(files={**rb.files, "rules/data.yaml": b"rules: [x]\n"})
    log.append(make_assessment(9, rulebase=changed))
    conn = sqlite3.connect(log.path)
    assert conn.execute("SELECT count(*) FROM rulebases").fetchone()[0] == 2
    # the unchanged questionnaire is shared: 2 + 1 distinct contents (the compression
    # dictionary is a blob of its own, named by the rows' codec)
    assert conn.execute("SELECT count(*) FROM blobs WHERE sha256 NOT IN (SELECT substr(codec, 6)"
                        " FROM records WHERE codec IS NOT NULL)").fetchone()[0] == 3
    record = log.list()[0]
    files = log.rulebase_files(log.get(record.record_id).rulebase.files_sha256)
    assert files == rb.files


def test_unsafe_rule_base_path_is_refused(home: Path) -> None:
    rb = StandInRuleBase(files={"../etc/passwd": b"x"})
    with pytest.raises(InputError) as info:
        open_log().append(make_assessment(1, rulebase=rb))
    assert "files" in info.value.path
    assert open_log().count() == 0


def test_duplicate_id_is_refused_and_nothing_written(home: Path, backend: str) -> None:
    log = open_log()
    a = make_assessment(1)
    log.append(a)
    with pytest.raises(InputError) as info:
        log.append(a)
    assert info.value.path == "record_id"
    assert log.count() == 1


def test_missing_assessment_id_is_an_input_error(home: Path) -> None:
    a = make_assessment(1)
    del a.decision["assessment_id"]
    with pytest.raises(InputError):
        open_log().append(a)


def test_database_refuses_update_and_delete(home: Path) -> None:
    log = open_log()
    log.append(make_assessment(1))
    conn = sqlite3.connect(log.path)
    for sql in ("UPDATE records SET body = 'x'", "DELETE FROM records",
                "DELETE FROM blobs", "UPDATE rulebases SET manifest = 'x'",
                "DELETE FROM meta"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert log.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    log.verify()


def test_report_events_join_the_chain(home: Path, backend: str) -> None:
    log = open_log()
    rid = log.append(make_assessment(1))
    event = log.append_report(rid, "pdf", "b" * 64)
    record = log.get(event)
    assert record.kind == "report" and record.of == rid
    assert record.format == "pdf" and record.sha256 == "b" * 64
    assert record.prev_hash == log.get(rid).entry_hash
    assert [r.record_id for r in log.reports_for(rid)] == [event]
    with pytest.raises(InputError):
        log.append_report(event, "pdf", "c" * 64)  # an event is not an assessment
    with pytest.raises(InputError):
        log.append_report("no-such-id", "pdf", "c" * 64)
    assert log.verify()["records"] == 2


def test_get_by_prefix_and_unknown_id(home: Path, backend: str) -> None:
    log = open_log()
    rid = log.append(make_assessment(1))
    assert log.get(rid[:8]).record_id == rid
    with pytest.raises(InputError) as info:
        log.get("ffffffff-0000")
    assert info.value.path == "record_id" and info.value.exit_code == 2


def test_list_filters(home: Path, backend: str) -> None:
    log = open_log()
    ids = [log.append(make_assessment(n, respondent=f"Person {n % 2}")) for n in range(6)]
    log.append_report(ids[0], "html", "d" * 64)
    assert [s.record_id for s in log.list()] == ids
    assert len(log.list(kind=None)) == 7
    assert [s.record_id for s in log.list(respondent="person 1")] == ids[1::2]
    assert [s.record_id for s in log.list(limit=2)] == ids[-2:]
    assert log.list(verdict="proceed") == []
    assert log.list()[0].verdict == "proceed-with-conditions"


def test_not_a_database_is_an_audit_error(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "audit.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AuditError) as info:
        open_log()
    assert info.value.exit_code == 3


def test_signing_with_generated_key(home: Path, backend: str) -> None:
    key_id, private, public = keygen(home)
    assert private.stat().st_mode & 0o777 == 0o600
    assert public.name == f"{key_id}.pub"
    log = open_log()
    rid = log.append(make_assessment(1))
    record = log.get(rid)
    assert record.key_id == key_id and record.signature
    summary = log.verify()
    assert summary["signed"] == 1 and summary["keys"] == "trusted"  # its .pub is in home/keys
    checkpoint = log.checkpoint()
    assert checkpoint["key_id"] == key_id and checkpoint["signature"]
    with pytest.raises(InputError):
        keygen(home)  # never overwrite a key silently


def test_signing_off_by_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keygen(home)
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", "off")
    log = open_log()
    assert log.get(log.append(make_assessment(1))).signature is None


def test_signing_key_from_env_path(home: Path, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    key_id, private, _ = keygen(tmp_path / "elsewhere")
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", str(private))
    log = open_log()
    assert log.get(log.append(make_assessment(1))).key_id == key_id


def test_bad_key_file_is_an_input_error(home: Path, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", str(bad))
    log = open_log()
    with pytest.raises(InputError) as info:
        log.append(make_assessment(1))
    assert info.value.path == "MLADVISOR_AUDIT_KEY"
    assert log.count() == 0


# Strings full of what the fast path must not mistake for numbers: quotes, backslashes, digits.
tricky_text = st.text(alphabet=st.sampled_from(list('ab"\\.0123456789e-+,:[]{} ')),
                      max_size=12) | st.text(max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False) | tricky_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=30)


@settings(max_examples=1500, deadline=None)
@given(json_values)
def test_fast_canonical_json_equals_rfc8785(value: object) -> None:
    _agrees_with_rfc8785(value)


def _agrees_with_rfc8785(value: object) -> None:
    """The same bytes as the reference, or a ValueError where the reference has no form."""
    try:
        expected = rfc8785.dumps(value)
    except Exception:
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [1.0, 1e-5, 1e-7, 2.0**60, 1e21, 123.456, -0.0, 5e-324,
                                   {"\U0001f600": 1, "\uffff": 2}, "a\u2028\x7f\x01\"\\",
                                   [0.1, 100.0, 1e16],
                                   # exponents ECMAScript writes out or writes otherwise
                                   2.88314e-06, 1e-06, -2.5e-05, 1.5e-07, 9007199254740993.0,
                                   [3.5, 0.5, -0.0, 20000.0], {"k": "a 2.0, b 1e-05", "v": 2.0},
                                   ["x\\\"y", 1.0, "\\", 2.0], "2.0", 7.0,
                                   # where repr starts or stops writing an exponent
                                   [9.999999999999999e-05, 0.0001, 0.00011, 1e15],
                                   [9999999999999998.0, 1e16, 999999999999999.9, -1e-4],
                                   {"a": "1.0,", "b": [0.5e-3, 2e-3]}])
def test_canonical_edge_cases(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_canonical_strings_escape_every_code_point_as_rfc8785() -> None:
    """A string alone takes a shortcut (a record's small members): every character of the
    BMP outside the surrogates, and some beyond it, come out as the reference writes them."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    chars += ["\U0001f600", "\U0010ffff"]
    for start in range(0, len(chars), 4096):
        text = "a" + "|".join(chars[start:start + 4096]) + '"\\'
        assert canonical_json(text) == rfc8785.dumps(text)
    with pytest.raises(ValueError):
        canonical_json("lone \ud800 surrogate")


@pytest.mark.parametrize("value", [
    float("nan"), [1, float("inf")], {"a": {"b": -float("inf")}},  # orjson would write null
    datetime(2026, 1, 1, tzinfo=UTC), uuid.UUID(int=1), {"k": {1, 2}},  # orjson would write them
    "\ud800", 2**70, [[[[0]]]] * 2])
def test_canonical_refuses_what_rfc8785_refuses(value: object) -> None:
    """The orjson path is taken only where its bytes are RFC 8785's: values it would write
    differently from the reference (or at all, where the reference has no form) go the old way
    and keep its answer."""
    _agrees_with_rfc8785(value)


def test_canonical_of_deep_nesting_matches_json_path() -> None:
    """Deeper than orjson goes (255 levels) but within what `json` writes: same bytes."""
    value: object = 1.0
    for _ in range(300):
        value = [value]
    assert canonical_json(value) == b"[" * 300 + b"1" + b"]" * 300


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(1 - 2**53, 2**53 - 1)
                | st.floats(min_value=-1e-3, max_value=1e-3) | st.sampled_from(
                    [0.0, -0.0, 1e16, 1e20, 1e21, 1e-6, 1e-7]), max_size=8), tricky_text)
def test_canonical_numbers_beside_text_equal_rfc8785(numbers: list[float], text: str) -> None:
    """Numbers in every form repr writes, beside text that looks like numbers."""
    value = {"n": numbers, "t": [text, *numbers], text: numbers[:1]}
    assert canonical_json(value) == rfc8785.dumps(value)


def test_join_object_equals_whole_canonicalisation() -> None:
    doc = {"b": [1.0, "x"], "a": {"z": None}, "time": "2026-01-01T00:00:00Z"}
    assert join_object({k: canonical_json(v) for k, v in doc.items()}) == canonical_json(doc)
    assert json.loads(join_object({"k": b"1"})) == {"k": 1}


def test_key_rotation_keeps_old_records_verifiable(home: Path, backend: str) -> None:
    first, _, _ = keygen(home)
    log = open_log()
    log.append(make_assessment(1))
    second, _, _ = keygen(home, force=True)
    assert second != first
    log = open_log()  # a new process would load the new key
    rid = log.append(make_assessment(2))
    assert log.get(rid).key_id == second
    summary = log.verify()
    assert summary["signed"] == 2 and summary["keys"] == "trusted"
    (home / "keys" / f"{first}.pub").unlink()  # forgetting the old public key is noticed
    with pytest.raises(AuditError, match=f"signed by key {first}"):
        open_log().verify()


def test_a_record_is_typed_and_keeps_its_hashed_body(home: Path, backend: str) -> None:
    log = open_log()
    rid = log.append(make_assessment(1))
    event = log.append_report(rid, "html", "e" * 64)
    record, report = log.get(rid), log.get(event)
    # the body as stored: its canonical bytes are still the ones the entry hash covers
    assert hashlib.sha256(record.prev_hash.encode() + canonical_json(dict(record.body))
                          ).hexdigest() == record.entry_hash
    assert AuditRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()
    assert set(record.to_dict()) - set(record.body) == {"seq", "prev_hash", "entry_hash",
                                                        "signature", "key_id"}
    assert record.rulebase == RulebaseRef("standin-1", StandInRuleBase().sha256,
                                          record.body["rulebase"]["files_sha256"])
    assert report.decision is None and report.rulebase is None and report.of == rid
    assert "decision" not in report.to_dict()  # absent members stay absent
    summary = log.list(kind=None)[1]
    assert summary == report.summary() and summary.to_dict()["format"] == "html"


def test_an_edited_body_reads_as_missing_members_not_a_crash(home: Path) -> None:
    body = {"record_id": "r", "kind": "assessment", "time": "t", "decision": "x",
            "rulebase": {"version": 3, "sha256": "s", "files_sha256": "f"}, "input": []}
    record = AuditRecord.from_row(1, "r", "assessment", "t", GENESIS, "h", None, None, body)
    assert record.decision is None and record.input is None and record.rulebase is None
    assert record.summary().verdict is None
    assert record.to_dict()["decision"] == "x"  # shown and exported as stored


def test_the_audit_package_does_not_import_the_rule_engine() -> None:
    import subprocess
    import sys

    code = ("import sys, engine.audit.store, engine.audit.verify, engine.audit.export;"
            "print(sorted(m for m in sys.modules if m.startswith('engine.rulebase')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_pages_search_and_reads_are_the_same_on_either_store(home: Path, backend: str) -> None:
    log = open_log()
    ids = [log.append(make_assessment(n)) for n in range(12)]
    report = log.append_report(ids[3], "html", "ab" * 32)
    first = log.page(limit=5)
    assert [r.record_id for r in first] == ids[::-1][:5]
    older = log.page(limit=5, before=first[-1].seq)
    assert [r.record_id for r in older] == ids[::-1][5:10]
    assert log.page(limit=5, after=older[0].seq) == first
    assert [r.record_id for r in log.page(limit=20, search="project 11")] == [ids[11]]
    assert {r.record_id for r in log.page(limit=20, search="Project 1")} == {
        ids[1], ids[10], ids[11]}
    assert len(log.page(limit=3, search="hosted custom comprehend")) == 3
    assert log.page(limit=20, search="no such project") == []
    assert [r.record_id for r in log.reports_for(ids[3])] == [report]
    assert [r.record_id for r in log.iter_records(kind="assessment")] == ids
    assert [r.kind for r in log.list(kind=None)][-1] == "report"
    stored = log.rulebase_files(log.get(ids[0]).rulebase.files_sha256)
    assert stored == StandInRuleBase().files
    assert log.meta()["schema"] == "mladvisor.audit/1" and log.head() == (13, log.get(
        report).entry_hash)


@pytest.mark.parametrize("head", [
    {"schema": "mladvisor.audit-checkpoint/1", "log_id": "a-b", "count": 12, "head_hash": "f" * 64,
     "time": "2026-12-02T19:00:00.000001Z", "key_id": "k", "signature": "AB+/=="},
    {"schema": "mladvisor.audit-checkpoint/1", "log_id": "journal \u00e9t\u00e9", "count": 0}])
def test_checkpoints_are_written_as_json_writes_them(head: dict[str, object]) -> None:
    """The head file is dumped by orjson for speed; a checkpoint file's bytes stay those of
    `json` (sorted, indented by two, final newline), non-ASCII content included."""
    from engine.audit.checkpoint import dump_checkpoint

    expected = (json.dumps(head, indent=2, sort_keys=True) + "\n").encode("utf-8")
    assert dump_checkpoint(head) == expected
