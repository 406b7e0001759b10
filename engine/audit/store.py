"""The decision log: an append-only, hash-chained log of decisions, in a SQLite file
(`MLADVISOR_HOME/audit.sqlite`, engine.audit.sqlite) or in PostgreSQL (engine.audit.postgres,
when MLADVISOR_DATABASE or `serve --database` names one).

Each record is one row whose `body` is the RFC 8785 canonical JSON of the record and whose
`entry_hash` is sha256(prev_hash ‖ body), prev_hash being the ASCII hex of the previous entry's
hash (64 zeros for the first). Editing, deleting, inserting or reordering rows breaks a hash or a
link; triggers make UPDATE and DELETE fail in the database itself; a truncated tail is caught by
the high-water mark of sequence numbers and, against a determined editor, by a checkpoint kept
outside.

The rule base and knowledge files a decision used are stored once per distinct content
(`blobs`, keyed by sha256) under a manifest (`rulebases`, keyed by the sha256 of the canonical
{path: sha256} map) that the record names, so an old decision can be re-run with its own rules.

This module is the chain (canonical bytes, hashing, signing, compression, manifests, reading
records back); the SQL that differs between the two databases is in their backends
(engine.audit.storage describes the seam).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from engine import __version__
from engine.audit import codec as codecs
from engine.audit.canonical import canonical_json, join_object
from engine.audit.checkpoint import CHECKPOINT_SCHEMA, dump_checkpoint, signed_bytes
from engine.audit.headfile import write_head
from engine.audit.record import AuditRecord, RecordedAssessment, RecordedRuleBase, RecordSummary
from engine.audit.signing import Signer, load_signer
from engine.audit.sqlite import (  # noqa: F401 - where callers and tests have found them
    _SCHEMA,
    LOG_FILE,
    PAGE_BYTES,
    TRIGGERS,
    SqliteStore,
    _split_sql,
    check_home,
)
from engine.audit.storage import (  # noqa: F401 - where callers and tests have found them
    GENESIS,
    LogDatabaseError,
    LogLocationError,
    MissingLogError,
    Storage,
    utc_now,
)
from engine.errors import AuditError, InputError, MladvisorError
from engine.util import dotted
from engine.util.canonical import sha256_hex
from engine.util.load import loads_stored

RECORD_SCHEMA = "mladvisor.audit-record/1"
ZSTD_DICTIONARY_KEY = "zstd_dictionary"  # meta: the sha256 of the log's zstd dictionary blob


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


class AuditLog:
    """One open log. Safe to share between threads; reopen after fork (done automatically).

    With `create=False` the log is opened read-only and must exist (MissingLogError): reading,
    verifying or exporting never creates a log where there was none. `store` is where its
    rows live (default: the SQLite file at `path`); `path` is what messages name.
    """

    def __init__(self, path: Path | str, home: Path, create: bool = True,
                 store: Storage | None = None) -> None:
        self._db: Storage = SqliteStore(Path(path), create) if store is None else store
        self.path = self._db.path
        self.home = Path(home)
        self.create = create
        self._lock = threading.RLock()
        self._signer: Signer | None = None
        self._signer_loaded = False
        self._known_rulebases: set[str] = set()
        self._stored_keys: set[str] = set()
        self._stored_dictionaries: set[str] = set()
        self._dictionary: codecs.ZstdDictionary | None = None
        self._dictionary_loaded = False
        self._dictionaries: dict[str, bytes] = {}
        self._log_id: str | None = None
        self._head_path: Path | None = None
        self._manifests: dict[tuple[Any, ...],
                              tuple[RecordedRuleBase, tuple[str, bytes, dict[str, bytes]]]] = {}

    @property
    def conn(self) -> Any:
        """The SQLite connection of a log in a file (for tools that tune or inspect it)."""
        return getattr(self._db, "conn")  # noqa: B009 - only SqliteStore has one

    def close(self) -> None:
        self._db.close()

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
            return self._db.read(sql, params)

    # -- appending --------------------------------------------------------------------------
    def append(self, assessment: RecordedAssessment, reports: dict[str, str] | None = None,
               account: Mapping[str, str] | None = None) -> str:
        """Record one assessment (decision, full input, rule base); returns its record id.

        `account` ({name, role}) is the logged-in person who submitted it on the team service:
        the respondent is what the answers say, the account who sent them. Recorded only when
        known, so that records made without accounts keep their exact members."""
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
        if account is not None:
            parts["account"] = canonical_json({"name": str(account["name"]),
                                               "role": str(account["role"])})
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
        db = self._db
        with self._lock:
            db.begin_append()
            try:
                self._store_side_rows(rulebase_rows, dictionary, signer)
                prev_hash = db.last_hash()
                now = utc_now()
                canonical = prefix + b',"time":' + canonical_json(now) + b"}"
                digest = hashlib.sha256(prev_hash.encode("ascii"))
                digest.update(canonical)
                entry_hash = digest.hexdigest()
                stored = dictionary.compress(canonical)
                signature = signer.sign(entry_hash.encode("ascii")) if signer else None
                seq = db.insert_record((record_id, kind, now, stored, prev_hash, entry_hash,
                                        signature, signer.key_id if signer else None,
                                        dictionary.codec))
                db.commit()
            except BaseException as error:
                db.rollback()
                if isinstance(error, db.Error):
                    raise self._append_error(error, record_id) from None
                raise
            if rulebase_rows is not None:
                self._known_rulebases.add(rulebase_rows[0])
            if signer is not None:
                self._stored_keys.add(signer.key_id)
            self._stored_dictionaries.add(dictionary.sha256)
            self._write_head(seq, entry_hash, now)

    def _store_side_rows(self, rulebase_rows: tuple[str, bytes, dict[str, bytes]] | None,
                         dictionary: codecs.ZstdDictionary, signer: Signer | None) -> None:
        """What a record needs beside it, each written once per process at most."""
        if rulebase_rows is not None:
            self._store_rulebase(*rulebase_rows)
        db = self._db
        if dictionary.sha256 not in self._stored_dictionaries:
            db.insert_ignore("blobs", [(dictionary.sha256, dictionary.content)])
            if dictionary is self._dictionary:
                db.insert_ignore("meta", [(ZSTD_DICTIONARY_KEY, dictionary.sha256)])
        if signer is not None and signer.key_id not in self._stored_keys:
            db.insert_ignore("keys", [(signer.key_id, signer.public_b64, utc_now())])

    def _append_error(self, error: Exception, record_id: str) -> MladvisorError:
        if self._db.duplicate_id(error):  # the UNIQUE column, checked by the INSERT itself
            return InputError(str(self.path), "record_id", "an id not yet recorded", record_id)
        return AuditError(f"{self.path}: append failed ({' '.join(str(error).split())})")

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

    def _store_rulebase(self, files_sha256: str, manifest_bytes: bytes,
                        blobs: dict[str, bytes]) -> None:
        """Store a rule base's files and manifest, once per distinct content (in the caller's
        transaction)."""
        if files_sha256 in self._known_rulebases or self._db.has_rulebase(files_sha256):
            return
        self._db.insert_ignore("blobs", list(blobs.items()))
        self._db.insert_ignore("rulebases", [(files_sha256, manifest_bytes)])

    @property
    def head_path(self) -> Path:
        """The head file: a checkpoint rewritten after every append, outside the database."""
        if self._head_path is None:  # asked after every append: worked out once
            self._head_path = self._db.head_file(self.home)
        return self._head_path

    def _write_head(self, seq: int, entry_hash: str, now: str) -> None:
        """Best effort, after the commit: a record whose head file write is lost still counts.

        Concurrent writers may leave an older head behind; an older head is still a true
        statement about a prefix of the log, so it never makes a healthy log fail.
        """
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
        """The columns a record is read from: seq ... codec (NULL in a log not yet upgraded,
        whose bodies are all plain)."""
        with self._lock:
            return self._db.record_columns

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

    def iter_records(self, kind: str | None = None, after: int = 0) -> Iterator[AuditRecord]:
        """Every record (of one kind) in order; with `after`, only those appended after the
        record numbered `after` (what a reader that has seen the log up to there lacks)."""
        sql = f"SELECT {self._columns} FROM records WHERE seq > ?"
        params: tuple[Any, ...] = (after,)
        if kind:
            sql += " AND kind=?"
            params = (after, kind)
        yield from (self._row_to_record(row) for row in self._stream(sql + " ORDER BY seq",
                                                                      params))

    def records(self, seqs: list[int]) -> list[AuditRecord]:
        """The records numbered `seqs`, in order: a project's assessments once an index
        (engine.projects.index) has said which they are, without reading the others."""
        out: list[AuditRecord] = []
        wanted = sorted(set(seqs))
        for start in range(0, len(wanted), 500):  # bound the statement's parameters
            batch = tuple(wanted[start:start + 500])
            marks = ",".join("?" * len(batch))
            rows = self._read(f"SELECT {self._columns} FROM records WHERE seq IN ({marks})"
                              " ORDER BY seq", batch)
            out += [self._row_to_record(row) for row in rows]
        return out

    def _stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows from one snapshot on a connection of their own: large logs are not held in
        memory, and the caller may append while iterating."""
        return self._db.stream(sql, params)

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


def open_log(home: Path | None = None, *, create: bool = True,
             database: str | None = None) -> AuditLog:
    """The log in `home` (default MLADVISOR_HOME), created with its schema on first use; in
    PostgreSQL instead when `database` (`serve --database`), else MLADVISOR_DATABASE, names
    one (engine.paths.database_url). The head file and checkpoints stay in `home` either way.

    `create=False` opens an existing log read-only (MissingLogError when there is none): for
    every command that only reads, so that a mistyped home is reported, never papered over.
    """
    from engine.paths import database_url, sqlite_home

    base = sqlite_home(database, home)
    url = database_url(database)
    if url is not None:
        from engine.audit.postgres import PostgresStore

        store = PostgresStore(url, create=create)
        if create:  # for the head file, best effort like its writes
            try:
                base.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass
        return AuditLog(store.path, base, create=create, store=store)
    return AuditLog(base / LOG_FILE, base, create=create)
