"""Verification: recompute every hash, link and signature, and say which record is bad first.

Each check names what an auditor needs to look at: the record number and id, and what is wrong
(content edited, a record removed/inserted/reordered, the tail cut off, the file corrupt, a
signature that does not match, a stored rule base file altered, a trigger dropped).
"""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.audit.canonical import canonical_json, sha256_hex
from engine.audit.checkpoint import load_checkpoint, signed_bytes, validate_checkpoint
from engine.audit.signing import SignatureChecker, key_id_of
from engine.errors import AuditError, MladvisorError
from engine.util.load import loads_stored

if TYPE_CHECKING:
    from engine.audit.store import AuditLog


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)


def _label(seq: int, record_id: str | None) -> str:
    return f"record {seq} ({record_id})" if record_id else f"record {seq}"


def verify_log(log: AuditLog, checkpoints: list[Any] | None = None,
               trusted: dict[str, str] | None = None,
               require_signatures: bool = False, allow_unsigned: bool = False,
               head_path: Path | None = None) -> dict[str, Any]:
    """Check the whole log; returns a summary or raises AuditError naming the first problem.

    `checkpoints` are dicts or paths of saved checkpoints; `trusted` maps key id to a base64 raw
    Ed25519 public key kept outside the database (when empty, the keys the log stores are used,
    which proves integrity against accidents but not against whoever rewrote the whole file).
    """
    from engine.audit.store import GENESIS, RECORD_SCHEMA, TRIGGERS, MissingLogError, ro_uri

    problems = Problems()
    warnings: list[str] = []
    path = log.path
    if not path.is_file():  # never let sqlite create an empty log and call it verified
        raise MissingLogError(path, "verification failed: no audit log here (deleted, or"
                              " MLADVISOR_HOME points elsewhere)")
    try:
        conn = sqlite3.connect(ro_uri(path), uri=True, timeout=120, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise AuditError(f"{path}: cannot open the audit log: {error}") from None
    summary: dict[str, Any] = {"log": str(path)}
    head = None
    if head_path is not None and head_path.exists():
        # read before the snapshot: the head is written after its commit, so it never names a
        # record the snapshot cannot see
        try:
            head = load_checkpoint(head_path)
        except MladvisorError as error:
            problems.add(f"the head file {head_path.name} is unreadable ({error})")
    try:
        conn.execute("PRAGMA busy_timeout=120000")
        conn.execute("BEGIN")  # one snapshot, while others may keep appending
        try:
            result = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{path}: the database file is corrupt ({error})") from None
        if result != ["ok"]:
            detail = "; ".join(" ".join(str(r).split()) for r in result[:3])
            problems.add(f"the database file is corrupt: {detail}")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        summary["log_id"] = meta.get("log_id")
        db_keys = {}
        for key_id, public in conn.execute("SELECT key_id, public_key FROM keys"):
            try:
                actual = key_id_of(base64.b64decode(public, validate=True))
            except ValueError:
                actual = None
            if actual != key_id:
                problems.add(f"the stored public key {key_id} was altered")
            db_keys[key_id] = public
        keys = trusted if trusted else db_keys
        summary["keys"] = "trusted" if trusted else "stored in the log"
        checker = SignatureChecker()
        _walk(conn, problems, warnings, summary, keys, checker, require_signatures,
              allow_unsigned, GENESIS, RECORD_SCHEMA)
        _check_rulebases(conn, problems, summary.pop("_files_refs"))
        for checkpoint in checkpoints or []:
            _check_checkpoint(conn, checkpoint, summary, keys, checker, problems)
        if head is not None:
            _check_checkpoint(conn, head, summary, keys, checker, problems)
        if head_path is not None:
            _check_head_signed(conn, head_path, head, summary, problems)
        # last: a dropped trigger is how the damage above was done, not the damage itself
        present = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'")}
        for name in TRIGGERS:
            if name not in present:
                problems.add(f"the append-only trigger {name} was removed")
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        problems.add(f"the database file is corrupt or unreadable ({error})")
    finally:
        conn.close()
    summary["warnings"] = warnings
    if problems.items:
        more = len(problems.items) - 1
        tail = f" [{more} more problem{'s' if more > 1 else ''}]" if more else ""
        first = " ".join(problems.items[0].split())  # one line on stderr
        failure = AuditError(f"{path}: verification failed: {first}{tail}")
        failure.problems = list(problems.items)  # type: ignore[attr-defined]
        raise failure
    summary["ok"] = True
    return summary


def _walk(conn: sqlite3.Connection, problems: Problems, warnings: list[str],
          summary: dict[str, Any], keys: dict[str, str], checker: SignatureChecker,
          require_signatures: bool, allow_unsigned: bool, genesis: str,
          record_schema: str) -> None:
    expected_seq = 1
    prev_hash = genesis
    prev_seq = 0
    hash_to_seq = {str(h): int(s) for s, h in conn.execute(
        "SELECT seq, entry_hash FROM records")}
    assessments: set[str] = set()
    record_ids: set[str] = set()
    files_refs: dict[str, tuple[int, str]] = {}
    signed = unsigned = 0
    signing_started = False
    cursor = conn.execute("SELECT seq, record_id, kind, time, body, prev_hash, entry_hash,"
                          " signature, key_id FROM records ORDER BY seq")
    for seq, record_id, kind, time, body, link, entry_hash, signature, key_id in cursor:
        label = _label(seq, record_id)
        if seq != expected_seq:
            if seq > expected_seq:
                gone = (f"record {expected_seq}" if seq == expected_seq + 1
                        else f"records {expected_seq}-{seq - 1}")
                problems.add(f"{gone} missing before {label}: deleted")
            else:
                problems.add(f"{label}: out of sequence")
        if link != prev_hash:
            pointed = hash_to_seq.get(str(link))
            if pointed is not None and pointed > seq:
                problems.add(f"{label}: prev_hash links to record {pointed}, a later record:"
                             " records reordered")
            else:
                problems.add(f"{label}: prev_hash does not link to record {prev_seq}: a record"
                             " was removed, inserted or reordered before it")
        data_bytes = body if isinstance(body, bytes) else str(body).encode("utf-8")
        hash_ok = isinstance(entry_hash, str) and sha256_hex(
            str(link).encode("ascii", "replace") + data_bytes) == entry_hash
        if not hash_ok:
            problems.add(f"{label}: entry_hash does not match its content: the record was"
                         " edited")
        data = _header(data_bytes) if hash_ok and kind == "assessment" else None
        if data is None:
            try:
                data = loads_stored(data_bytes)
            except (ValueError, UnicodeDecodeError):
                data = None
        if not isinstance(data, dict):
            problems.add(f"{label}: its content is not a JSON record: corrupt or edited")
        else:
            if data.get("schema") != record_schema:
                problems.add(f"{label}: unknown record schema {data.get('schema')!r}")
            for column, value in (("record_id", record_id), ("kind", kind), ("time", time)):
                if data.get(column) != value:
                    problems.add(f"{label}: its {column} column ({value!r}) differs from the"
                                 f" hashed record ({data.get(column)!r}): edited")
            if kind == "assessment":
                if "decision" in data and (data.get("decision") or {}).get(
                        "assessment_id") != record_id:
                    problems.add(f"{label}: the decision's assessment_id differs from the"
                                 " record id")
                files = (data.get("rulebase") or {}).get("files_sha256")
                if files:
                    files_refs.setdefault(files, (seq, record_id))
                assessments.add(record_id)
            elif kind == "report":
                if data.get("of") not in assessments:
                    problems.add(f"{label}: report event of {data.get('of')}, which is not an"
                                 " earlier assessment")
            else:
                problems.add(f"{label}: unknown kind {kind!r}")
        if record_id in record_ids:
            problems.add(f"{label}: duplicate record id")
        record_ids.add(record_id)
        if signature or key_id:
            signing_started = True
            signed += 1
            public = keys.get(key_id or "")
            if not signature or not key_id:
                problems.add(f"{label}: signature or key id missing")
            elif public is None:
                problems.add(f"{label}: signed by key {key_id}, which is not a"
                             f" {summary['keys']} key")
            elif not checker.check(public, signature, str(entry_hash).encode("ascii",
                                                                            "replace")):
                problems.add(f"{label}: the signature does not match (edited and re-hashed?)")
        else:
            unsigned += 1
            if require_signatures:
                problems.add(f"{label}: not signed")
            elif signing_started:
                message = (f"{label}: not signed, though earlier records are (signing was"
                           " turned off, or the record was added by other means)")
                if not allow_unsigned:
                    problems.add(message)
                elif len(warnings) < 5:
                    warnings.append(message)
        prev_hash = entry_hash
        prev_seq = seq
        expected_seq = seq + 1
    last = prev_seq
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='records'").fetchone()
    issued = int(row[0]) if row else 0
    if issued > last:
        gone = f"record {issued}" if issued == last + 1 else f"records {last + 1}-{issued}"
        problems.add(f"{gone} after record {last} missing: the tail was truncated")
    summary.update(records=last, head_hash=prev_hash, signed=signed, unsigned=unsigned,
                   _files_refs=files_refs)


_TAIL = b',"input_sha256":'


def _header(body: bytes) -> dict[str, Any] | None:
    """The small top-level members of an assessment record without parsing its decision.

    Canonical JSON sorts keys, so after the big `decision` and `input` members come
    input_sha256, kind, record_id, reports, respondent, rulebase, schema and time; the last
    `,"input_sha256":` is where they start (no string can hold an unescaped quote, and the
    members after it hold no such key). Only used on a body whose hash already matched: a body
    that was not written by `append` is parsed whole.
    """
    at = body.rfind(_TAIL)
    if at < 0:
        return None
    try:
        data = loads_stored(b"{" + body[at + 1:])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not {"kind", "record_id", "time", "schema"} <= set(data):
        return None
    return data


def _check_rulebases(conn: sqlite3.Connection, problems: Problems,
                     refs: dict[str, tuple[int, str]]) -> None:
    """Stored rule bases: each problem is named by the first record that used the files."""
    bad_blobs: set[str] = set()
    present: set[str] = set()
    for digest, content in conn.execute("SELECT sha256, content FROM blobs"):
        present.add(digest)
        if not isinstance(content, bytes) or sha256_hex(content) != digest:
            bad_blobs.add(digest)
    trouble: dict[str, str] = {}  # files sha256 -> what is wrong
    used_blobs: set[str] = set()
    for files_sha, manifest in conn.execute("SELECT files_sha256, manifest FROM rulebases"):
        data = manifest if isinstance(manifest, bytes) else str(manifest).encode()
        if sha256_hex(data) != files_sha:
            trouble[files_sha] = "its rule base manifest was altered"
            continue
        try:
            parsed = loads_stored(data)
        except ValueError:
            trouble[files_sha] = "its rule base manifest is not JSON"
            continue
        wrong = []
        for rel, digest in sorted(parsed.items()):
            used_blobs.add(digest)
            if digest in bad_blobs:
                wrong.append(f"{rel} was altered")
            elif digest not in present:
                wrong.append(f"{rel} is missing")
        if wrong:
            trouble[files_sha] = "stored rule base file " + ", ".join(wrong)
    manifests = {row[0] for row in conn.execute("SELECT files_sha256 FROM rulebases")}
    for files_sha, (seq, record_id) in sorted(refs.items(), key=lambda item: item[1][0]):
        if files_sha not in manifests:
            problems.add(f"{_label(seq, record_id)}: its rule base files ({files_sha[:12]})"
                         " are missing")
        elif files_sha in trouble:
            problems.add(f"{_label(seq, record_id)} and later records of rule base"
                         f" {files_sha[:12]}: {trouble[files_sha]}")
    for digest in sorted(bad_blobs - used_blobs):
        problems.add(f"stored file {digest[:12]} was altered")


def _check_head_signed(conn: sqlite3.Connection, head_path: Path, head: dict[str, Any] | None,
                       summary: dict[str, Any], problems: Problems) -> None:
    """A signed log has a signed head file: without this, whoever cuts records off the end
    deletes the head file, or writes an unsigned one for the shorter log, and passes."""
    if not summary.get("signed"):
        return
    if head is None:
        if not head_path.exists():
            problems.add(f"the head file {head_path} is missing, though the log is signed"
                         " (deleted? records may have been cut off the end)")
        return
    if head.get("signature"):
        return
    count = head.get("count")
    row = conn.execute("SELECT signature FROM records WHERE seq=?", (count,)).fetchone()
    if row is not None and row[0]:
        problems.add(f"the head file {head_path} is not signed, though record {count} it"
                     " names is (replaced? records may have been cut off the end)")


def _check_checkpoint(conn: sqlite3.Connection, checkpoint: Any, summary: dict[str, Any],
                      keys: dict[str, str], checker: SignatureChecker,
                      problems: Problems) -> None:
    """Check one checkpoint; a malformed one is a verification problem (exit 3), not a
    usage error: it is part of what is being verified."""
    try:
        if isinstance(checkpoint, (str, Path)):
            checkpoint = load_checkpoint(Path(checkpoint))
        source = checkpoint.get("_source", "checkpoint")
        validate_checkpoint({k: v for k, v in checkpoint.items() if not k.startswith("_")},
                            source)
    except MladvisorError as error:
        problems.add(f"checkpoint unusable: {error}")
        return
    count, head = checkpoint["count"], checkpoint["head_hash"]
    where = f"checkpoint {source} (count {count}, {checkpoint.get('time')})"
    if checkpoint.get("signature"):
        public = keys.get(str(checkpoint.get("key_id")))
        if public is None:
            problems.add(f"{where}: signed by unknown key {checkpoint.get('key_id')}")
            return
        if not checker.check(public, checkpoint["signature"], signed_bytes(checkpoint)):
            problems.add(f"{where}: its signature does not match")
            return
    if checkpoint.get("log_id") and summary.get("log_id") != checkpoint.get("log_id"):
        problems.add(f"{where}: names log {checkpoint.get('log_id')}, this is log"
                     f" {summary.get('log_id')}: the log was replaced")
        return
    records = summary.get("records", 0)
    if count > records:
        problems.add(f"{where}: the log has {records} records, the checkpoint vouches for"
                     f" {count}: the tail was truncated")
        return
    if count == 0:
        return
    row = conn.execute("SELECT entry_hash, record_id FROM records WHERE seq=?",
                       (count,)).fetchone()
    if row is None or row[0] != head:
        name = _label(count, row[1] if row else None)
        problems.add(f"{where}: {name} is not the record the checkpoint names: history"
                     " rewritten")
    summary.setdefault("checkpoints", []).append(count)


def verify_export(path: Path, trusted: dict[str, str] | None = None) -> dict[str, Any]:
    """Check a JSON Lines export on its own, without the database: every entry hash, every link
    between consecutive records, and every signature whose key is trusted.

    An export filtered by kind or time has gaps; each record still verifies, and the gaps are
    counted. A masked export cannot verify (its records were changed on purpose).
    """
    from engine.audit.store import GENESIS
    from engine.errors import InputError
    from engine.util.load import parse_json, read_lines

    problems = Problems()
    checker = SignatureChecker()
    trusted = trusted or {}
    count = gaps = signed = checked = 0
    prev_seq, prev_hash = 0, GENESIS
    for number, text in read_lines(path, "a JSON Lines export"):
        if not text.strip():
            continue
        try:
            line = parse_json(text, str(path))
            seq, record = int(line["seq"]), line["record"]
            link, entry = str(line["prev_hash"]), str(line["entry_hash"])
        except (InputError, ValueError, KeyError, TypeError):
            raise InputError(str(path), f"line {number}", "an export line of"
                             " `mladvisor audit export`") from None
        if line.get("masked"):
            raise InputError(str(path), f"line {number}", "an unmasked export (a masked"
                             " one cannot be verified)", "masked")
        label = _label(seq, record.get("record_id") if isinstance(record, dict) else None)
        count += 1
        if seq == prev_seq + 1:
            if link != prev_hash:
                problems.add(f"{label}: prev_hash does not link to record {prev_seq}")
        elif seq <= prev_seq:
            problems.add(f"{label}: out of order after record {prev_seq}")
        else:
            gaps += 1
        if sha256_hex(link.encode("ascii", "replace") + canonical_json(record)) != entry:
            problems.add(f"{label}: entry_hash does not match its content: edited")
        if line.get("signature"):
            signed += 1
            public = trusted.get(str(line.get("key_id")))
            if public is not None:
                checked += 1
                if not checker.check(public, line["signature"], entry.encode("ascii",
                                                                             "replace")):
                    problems.add(f"{label}: the signature does not match")
        prev_seq, prev_hash = seq, entry
    if problems.items:
        more = len(problems.items) - 1
        tail = f" [{more} more problem{'s' if more > 1 else ''}]" if more else ""
        failure = AuditError(f"{path}: verification failed: {problems.items[0]}{tail}")
        failure.problems = list(problems.items)  # type: ignore[attr-defined]
        raise failure
    return {"ok": True, "export": str(path), "records": count, "gaps": gaps,
            "head_hash": prev_hash, "signed": signed, "signatures_checked": checked}
