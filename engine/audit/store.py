"""The decision log: an append-only, hash-chained SQLite file (`MLADVISOR_HOME/audit.sqlite`).

Each record is one row whose `body` is the RFC 8785 canonical JSON of the record and whose
`entry_hash` is sha256(prev_hash ‖ body), prev_hash being the ASCII hex of the previous entry's
hash (64 zeros for the first). Editing, deleting, inserting or reordering rows breaks a hash or a
link; triggers make UPDATE and DELETE fail in the database itself; a truncated tail is caught by
the AUTOINCREMENT high-water mark and, against a determined editor, by a checkpoint kept outside.

The rule base and knowledge files a decision used are stored once per distinct content
(`blobs`, keyed by sha256) under a manifest (`rulebases`, keyed by the sha256 of the canonical
{path: sha256} map) that the record names, so an old decision can be re-run with its own rules.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from engine import __version__
from engine.audit import codec as codecs
from engine.audit.canonical import canonical_json, join_object
from engine.audit.record import AuditRecord, RecordedAssessment, RecordedRuleBase, RecordSummary
from engine.audit.signing import Signer, load_signer
from engine.errors import AuditError, InputError, MladvisorError
from engine.util import dotted
from engine.util.canonical import sha256_hex
from engine.util.load import loads_stored

LOG_FILE = "audit.sqlite"
RECORD_SCHEMA = "mladvisor.audit-record/1"
LOG_SCHEMA = "mladvisor.audit/1"
ZSTD_DICTIONARY_KEY = "zstd_dictionary"  # meta: the sha256 of the log's zstd dictionary blob
GENESIS = "0" * 64
# Page size of a new log (an existing one keeps its own). A compressed record takes 2-4 KB, so
# 4 KB pages held one each with the rest of the page empty; 8 KB pages pack two or three.
PAGE_BYTES = 8192
APPEND_ONLY_TABLES = ("records", "blobs", "rulebases", "keys", "meta")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    body BLOB NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    entry_hash TEXT NOT NULL UNIQUE,
    signature TEXT,
    key_id TEXT,
    codec TEXT
);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rulebases (files_sha256 TEXT PRIMARY KEY, manifest BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL,
                                 added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;
""" for table in APPEND_ONLY_TABLES)

TRIGGERS = tuple(f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete"))


_HEAD_SQL = "SELECT entry_hash FROM records ORDER BY seq DESC LIMIT 1"
_INSERT_SQL = ("INSERT INTO records (record_id, kind, time, body, prev_hash, entry_hash, signature,"
               " key_id, codec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(data: bytes | str) -> Any:
    return loads_stored(data)


def _as_bytes(value: Any) -> bytes:
    """A stored BLOB as bytes, whatever type an editor of the file left in the column."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "replace")


def rulebase_manifest(files: Mapping[str, bytes | str]) -> tuple[dict[str, str], dict[str, bytes]]:
    """({path: sha256}, {sha256: content}) of a rule base's files; refuses unsafe paths."""
    manifest: dict[str, str] = {}
    blobs: dict[str, bytes] = {}
    for path, content in files.items():
        rel = str(path).replace("\\", "/")
        if rel.startswith("/") or ".." in rel.split("/") or not rel:
            raise InputError("rulebase", f"files[{path!r}]", "a relative path inside the rule base",
                             path)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        digest = sha256_hex(data)
        manifest[rel] = digest
        blobs[digest] = data
    return manifest, blobs


class MissingLogError(AuditError):
    """There is no log where one was looked for; reading never creates one (exit 3 for
    verify; commands that only look things up turn it into "not found" or "no records")."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


class LogLocationError(MladvisorError):
    """MLADVISOR_HOME cannot hold the log: a setup problem, exit 2 like bad input, but not an
    InputError - nothing the user typed into the answers is wrong (the web says so apart)."""

    exit_code = 2

    def __init__(self, path: Path, problem: str, detail: str | None = None) -> None:
        self.path = Path(path)
        text = f"{path}: MLADVISOR_HOME: {problem}" + (f" ({detail})" if detail else "")
        super().__init__(" ".join(text.split()))


def ro_uri(path: Path) -> str:
    """A read-only SQLite URI for a path: opening it never creates a file, and a home holding
    `?`, `#` or `%` still names the right one.

    A reader of a WAL database must write its shared-memory file (-shm) beside it; an auditor
    with read-only access to the folder cannot, and SQLite then says "attempt to write a
    readonly database". Such a reader opens the file as immutable: it takes no locks and
    reads the file as it is, which is what a read-only auditor can vouch for anyway."""
    path = Path(path).absolute()
    uri = "file:" + urllib.parse.quote(str(path)) + "?mode=ro"
    shm = path.with_name(path.name + "-shm")
    can_share = os.access(path.parent, os.W_OK | os.X_OK) and (
        not shm.exists() or os.access(shm, os.R_OK | os.W_OK))
    return uri if can_share else uri + "&immutable=1"


def check_home(home: Path, log_path: Path, create: bool) -> None:
    """One clear line (exit 2) when MLADVISOR_HOME cannot hold the log, instead of a traceback
    from deep inside sqlite or mkdir: a file where a folder should be, or no permission."""
    try:
        _check_home(home, log_path, create)
    except OSError as error:  # a name too long, a folder we may not look into, ...
        raise LogLocationError(home, "cannot use this folder for the audit log",
                               error.strerror or type(error).__name__) from None


def _check_home(home: Path, log_path: Path, create: bool) -> None:
    for folder in (home, *home.parents):
        if folder.exists():
            if not folder.is_dir():
                what = "is a file" if folder == home else f"is under {folder}, a file"
                raise LogLocationError(home, f"expected a folder for the audit log, but this"
                                       f" path {what}")
            break
    if create:
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LogLocationError(home, "cannot create the folder for the audit log",
                                   error.strerror or type(error).__name__) from None
    if log_path.exists() and not log_path.is_file():
        raise LogLocationError(log_path, "expected the audit log file, but a folder is in its"
                               " place")
    if not create and not log_path.exists():
        raise MissingLogError(log_path, "no audit log here (nothing recorded yet, or"
                              " MLADVISOR_HOME points elsewhere)")


class AuditLog:
    """One open log file. Safe to share between threads; reopen after fork (done automatically).

    With `create=False` the log is opened read-only and must exist (MissingLogError): reading,
    verifying or exporting never creates a log where there was none.
    """

    def __init__(self, path: Path, home: Path, create: bool = True) -> None:
        self.path = Path(path)
        self.home = Path(home)
        self.create = create
        self._lock = threading.RLock()
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        self._signer: Signer | None = None
        self._signer_loaded = False
        self._known_rulebases: set[str] = set()
        self._stored_keys: set[str] = set()
        self._stored_dictionaries: set[str] = set()
        self._dictionary: codecs.ZstdDictionary | None = None
        self._dictionary_loaded = False
        self._dictionaries: dict[str, bytes] = {}
        self._has_codec = False
        self._log_id: str | None = None
        self._manifests: dict[tuple[Any, ...],
                              tuple[RecordedRuleBase, tuple[str, bytes, dict[str, bytes]]]] = {}
        self._connect()

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        check_home(self.path.parent, self.path, self.create)
        if not self.create:
            self._connect_read_only()
            return
        try:
            conn = sqlite3.connect(str(self.path), timeout=120, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=120000")
            conn.execute(f"PRAGMA page_size={PAGE_BYTES}")  # a new log only: see PAGE_BYTES
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous=FULL")
            if str(mode).lower() != "wal":
                raise AuditError(f"{self.path}: cannot switch the log to WAL mode (got {mode})")
            exists = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='records'"
            ).fetchone()[0]
            if not exists:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(_SCHEMA):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (LOG_SCHEMA,))
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('log_id', ?)",
                             (str(uuid.uuid4()),))
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (utc_now(),))
                conn.execute("COMMIT")
            _add_codec_column(conn)
        except sqlite3.OperationalError as error:
            if "unable to open" in str(error) or "readonly" in str(error):
                raise LogLocationError(self.path, "cannot open the audit log for writing",
                                       str(error)) from None
            raise AuditError(f"{self.path}: the log file is corrupt or not an audit log"
                             f" ({error})") from None
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: the log file is corrupt or not an audit log"
                             f" ({error})") from None
        self._conn = conn
        self._pid = os.getpid()
        self._has_codec = True

    def _connect_read_only(self) -> None:
        try:
            conn = sqlite3.connect(ro_uri(self.path), uri=True, timeout=120,
                                   isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=120000")
            exists = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='records'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: the log file is corrupt or not an audit log"
                             f" ({error})") from None
        if not exists:
            conn.close()
            size = self.path.stat().st_size
            raise AuditError(f"{self.path}: not an audit log (no records table"
                             f"{'; the file is empty: wiped?' if size == 0 else ''})")
        self._conn = conn
        self._pid = os.getpid()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._conn = None
            self._connect()
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def signer(self) -> Signer | None:
        if not self._signer_loaded:
            self._signer = load_signer(self.home)
            self._signer_loaded = True
        return self._signer

    def meta(self) -> dict[str, str]:
        return dict(self._read("SELECT key, value FROM meta"))

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as error:
                raise AuditError(f"{self.path}: cannot read the audit log ({error})") from None

    # -- appending --------------------------------------------------------------------------
    def append(self, assessment: RecordedAssessment, reports: dict[str, str] | None = None) -> str:
        """Record one assessment (decision, full input, rule base); returns its record id."""
        decision = assessment.decision
        if not isinstance(decision, dict) or not decision.get("assessment_id"):
            raise InputError("decision", "assessment_id", "a decision with an assessment id",
                             None if not isinstance(decision, dict) else decision.get(
                                 "assessment_id"))
        record_id = str(decision["assessment_id"])
        input_doc = assessment.input_doc
        rb = assessment.rulebase
        files_sha256, manifest_bytes, blobs = self._manifest(rb)
        input_bytes = canonical_json(input_doc)
        respondent = dotted.get(decision, "project.respondent", None)
        if respondent is None:
            respondent = dotted.get(input_doc, "answers.project.respondent", None)
        parts = {
            "schema": canonical_json(RECORD_SCHEMA),
            "kind": b'"assessment"',
            "record_id": canonical_json(record_id),
            "respondent": canonical_json(respondent),
            "input": input_bytes,
            "input_sha256": canonical_json(decision.get("input_sha256")
                                           or sha256_hex(input_bytes)),
            "rulebase": canonical_json({"version": rb.version, "sha256": rb.sha256,
                                        "files_sha256": files_sha256}),
            "engine_version": canonical_json(decision.get("engine_version") or __version__),
            "decision": canonical_json(decision),
            "reports": canonical_json(dict(reports or {})),
        }
        rulebase_rows = (files_sha256, manifest_bytes, blobs)
        self._append(record_id, "assessment", parts, rulebase_rows)
        return record_id

    def _manifest(self, rb: RecordedRuleBase) -> tuple[str, bytes, dict[str, bytes]]:
        """(files sha256, canonical manifest, blobs) of a rule base, once per RuleBase object."""
        files = rb.files
        key = (id(rb), id(files), rb.sha256, len(files))
        cached = self._manifests.get(key)
        if cached is not None and cached[0] is rb:
            return cached[1]
        manifest, blobs = rulebase_manifest(files)
        manifest_bytes = canonical_json(manifest)
        value = (sha256_hex(manifest_bytes), manifest_bytes, blobs)
        if len(self._manifests) > 16:
            self._manifests.clear()
        self._manifests[key] = (rb, value)  # holding rb keeps its id from being reused
        return value

    def append_report(self, record_id: str, fmt: str, sha256: str) -> str:
        """Record that a report of an earlier assessment was rendered: a new event record."""
        target = self.get(record_id)
        if target.kind != "assessment":
            raise InputError(str(self.path), "record_id", "the id of a recorded assessment",
                             record_id)
        return self._append_event("report", target.record_id, {
            "format": canonical_json(str(fmt)), "sha256": canonical_json(str(sha256))})

    def append_review(self, record_id: str, review: Mapping[str, Any]) -> str:
        """Record a reviewer's action on an earlier assessment: a new event record in the same
        chain, signed like the rest. `review` (action, user, role, comment, ...) is checked by
        engine.audit.review, which builds it; it is nested so that every member of the record
        still sorts before `time`."""
        # the kind from its column (an exact id), without reading the assessment's body again
        rows = self._read("SELECT record_id, kind FROM records WHERE record_id=?", (record_id,))
        if rows:
            target_id, kind = rows[0]
        else:  # a prefix: get() resolves it, or names the ids it is ambiguous between
            found = self.get(record_id)
            target_id, kind = found.record_id, found.kind
        if kind != "assessment":
            raise InputError(str(self.path), "record_id", "the id of a recorded assessment",
                             record_id)
        return self._append_event("review", target_id,
                                  {"review": canonical_json(dict(review))})

    def _append_event(self, kind: str, of: str, fields: Mapping[str, bytes]) -> str:
        """An event about a recorded assessment (a report rendered, a review): its own record
        in the chain, members in the order every event writes them."""
        from engine.ids import new_id

        event_id = new_id()
        parts = {
            "schema": canonical_json(RECORD_SCHEMA),
            "kind": canonical_json(kind),
            "record_id": canonical_json(event_id),
            "of": canonical_json(of),
            **fields,
            "engine_version": canonical_json(__version__),
        }
        self._append(event_id, kind, parts, None)
        return event_id

    def _append(self, record_id: str, kind: str, parts: dict[str, bytes],
                rulebase_rows: tuple[str, bytes, dict[str, bytes]] | None) -> None:
        """One durable transaction: the write lock is held only for reading the head, hashing,
        compressing (zstd: tens of microseconds), one INSERT and the COMMIT (its one fsync)."""
        if any(key >= "time" for key in parts):
            raise ValueError("record members must sort before 'time'")
        signer = self.signer
        # canonical bytes up to the time, which sorts last: its member is added under the lock
        prefix = join_object(parts)[:-1]
        dictionary = self._pick_dictionary(kind, prefix)
        with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as error:
                raise AuditError(f"{self.path}: cannot lock the audit log ({error})") from None
            try:
                self._store_side_rows(conn, rulebase_rows, dictionary, signer)
                row = conn.execute(_HEAD_SQL).fetchone()
                prev_hash = row[0] if row else GENESIS
                now = utc_now()
                canonical = prefix + b',"time":' + canonical_json(now) + b"}"
                digest = hashlib.sha256(prev_hash.encode("ascii"))
                digest.update(canonical)
                entry_hash = digest.hexdigest()
                stored = dictionary.compress(canonical)
                signature = signer.sign(entry_hash.encode("ascii")) if signer else None
                cursor = conn.execute(_INSERT_SQL, (
                    record_id, kind, now, stored, prev_hash, entry_hash, signature,
                    signer.key_id if signer else None, dictionary.codec))
                seq = int(cursor.lastrowid or 0)
                conn.execute("COMMIT")
            except BaseException as error:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(error, sqlite3.DatabaseError):
                    raise self._append_error(error, record_id) from None
                raise
            if rulebase_rows is not None:
                self._known_rulebases.add(rulebase_rows[0])
            if signer is not None:
                self._stored_keys.add(signer.key_id)
            self._stored_dictionaries.add(dictionary.sha256)
            self._write_head(seq, entry_hash, now)

    def _store_side_rows(self, conn: sqlite3.Connection,
                         rulebase_rows: tuple[str, bytes, dict[str, bytes]] | None,
                         dictionary: codecs.ZstdDictionary, signer: Signer | None) -> None:
        """What a record needs beside it, each written once per process at most."""
        if rulebase_rows is not None:
            self._store_rulebase(conn, *rulebase_rows)
        if dictionary.sha256 not in self._stored_dictionaries:
            conn.execute("INSERT OR IGNORE INTO blobs VALUES (?, ?)",
                         (dictionary.sha256, dictionary.content))
            if dictionary is self._dictionary:
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                             (ZSTD_DICTIONARY_KEY, dictionary.sha256))
        if signer is not None and signer.key_id not in self._stored_keys:
            conn.execute("INSERT OR IGNORE INTO keys VALUES (?, ?, ?)",
                         (signer.key_id, signer.public_b64, utc_now()))

    def _append_error(self, error: sqlite3.DatabaseError, record_id: str) -> MladvisorError:
        if isinstance(error, sqlite3.IntegrityError) and "records.record_id" in str(error):
            # the UNIQUE column, checked by the INSERT itself
            return InputError(str(self.path), "record_id", "an id not yet recorded", record_id)
        return AuditError(f"{self.path}: append failed ({error})")

    def _pick_dictionary(self, kind: str, canonical: bytes) -> codecs.ZstdDictionary:
        """The log's own zstd dictionary (codec.log_dictionary), made at the first assessment
        this version records in it; the shipped one until then (a report event is too small
        to lend its bytes)."""
        if not self._dictionary_loaded:
            rows = self._read("SELECT blobs.content, meta.value FROM meta JOIN blobs ON"
                              " blobs.sha256 = meta.value WHERE meta.key = ?",
                              (ZSTD_DICTIONARY_KEY,))
            if rows:
                found = codecs.ZstdDictionary(_as_bytes(rows[0][0]))
                if found.sha256 == rows[0][1]:  # else altered: make another
                    self._dictionary = found
                    self._stored_dictionaries.add(found.sha256)
            self._dictionary_loaded = True
        if self._dictionary is None and kind == "assessment":
            self._dictionary = codecs.log_dictionary(canonical)
        return self._dictionary or codecs.shipped_dictionary()

    def _dictionary_blob(self, sha256: str) -> bytes | None:
        """A dictionary by its sha256 (cached: blobs never change), for decoding bodies."""
        cached = self._dictionaries.get(sha256)
        if cached is None:
            rows = self._read("SELECT content FROM blobs WHERE sha256=?", (sha256,))
            if not rows:
                return None
            cached = self._dictionaries[sha256] = _as_bytes(rows[0][0])
        return cached

    def _store_rulebase(self, conn: sqlite3.Connection, files_sha256: str,
                        manifest_bytes: bytes, blobs: dict[str, bytes]) -> None:
        """Store a rule base's files and manifest, once per distinct content (in the caller's
        transaction)."""
        if files_sha256 in self._known_rulebases:
            return
        if conn.execute("SELECT 1 FROM rulebases WHERE files_sha256=?",
                        (files_sha256,)).fetchone():
            return
        conn.executemany("INSERT OR IGNORE INTO blobs VALUES (?, ?)", list(blobs.items()))
        conn.execute("INSERT INTO rulebases VALUES (?, ?)", (files_sha256, manifest_bytes))

    @property
    def head_path(self) -> Path:
        """The head file: a checkpoint rewritten after every append, outside the database."""
        return self.path.with_suffix(".head.json")

    def _write_head(self, seq: int, entry_hash: str, now: str) -> None:
        """Best effort, after the commit: a record whose head file write is lost still counts.

        Concurrent writers may leave an older head behind; an older head is still a true
        statement about a prefix of the log, so it never makes a healthy log fail.
        """
        from engine.audit.checkpoint import CHECKPOINT_SCHEMA, dump_checkpoint, signed_bytes
        from engine.audit.headfile import write_head

        if self._log_id is None:
            self._log_id = self.meta().get("log_id")
        head: dict[str, Any] = {"schema": CHECKPOINT_SCHEMA, "log_id": self._log_id,
                                "count": seq, "head_hash": entry_hash, "time": now}
        signer = self.signer
        if signer is not None:
            head["key_id"] = signer.key_id
            head["signature"] = signer.sign(signed_bytes(head))
        write_head(self.head_path, dump_checkpoint(head))

    # -- reading ----------------------------------------------------------------------------
    def _row_to_record(self, row: tuple[Any, ...]) -> AuditRecord:
        seq, record_id, kind, time, body, prev_hash, entry_hash, signature, key_id, codec = row
        try:
            data = _json(codecs.decode(body, codec, self._dictionary_blob))
        except codecs.CodecError as error:  # a compressed body, or the dictionary it needs
            raise AuditError(f"{self.path}: record {seq} ({record_id}): {error} (corrupt or "
                             "edited); run `mladvisor audit verify`") from None
        except (ValueError, UnicodeDecodeError):
            raise AuditError(f"{self.path}: record {seq} ({record_id}): body is not JSON "
                             "(corrupt or edited); run `mladvisor audit verify`") from None
        if not isinstance(data, dict) or data.get("record_id") != record_id:
            raise AuditError(f"{self.path}: record {seq} ({record_id}): its body does not match"
                             " its record id (edited); run `mladvisor audit verify`")
        return AuditRecord.from_row(seq, record_id, kind, time, prev_hash, entry_hash,
                                    signature, key_id, data)

    @property
    def _columns(self) -> str:
        """The columns a record is read from (see _codec_column)."""
        return _RECORD_COLUMNS + ", " + self._codec_column

    @property
    def _codec_column(self) -> str:
        """`codec`, or NULL for a log not yet upgraded (its bodies are all plain; one opened
        read-only is never upgraded by this process). Looked up until it is found."""
        if not self._has_codec:
            with self._lock:
                self._has_codec = has_codec_column(self.conn)
        return "codec" if self._has_codec else "NULL"

    def get(self, record_id: str) -> AuditRecord:
        """The record (with `decision` and `input` for an assessment); a unique prefix will do.

        A prefix matching several records names them (up to PREFIX_SHOWN), so that the user
        can pick one instead of being told the id is invalid.
        """
        rows = self._read(f"SELECT {self._columns} FROM records WHERE record_id=?",
                          (record_id,))
        if not rows and len(record_id) >= 4:
            rows = self._read(f"SELECT {self._columns} FROM records"
                              " WHERE substr(record_id, 1, ?) = ? ORDER BY seq LIMIT 2",
                              (len(record_id), record_id))
            if len(rows) > 1:
                raise self._ambiguous(record_id)
        if not rows:
            raise InputError(str(self.path), "record_id", "the id of a recorded decision",
                             record_id)
        return self._row_to_record(rows[0])

    PREFIX_SHOWN = 10

    def _ambiguous(self, prefix: str) -> InputError:
        where = "FROM records WHERE substr(record_id, 1, ?) = ?"
        params = (len(prefix), prefix)
        total = int(self._read(f"SELECT count(*) {where}", params)[0][0])
        ids = [r[0] for r in self._read(f"SELECT record_id {where} ORDER BY seq LIMIT ?",
                                        (*params, self.PREFIX_SHOWN))]
        more = f" and {total - len(ids)} more" if total > len(ids) else ""
        return InputError(str(self.path), "record_id",
                          f"an unambiguous id: {prefix!r} is ambiguous, it matches {total}"
                          f" records: {', '.join(ids)}{more}; give more of the id")

    def reports_for(self, record_id: str) -> list[AuditRecord]:
        """Report events appended later for an assessment, oldest first."""
        return [r for r in self.iter_records(kind="report") if r.of == record_id]

    def iter_records(self, kind: str | None = None) -> Iterator[AuditRecord]:
        sql = f"SELECT {self._columns} FROM records"
        params: tuple[Any, ...] = ()
        if kind:
            sql += " WHERE kind=?"
            params = (kind,)
        yield from (self._row_to_record(row) for row in self._stream(sql + " ORDER BY seq",
                                                                      params))

    def _stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows from one snapshot on a connection of their own: large logs are not held in
        memory, and the caller may append while iterating."""
        try:
            reader = sqlite3.connect(ro_uri(self.path), uri=True, timeout=120,
                                     isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot read the audit log ({error})") from None
        try:
            reader.execute("PRAGMA busy_timeout=120000")
            reader.execute("BEGIN")
            cursor = reader.execute(sql, params)
            while True:
                rows = cursor.fetchmany(32)  # a few records: bodies can be large
                if not rows:
                    break
                yield from rows
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot read the audit log ({error})") from None
        finally:
            reader.close()

    def count(self) -> int:
        return int(self._read("SELECT count(*) FROM records")[0][0])

    def head(self) -> tuple[int, str]:
        """(number of records, entry hash of the last one); records are numbered 1..n."""
        rows = self._read("SELECT seq, entry_hash FROM records ORDER BY seq DESC LIMIT 1")
        if not rows:
            return 0, GENESIS
        return int(rows[0][0]), rows[0][1]

    def rulebase_files(self, files_sha256: str) -> dict[str, bytes]:
        """The stored rule base and knowledge files of a manifest: {relative path: bytes}.

        Everything read is checked against its hash first, so an edited manifest or file is an
        AuditError naming it, never a crash further on.
        """
        rows = self._read("SELECT manifest FROM rulebases WHERE files_sha256=?", (files_sha256,))
        if not rows:
            raise AuditError(f"{self.path}: rule base files {files_sha256[:12]} are missing")
        raw = _as_bytes(rows[0][0])
        manifest = None
        if sha256_hex(raw) == files_sha256:
            try:
                manifest = _json(raw)
            except (ValueError, UnicodeDecodeError):
                manifest = None
        if not isinstance(manifest, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()):
            raise AuditError(f"{self.path}: the manifest of rule base files {files_sha256[:12]}"
                             " was altered")
        out: dict[str, bytes] = {}
        for rel, digest in sorted(manifest.items()):
            blob = self._read("SELECT content FROM blobs WHERE sha256=?", (digest,))
            content = _as_bytes(blob[0][0]) if blob else b""
            if not blob or sha256_hex(content) != digest:
                raise AuditError(f"{self.path}: rule base file {rel} ({digest[:12]}) is missing"
                                 " or altered")
            out[rel] = content
        return out

    def verify(self, checkpoint: Any = None, *, checkpoints: list[Any] | None = None,
               trusted: dict[str, str] | None = None, require_signatures: bool = False,
               allow_unsigned: bool = False, saved: bool = True) -> dict[str, Any]:
        """Recompute every hash, link and signature; raises AuditError naming the first problem.

        `checkpoint`/`checkpoints` are checkpoint dicts or file paths; with `saved` the head
        file beside the log and the checkpoints kept in home/checkpoints are checked too.
        `trusted` maps key ids to public keys kept outside the log (default: the *.pub files in
        home/keys; pass {} to check signatures against the keys stored in the log only).
        """
        from engine.audit.checkpoint import saved_checkpoints
        from engine.audit.signing import trusted_keys
        from engine.audit.verify import verify_log

        if trusted is None:
            trusted = trusted_keys(self.home)

        found = list(checkpoints or [])
        if checkpoint is not None:
            found.insert(0, checkpoint)
        head = None
        if saved:
            found += saved_checkpoints(self.home)
            head = self.head_path
        return verify_log(self, checkpoints=found, trusted=trusted,
                          require_signatures=require_signatures, allow_unsigned=allow_unsigned,
                          head_path=head)

    def export(self, out: IO[str], fmt: str = "jsonl", mask: bool = False,
               kind: str | None = None, since: str | None = None,
               until: str | None = None) -> int:
        """Write the log as JSON Lines or CSV for auditors; returns the number of records."""
        from engine.audit.export import export_csv, export_jsonl

        if fmt not in ("jsonl", "csv"):
            raise InputError(str(self.path), "format", "jsonl or csv", fmt)
        writer = export_csv if fmt == "csv" else export_jsonl
        return writer(self, out, mask=mask, kind=kind, since=since, until=until)

    def checkpoint(self) -> dict[str, Any]:
        """The signed (when a key is configured) head of the log: count and head hash."""
        from engine.audit.checkpoint import make_checkpoint

        return make_checkpoint(self)

    def page(self, *, kind: str | None = "assessment", before: int | None = None,
             after: int | None = None, limit: int = 50,
             search: str | None = None) -> list[RecordSummary]:
        """Summaries of at most `limit` records, newest first: those with `seq` below `before`,
        or the ones just above `after` (paging back towards the newest).

        One indexed query per page (the web's past-assessments list): only the rows shown are
        read and parsed, however long the log. Pass the last row's `seq` as `before` for the
        next page, the first row's as `after` for the previous one. `search` keeps the records
        whose project name, verdict or strategy contain all its words (engine.audit.search).
        """
        from engine.audit.search import matching_seqs, words

        if search and words(search):
            seqs = matching_seqs(self, search, kind=kind, before=before, after=after,
                                 limit=max(0, limit))
            if not seqs:
                return []
            marks = ",".join("?" * len(seqs))
            rows = self._read(f"SELECT {self._columns} FROM records WHERE seq IN ({marks})"
                              " ORDER BY seq DESC", tuple(seqs))
            return [self._row_to_record(row).summary() for row in rows]
        where, params = range_filter(kind, before, after)
        sql = f"SELECT {self._columns} FROM records WHERE 1=1" + where
        params.append(max(0, limit))
        order = "ASC" if after is not None else "DESC"
        rows = self._read(sql + f" ORDER BY seq {order} LIMIT ?", tuple(params))
        if after is not None:
            rows.reverse()
        return [self._row_to_record(row).summary() for row in rows]

    def list(self, *, kind: str | None = "assessment", respondent: str | None = None,
             verdict: str | None = None, since: str | None = None, until: str | None = None,
             limit: int | None = None) -> list[RecordSummary]:
        """One summary per record, oldest first, filtered; `limit` keeps the newest ones."""
        sql = f"SELECT {self._columns} FROM records WHERE 1=1"
        params: list[Any] = []
        if kind:
            sql += " AND kind=?"
            params.append(kind)
        if since:
            sql += " AND time>=?"
            params.append(since)
        if until:
            sql += " AND time<=?"
            params.append(until)
        out = []
        for row in self._stream(sql + " ORDER BY seq", tuple(params)):
            summary = self._row_to_record(row).summary()
            if respondent and respondent.lower() not in str(summary.respondent or "").lower():
                continue
            if verdict and summary.verdict != verdict:
                continue
            out.append(summary)
        if limit is not None and limit >= 0:
            out = out[len(out) - limit:] if limit else []
        return out


# the body as bytes whatever an editor stored (a TEXT of invalid UTF-8 must not stop a read)
_RECORD_COLUMNS = ("seq, record_id, kind, time, CAST(body AS BLOB), prev_hash, entry_hash,"
                   " signature, key_id")


def range_filter(kind: str | None, before: int | None,
                 after: int | None) -> tuple[str, list[Any]]:
    """The ` AND ...` clauses and parameters of a page of records: of one kind, below
    `before` and above `after` (by seq)."""
    sql, params = "", []
    for clause, value in ((" AND kind=?", kind or None), (" AND seq<?", before),
                          (" AND seq>?", after)):
        if value is not None:
            sql += clause
            params.append(value)
    return sql, params


def has_codec_column(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "codec" for row in conn.execute("PRAGMA table_info(records)"))


def _add_codec_column(conn: sqlite3.Connection) -> None:
    """Upgrade a log written before compression, in place and at once: one ALTER TABLE adds
    the `codec` column (NULL, i.e. plain, for every existing row; nothing is rewritten). Done
    under the write lock and checked again there, so concurrent openers upgrade it once."""
    if has_codec_column(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not has_codec_column(conn):
            conn.execute("ALTER TABLE records ADD COLUMN codec TEXT")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (triggers contain ';' inside BEGIN ... END)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        if not line.strip():
            continue
        current.append(line)
        text = "\n".join(current)
        if text.rstrip().endswith(";") and (
                "CREATE TRIGGER" not in text or text.rstrip().endswith("END;")):
            statements.append(text)
            current = []
    if current:
        statements.append("\n".join(current))
    return statements


def open_log(home: Path | None = None, *, create: bool = True) -> AuditLog:
    """The log in `home` (default MLADVISOR_HOME), created with its schema on first use.

    `create=False` opens an existing log read-only (MissingLogError when there is none): for
    every command that only reads, so that a mistyped home is reported, never papered over.
    """
    from engine.paths import home_dir

    base = Path(home) if home is not None else home_dir()
    return AuditLog(base / LOG_FILE, base, create=create)
