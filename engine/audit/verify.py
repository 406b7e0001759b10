"""Verification: recompute every hash, link and signature, and say which record is bad first.

Each check names what an auditor needs to look at: the record number and id, and what is wrong
(content edited, a record removed/inserted/reordered, the tail cut off, the file corrupt, a
signature that does not match, a stored rule base file altered, a trigger dropped).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.audit import readback
from engine.audit.canonical import canonical_json
from engine.audit.checkpoint import load_checkpoint, signed_bytes, validate_checkpoint
from engine.audit.headfile import read_stable
from engine.audit.signing import SignatureChecker, key_id_of
from engine.audit.storage import GENESIS, Snapshot
from engine.audit.store import RECORD_SCHEMA, AuditLog
from engine.errors import AuditError, MladvisorError
from engine.model.vocab import REVIEW_ACTIONS
from engine.util.canonical import sha256_hex
from engine.util.load import loads_stored


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
    path = log.path
    # read before the snapshot: the head is written after its commit, so it never names a
    # record the snapshot cannot see
    head = read_head(head_path)
    with log._db.snapshot() as snapshot:  # MissingLogError: never verify an empty stand-in
        verifier = ChainVerifier(snapshot, path, trusted or {},
                                 require_signatures=require_signatures,
                                 allow_unsigned=allow_unsigned)
        if isinstance(head, str):
            verifier.problems.add(head)
            head = None
        try:
            verifier.run(checkpoints or [], head_path, head)
        except snapshot.Error as error:
            verifier.problems.add(f"the {snapshot.what} is corrupt or unreadable"
                                  f" ({' '.join(str(error).split())})")
    verifier.summary["warnings"] = verifier.warnings
    _raise_problems(path, verifier.problems, one_line=True)
    verifier.summary["ok"] = True
    return verifier.summary


def read_head(head_path: Path | None) -> dict[str, Any] | str | None:
    """The head file's checkpoint, None when there is none, or what is wrong with it."""
    if head_path is None or not head_path.exists():
        return None
    try:  # an append may be overwriting it in place right now
        return read_stable(head_path, load_checkpoint, (MladvisorError,))
    except MladvisorError as error:
        return f"the head file {head_path.name} is unreadable ({error})"


def _raise_problems(path: Path | str, problems: Problems, one_line: bool = False) -> None:
    """An AuditError naming the first problem (and how many more) and carrying them all."""
    if not problems.items:
        return
    more = len(problems.items) - 1
    tail = f" [{more} more problem{'s' if more > 1 else ''}]" if more else ""
    first = problems.items[0]
    if one_line:
        first = " ".join(first.split())  # one line on stderr
    failure = AuditError(f"{path}: verification failed: {first}{tail}")
    failure.problems = list(problems.items)  # type: ignore[attr-defined]
    raise failure


@dataclass
class _Row:
    """One row of the records table as read, before anything is trusted."""

    seq: int
    record_id: str
    kind: str
    time: str
    body: Any
    link: Any
    entry_hash: Any
    signature: str | None
    key_id: str | None
    codec: Any = None

    @property
    def label(self) -> str:
        return _label(self.seq, self.record_id)


class ChainVerifier:
    """The checks of one log, over one snapshot of it (`conn` is inside its transaction).

    Problems are collected in the order an auditor should read them: the file, the stored
    keys, each record in sequence (sequence number, link, hash, content, signature), the tail,
    the stored rule bases, the checkpoints and head file, and last the triggers.
    """

    def __init__(self, conn: Snapshot, path: Path | str, trusted: dict[str, str], *,
                 require_signatures: bool = False, allow_unsigned: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.trusted = trusted
        self.keys: dict[str, str] = trusted
        self.require_signatures = require_signatures
        self.allow_unsigned = allow_unsigned
        self.problems = Problems()
        self.warnings: list[str] = []
        self.summary: dict[str, Any] = {"log": str(path)}
        self.checker = SignatureChecker()
        # the walk's state
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.prev_seq = 0
        self.hash_to_seq: dict[str, int] = {}
        self.assessments: set[str] = set()
        self.record_ids: set[str] = set()
        self.files_refs: dict[str, tuple[int, str]] = {}  # files sha256 -> first user
        self.signed = self.unsigned = 0
        self.signing_started = False
        self.dictionaries: dict[str, bytes | None] = {}

    def run(self, checkpoints: list[Any], head_path: Path | None,
            head: dict[str, Any] | None) -> None:
        self.check_database()
        self.summary["log_id"] = dict(self.conn.execute(
            "SELECT key, value FROM meta").fetchall()).get("log_id")
        self.check_stored_keys()
        self.walk()
        self.check_rulebases()
        for checkpoint in checkpoints:
            self.check_checkpoint(checkpoint)
        if head is not None:
            self.check_checkpoint(head)
        if head_path is not None:
            self.check_head_signed(head_path, head)
        # last: a dropped trigger is how the damage above was done, not the damage itself
        self.check_triggers()

    # -- the file and its keys -------------------------------------------------------------
    def check_database(self) -> None:
        for problem in self.conn.integrity_problems():
            self.problems.add(problem)

    def check_stored_keys(self) -> None:
        """Each stored public key must match its id; without trusted keys, they are used."""
        db_keys = {}
        for key_id, public in self.conn.execute("SELECT key_id, public_key FROM keys"):
            try:
                actual = key_id_of(base64.b64decode(public, validate=True))
            except ValueError:
                actual = None
            if actual != key_id:
                self.problems.add(f"the stored public key {key_id} was altered")
            db_keys[key_id] = public
        self.keys = self.trusted if self.trusted else db_keys
        self.summary["keys"] = "trusted" if self.trusted else "stored in the log"

    def check_triggers(self) -> None:
        for problem in self.conn.missing_triggers():
            self.problems.add(problem)

    # -- the records, in sequence ----------------------------------------------------------
    def walk(self) -> None:
        self.hash_to_seq = {str(h): int(s) for s, h in self.conn.execute(
            "SELECT seq, entry_hash FROM records")}
        cursor = self.conn.stream(f"SELECT {self.conn.record_columns} FROM records"
                                  " ORDER BY seq")
        for values, decoded in readback.decoded(cursor, body=4, codec=9, link=5,
                                                dictionary=self.dictionary):
            self.check_record(_Row(*values), decoded)
        self.check_tail()
        self.summary.update(records=self.prev_seq, head_hash=self.prev_hash,
                            signed=self.signed, unsigned=self.unsigned)

    def check_record(self, row: _Row, decoded: readback.Decoded) -> None:
        self.check_sequence(row)
        self.check_link(row)
        body = decoded.body
        if body is None:
            self.problems.add(f"{row.label}: its stored body cannot be read back"
                              f" ({decoded.error}): corrupt or edited")
        else:
            hash_ok = self.check_hash(row, decoded.digest)
            data = self.parse(row, body, hash_ok)
            if not isinstance(data, dict):
                self.problems.add(f"{row.label}: its content is not a JSON record: corrupt or"
                                  " edited")
            else:
                self.check_content(row, data)
        if row.record_id in self.record_ids:
            self.problems.add(f"{row.label}: duplicate record id")
        self.record_ids.add(row.record_id)
        self.check_signature(row)
        self.prev_hash = row.entry_hash
        self.prev_seq = row.seq
        self.expected_seq = row.seq + 1

    def dictionary(self, sha256: str) -> bytes | None:
        """A compression dictionary from this snapshot's blobs (an altered one does not
        decode: zlib checks its Adler-32, zstd its dictionary id, the hash what either gives
        back; check_rulebases names the blob too)."""
        if sha256 not in self.dictionaries:
            row = self.conn.execute("SELECT content FROM blobs WHERE sha256=?",
                                    (sha256,)).fetchone()
            self.dictionaries[sha256] = row[0] if row and isinstance(row[0], bytes) else None
        return self.dictionaries[sha256]

    def check_sequence(self, row: _Row) -> None:
        seq, expected = row.seq, self.expected_seq
        if seq > expected:
            gone = f"record {expected}" if seq == expected + 1 else f"records {expected}-{seq - 1}"
            self.problems.add(f"{gone} missing before {row.label}: deleted")
        elif seq < expected:
            self.problems.add(f"{row.label}: out of sequence")

    def check_link(self, row: _Row) -> None:
        if row.link == self.prev_hash:
            return
        pointed = self.hash_to_seq.get(str(row.link))
        if pointed is not None and pointed > row.seq:
            self.problems.add(f"{row.label}: prev_hash links to record {pointed}, a later"
                              " record: records reordered")
        else:
            self.problems.add(f"{row.label}: prev_hash does not link to record {self.prev_seq}:"
                              " a record was removed, inserted or reordered before it")

    def check_hash(self, row: _Row, digest: str | None) -> bool:
        """`digest` is sha256(prev_hash ‖ canonical bytes), computed by readback."""
        ok = isinstance(row.entry_hash, str) and digest == row.entry_hash
        if not ok:
            self.problems.add(f"{row.label}: entry_hash does not match its content: the record"
                              " was edited")
        return ok

    @staticmethod
    def parse(row: _Row, body: bytes, hash_ok: bool) -> Any:
        """The record's top-level members; an assessment whose hash matched is read without
        parsing its (large) decision and input."""
        data = _header(body) if hash_ok and row.kind == "assessment" else None
        if data is not None:
            return data
        try:
            return loads_stored(body)
        except (ValueError, UnicodeDecodeError):
            return None

    def check_content(self, row: _Row, data: dict[str, Any]) -> None:
        if data.get("schema") != RECORD_SCHEMA:
            self.problems.add(f"{row.label}: unknown record schema {data.get('schema')!r}")
        for column, value in (("record_id", row.record_id), ("kind", row.kind),
                              ("time", row.time)):
            if data.get(column) != value:
                self.problems.add(f"{row.label}: its {column} column ({value!r}) differs from"
                                  f" the hashed record ({data.get(column)!r}): edited")
        if row.kind == "assessment":
            self.check_assessment(row, data)
        elif row.kind == "report":
            if data.get("of") not in self.assessments:
                self.problems.add(f"{row.label}: report event of {data.get('of')}, which is not"
                                  " an earlier assessment")
        elif row.kind == "review":
            self.check_review(row, data)
        else:
            self.problems.add(f"{row.label}: unknown kind {row.kind!r}")

    def check_assessment(self, row: _Row, data: dict[str, Any]) -> None:
        if "decision" in data and (data.get("decision") or {}).get(
                "assessment_id") != row.record_id:
            self.problems.add(f"{row.label}: the decision's assessment_id differs from the"
                              " record id")
        files = (data.get("rulebase") or {}).get("files_sha256")
        if files:
            self.files_refs.setdefault(files, (row.seq, row.record_id))
        self.assessments.add(row.record_id)

    def check_review(self, row: _Row, data: dict[str, Any]) -> None:
        """A review names an earlier assessment and says who did what (engine.audit.review)."""
        if data.get("of") not in self.assessments:
            self.problems.add(f"{row.label}: review of {data.get('of')}, which is not an"
                              " earlier assessment")
        review = data.get("review")
        if not isinstance(review, dict):
            self.problems.add(f"{row.label}: a review event without its review")
            return
        if review.get("action") not in REVIEW_ACTIONS:
            self.problems.add(f"{row.label}: unknown review action {review.get('action')!r}")
        for member in ("user", "role", "comment"):
            if not isinstance(review.get(member), str) or not review[member]:
                self.problems.add(f"{row.label}: the review's {member} is missing")
        override = review.get("override")
        if override is not None and (review.get("action") != "approve" or not isinstance(
                override, dict) or not override.get("justification")):
            self.problems.add(f"{row.label}: an override without an approval and its"
                              " justification")

    def check_signature(self, row: _Row) -> None:
        if not (row.signature or row.key_id):
            self.check_unsigned(row)
            return
        self.signing_started = True
        self.signed += 1
        public = self.keys.get(row.key_id or "")
        if not row.signature or not row.key_id:
            self.problems.add(f"{row.label}: signature or key id missing")
        elif public is None:
            self.problems.add(f"{row.label}: signed by key {row.key_id}, which is not a"
                              f" {self.summary['keys']} key")
        elif not self.checker.check(public, row.signature,
                                    str(row.entry_hash).encode("ascii", "replace")):
            self.problems.add(f"{row.label}: the signature does not match (edited and"
                              " re-hashed?)")

    def check_unsigned(self, row: _Row) -> None:
        self.unsigned += 1
        if self.require_signatures:
            self.problems.add(f"{row.label}: not signed")
        elif self.signing_started:
            message = (f"{row.label}: not signed, though earlier records are (signing was"
                       " turned off, or the record was added by other means)")
            if not self.allow_unsigned:
                self.problems.add(message)
            elif len(self.warnings) < 5:
                self.warnings.append(message)

    def check_tail(self) -> None:
        """The database remembers the highest number ever issued (AUTOINCREMENT, chain_head):
        records cut off the end leave it above the last one."""
        last = self.prev_seq
        issued = self.conn.issued_seq()
        if issued > last:
            gone = f"record {issued}" if issued == last + 1 else f"records {last + 1}-{issued}"
            self.problems.add(f"{gone} after record {last} missing: the tail was truncated")

    # -- what lives beside the records -----------------------------------------------------
    def check_rulebases(self) -> None:
        """Stored rule bases: each problem is named by the first record that used the files."""
        present, bad_blobs = self._blobs()
        trouble, used_blobs = self._manifest_trouble(present, bad_blobs)
        manifests = {row[0] for row in self.conn.execute("SELECT files_sha256 FROM rulebases")}
        for files_sha, (seq, record_id) in sorted(self.files_refs.items(),
                                                  key=lambda item: item[1][0]):
            if files_sha not in manifests:
                self.problems.add(f"{_label(seq, record_id)}: its rule base files"
                                  f" ({files_sha[:12]}) are missing")
            elif files_sha in trouble:
                self.problems.add(f"{_label(seq, record_id)} and later records of rule base"
                                  f" {files_sha[:12]}: {trouble[files_sha]}")
        for digest in sorted(bad_blobs - used_blobs):
            self.problems.add(f"stored file {digest[:12]} was altered")

    def _blobs(self) -> tuple[set[str], set[str]]:
        """(every stored file's sha256, those whose content no longer matches it)."""
        present: set[str] = set()
        bad: set[str] = set()
        for digest, content in self.conn.stream("SELECT sha256, content FROM blobs"):
            present.add(digest)
            if not isinstance(content, bytes) or sha256_hex(content) != digest:
                bad.add(digest)
        return present, bad

    def _manifest_trouble(self, present: set[str], bad_blobs: set[str]
                          ) -> tuple[dict[str, str], set[str]]:
        """({files sha256: what is wrong}, the files the manifests name)."""
        trouble: dict[str, str] = {}
        used: set[str] = set()
        for files_sha, manifest in self.conn.execute(
                "SELECT files_sha256, manifest FROM rulebases"):
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
                used.add(digest)
                if digest in bad_blobs:
                    wrong.append(f"{rel} was altered")
                elif digest not in present:
                    wrong.append(f"{rel} is missing")
            if wrong:
                trouble[files_sha] = "stored rule base file " + ", ".join(wrong)
        return trouble, used

    def check_head_signed(self, head_path: Path, head: dict[str, Any] | None) -> None:
        """A signed log has a signed head file: without this, whoever cuts records off the end
        deletes the head file, or writes an unsigned one for the shorter log, and passes."""
        if not self.summary.get("signed"):
            return
        if head is None:
            if not head_path.exists():
                self.problems.add(f"the head file {head_path} is missing, though the log is"
                                  " signed (deleted? records may have been cut off the end)")
            return
        if head.get("signature"):
            return
        count = head.get("count")
        row = self.conn.execute("SELECT signature FROM records WHERE seq=?",
                                (count,)).fetchone()
        if row is not None and row[0]:
            self.problems.add(f"the head file {head_path} is not signed, though record {count}"
                              " it names is (replaced? records may have been cut off the end)")

    def check_checkpoint(self, checkpoint: Any) -> None:
        """Check one checkpoint; a malformed one is a verification problem (exit 3), not a
        usage error: it is part of what is being verified."""
        try:
            if isinstance(checkpoint, (str, Path)):
                checkpoint = load_checkpoint(Path(checkpoint))
            source = checkpoint.get("_source", "checkpoint")
            validate_checkpoint({k: v for k, v in checkpoint.items() if not k.startswith("_")},
                                source)
        except MladvisorError as error:
            self.problems.add(f"checkpoint unusable: {error}")
            return
        where = f"checkpoint {source} (count {checkpoint['count']}, {checkpoint.get('time')})"
        problem = self._checkpoint_signature(checkpoint) or self._checkpoint_log(checkpoint)
        if problem:
            self.problems.add(f"{where}: {problem}")
            return
        self._checkpoint_head(checkpoint, where)

    def _checkpoint_signature(self, checkpoint: dict[str, Any]) -> str | None:
        if not checkpoint.get("signature"):
            return None
        public = self.keys.get(str(checkpoint.get("key_id")))
        if public is None:
            return f"signed by unknown key {checkpoint.get('key_id')}"
        if not self.checker.check(public, checkpoint["signature"], signed_bytes(checkpoint)):
            return "its signature does not match"
        return None

    def _checkpoint_log(self, checkpoint: dict[str, Any]) -> str | None:
        """Another log's checkpoint, or one vouching for more records than there are."""
        log_id = self.summary.get("log_id")
        if checkpoint.get("log_id") and log_id != checkpoint.get("log_id"):
            return (f"names log {checkpoint.get('log_id')}, this is log {log_id}: the log was"
                    " replaced")
        records = self.summary.get("records", 0)
        if checkpoint["count"] > records:
            return (f"the log has {records} records, the checkpoint vouches for"
                    f" {checkpoint['count']}: the tail was truncated")
        return None

    def _checkpoint_head(self, checkpoint: dict[str, Any], where: str) -> None:
        count = checkpoint["count"]
        if count == 0:
            return
        row = self.conn.execute("SELECT entry_hash, record_id FROM records WHERE seq=?",
                                (count,)).fetchone()
        if row is None or row[0] != checkpoint["head_hash"]:
            name = _label(count, row[1] if row else None)
            self.problems.add(f"{where}: {name} is not the record the checkpoint names:"
                              " history rewritten")
        self.summary.setdefault("checkpoints", []).append(count)


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


def verify_export(path: Path, trusted: dict[str, str] | None = None) -> dict[str, Any]:
    """Check a JSON Lines export on its own, without the database: every entry hash, every link
    between consecutive records, and every signature whose key is trusted.

    An export filtered by kind or time has gaps; each record still verifies, and the gaps are
    counted. A masked export cannot verify (its records were changed on purpose).
    """
    from engine.util.load import read_lines

    checker = ExportVerifier(trusted or {})
    for number, text in read_lines(path, "a JSON Lines export"):
        if text.strip():
            checker.check_line(_export_line(path, number, text))
    _raise_problems(path, checker.problems)
    return {"ok": True, "export": str(path), "records": checker.count, "gaps": checker.gaps,
            "head_hash": checker.prev_hash, "signed": checker.signed,
            "signatures_checked": checker.checked}


@dataclass
class _ExportLine:
    seq: int
    record: Any
    link: str
    entry: str
    signature: Any
    key_id: Any

    @property
    def label(self) -> str:
        return _label(self.seq, self.record.get("record_id")
                      if isinstance(self.record, dict) else None)


def _export_line(path: Path, number: int, text: str) -> _ExportLine:
    """One line of an unmasked export, or an InputError naming it."""
    from engine.errors import InputError
    from engine.util.load import parse_json

    try:
        line = parse_json(text, str(path))
        parsed = _ExportLine(int(line["seq"]), line["record"], str(line["prev_hash"]),
                             str(line["entry_hash"]), line.get("signature"),
                             line.get("key_id"))
    except (InputError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(str(path), f"line {number}", "an export line of"
                         " `mladvisor audit export`") from None
    if line.get("masked"):
        raise InputError(str(path), f"line {number}", "an unmasked export (a masked"
                         " one cannot be verified)", "masked")
    return parsed


@dataclass
class ExportVerifier:
    """The checks of an export, line by line: links, hashes and trusted signatures."""

    trusted: dict[str, str]
    problems: Problems = field(default_factory=Problems)
    checker: SignatureChecker = field(default_factory=SignatureChecker)
    count: int = 0
    gaps: int = 0
    signed: int = 0
    checked: int = 0
    prev_seq: int = 0
    prev_hash: str = GENESIS

    def check_line(self, line: _ExportLine) -> None:
        self.count += 1
        self.check_link(line)
        if sha256_hex(line.link.encode("ascii", "replace")
                      + canonical_json(line.record)) != line.entry:
            self.problems.add(f"{line.label}: entry_hash does not match its content: edited")
        if line.signature:
            self.check_signature(line)
        self.prev_seq, self.prev_hash = line.seq, line.entry

    def check_link(self, line: _ExportLine) -> None:
        if line.seq == self.prev_seq + 1:
            if line.link != self.prev_hash:
                self.problems.add(f"{line.label}: prev_hash does not link to record"
                                  f" {self.prev_seq}")
        elif line.seq <= self.prev_seq:
            self.problems.add(f"{line.label}: out of order after record {self.prev_seq}")
        else:
            self.gaps += 1

    def check_signature(self, line: _ExportLine) -> None:
        self.signed += 1
        public = self.trusted.get(str(line.key_id))
        if public is None:
            return
        self.checked += 1
        if not self.checker.check(public, line.signature,
                                  line.entry.encode("ascii", "replace")):
            self.problems.add(f"{line.label}: the signature does not match")
