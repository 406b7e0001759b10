"""The log in one SQLite file (`MLADVISOR_HOME/audit.sqlite`): the embedded default.

WAL mode with synchronous=FULL (one fsync per append), BEGIN IMMEDIATE as the write lock
around reading the head and inserting, triggers that make UPDATE and DELETE fail in the file
itself, and AUTOINCREMENT's high-water mark (sqlite_sequence) to catch a truncated tail.

The hash columns carry no UNIQUE index in a log made by this version (older logs keep theirs).
Nothing looks a record up by hash, and the write lock held from reading the head to the commit
is what keeps two records off one parent; verify walks the chain and finds a fork whatever the
indexes say. Each such index cost a random 8 KB page written per append (a sha256 is random),
about a seventh of a durable append's wall time here.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.audit.storage import (
    APPEND_ONLY_TABLES,
    GENESIS,
    LOG_SCHEMA,
    LogLocationError,
    MissingLogError,
    in_batches,
    utc_now,
)
from engine.errors import AuditError

LOG_FILE = "audit.sqlite"
# Page size of a new log (an existing one keeps its own). A compressed record takes 2-4 KB, so
# 4 KB pages held one each with the rest of the page empty; 8 KB pages pack two or three.
PAGE_BYTES = 8192

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    body BLOB NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL,
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
# the body as bytes whatever an editor stored (a TEXT of invalid UTF-8 must not stop a read)
_RECORD_COLUMNS = ("seq, record_id, kind, time, CAST(body AS BLOB), prev_hash, entry_hash,"
                   " signature, key_id")
_INSERT_IGNORE = {table: f"INSERT OR IGNORE INTO {table} VALUES ({marks})" for table, marks in (
    ("blobs", "?, ?"), ("rulebases", "?, ?"), ("keys", "?, ?, ?"), ("meta", "?, ?"))}


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


class SqliteStore:
    """One open log file. Reopened after fork (done automatically).

    With `create=False` the file is opened read-only and must exist (MissingLogError).
    """

    Error = sqlite3.DatabaseError
    extracts_json = True

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = Path(path)
        self.create = create
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        self._has_codec = False
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

    # -- reading ----------------------------------------------------------------------------
    @property
    def record_columns(self) -> str:
        """`codec`, or NULL for a log not yet upgraded (its bodies are all plain; one opened
        read-only is never upgraded by this process). Looked up until it is found."""
        if not self._has_codec:
            self._has_codec = has_codec_column(self.conn)
        return _RECORD_COLUMNS + (", codec" if self._has_codec else ", NULL")

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot read the audit log ({error})") from None

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of its own inside one read transaction (one snapshot,
        while others may keep appending), closed on the way out."""
        try:
            conn = sqlite3.connect(ro_uri(self.path), uri=True, timeout=120,
                                   isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot open the audit log ({error})") from None
        try:
            conn.execute("PRAGMA busy_timeout=120000")
            conn.execute("BEGIN")
            yield conn  # closing ends the read transaction: nothing to commit
        finally:
            conn.close()

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows from one snapshot on a connection of their own: large logs are not held in
        memory, and the caller may append while iterating."""
        try:
            with self._reading() as reader:
                cursor = reader.execute(sql, params)
                yield from in_batches(cursor)
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot read the audit log ({error})") from None

    # -- appending (the caller holds its lock from begin_append to commit or rollback) -----
    def begin_append(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: cannot lock the audit log ({error})") from None

    def insert_ignore(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.executemany(_INSERT_IGNORE[table], rows)

    def has_rulebase(self, files_sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM rulebases WHERE files_sha256=?",
                                 (files_sha256,)).fetchone() is not None

    def last_hash(self) -> str:
        row = self.conn.execute(_HEAD_SQL).fetchone()
        return str(row[0]) if row else GENESIS

    def insert_record(self, row: tuple[Any, ...]) -> int:
        return int(self.conn.execute(_INSERT_SQL, row).lastrowid or 0)

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def duplicate_id(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "records.record_id" in str(error)

    def head_file(self, home: Path) -> Path:
        return self.path.with_suffix(".head.json")

    # -- verification -----------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[SqliteSnapshot]:
        if not self.path.is_file():  # never let sqlite create an empty log and call it verified
            raise MissingLogError(self.path, "verification failed: no audit log here (deleted,"
                                  " or MLADVISOR_HOME points elsewhere)")
        with self._reading() as conn:
            yield SqliteSnapshot(conn, self.path)


class SqliteSnapshot:
    """The log file as one read transaction sees it (see engine.audit.storage.Snapshot)."""

    Error = sqlite3.DatabaseError
    what = "database file"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @property
    def record_columns(self) -> str:
        """Read when the walk starts (inside the snapshot, where a corrupt file is reported
        as a problem of the verification)."""
        return _RECORD_COLUMNS + (", codec" if has_codec_column(self.conn) else ", NULL")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    stream = execute

    def integrity_problems(self) -> list[str]:
        try:
            result = [r[0] for r in self.conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as error:
            raise AuditError(f"{self.path}: the database file is corrupt ({error})") from None
        if result == ["ok"]:
            return []
        detail = "; ".join(" ".join(str(r).split()) for r in result[:3])
        return [f"the database file is corrupt: {detail}"]

    def missing_triggers(self) -> list[str]:
        present = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'")}
        return [f"the append-only trigger {name} was removed" for name in TRIGGERS
                if name not in present]

    def issued_seq(self) -> int:
        row = self.conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name='records'").fetchone()
        return int(row[0]) if row else 0


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
