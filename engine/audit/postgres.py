"""The log in PostgreSQL (psycopg 3), for several app processes serving one team.

The tables are those of the SQLite file (records, blobs, rulebases, keys, meta) in a schema of
their own (`mladvisor_audit`), plus `chain_head`, one row holding the highest sequence number
ever issued. Each append is one transaction that first locks that row (SELECT ... FOR UPDATE),
then reads the last record's hash, inserts the record numbered one above the row and moves the
row on, and commits: concurrent appenders from any number of processes queue on the lock, so
the chain stays linear. Numbers are not taken from a sequence because a sequence is not
transactional: an append rolled back (a duplicate record id) would leave a gap that the
verifier rightly reads as a deleted record. The row is also the high-water mark that catches a
truncated tail, as AUTOINCREMENT's is in SQLite.

Trigger functions make UPDATE, DELETE and TRUNCATE fail on every append-only table, and let
the high-water mark only move forward. The schema is created on first use under an advisory
lock, so processes starting together create it once. Imported only when a database URL is
given: the SQLite path never loads psycopg.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from engine.audit.storage import (
    APPEND_ONLY_TABLES,
    GENESIS,
    LOG_SCHEMA,
    LogDatabaseError,
    MissingLogError,
    in_batches,
    utc_now,
)
from engine.errors import AuditError
from engine.paths import redact_url, without_secrets

SCHEMA = "mladvisor_audit"
# pg_advisory_xact_lock key of the schema's creation: the first 8 bytes of sha256(SCHEMA)
_CREATE_LOCK = int.from_bytes(hashlib.sha256(SCHEMA.encode()).digest()[:8], "big", signed=True)
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise

_APPEND_ONLY_FN = "BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END;"
_FORWARD_ONLY_FN = ("BEGIN IF NEW.seq < OLD.seq OR NEW.only_row IS DISTINCT FROM OLD.only_row"
                    " THEN RAISE EXCEPTION 'the audit log''s high-water mark only moves forward';"
                    " END IF; RETURN NEW; END;")
FUNCTIONS = {"append_only": _APPEND_ONLY_FN, "forward_only": _FORWARD_ONLY_FN}
TRIGGERS = {  # name: (table, event, function)
    **{f"{t}_no_{op.lower()}": (t, op, "append_only")
       for t in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE", "TRUNCATE")},
    "chain_head_forward_only": ("chain_head", "UPDATE", "forward_only"),
    "chain_head_no_delete": ("chain_head", "DELETE", "append_only"),
    "chain_head_no_truncate": ("chain_head", "TRUNCATE", "append_only"),
}

_TABLES = [
    """CREATE TABLE records (
    seq BIGINT PRIMARY KEY,
    record_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    body BYTEA NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    entry_hash TEXT NOT NULL UNIQUE,
    signature TEXT,
    key_id TEXT,
    codec TEXT)""",
    "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, content BYTEA NOT NULL)",
    "CREATE TABLE rulebases (files_sha256 TEXT PRIMARY KEY, manifest BYTEA NOT NULL)",
    "CREATE TABLE keys (key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, added TEXT NOT NULL)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE chain_head (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    seq BIGINT NOT NULL)""",
]


def _schema() -> list[str]:
    statements = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", *_TABLES]
    statements += [f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                   f"{body}$$" for name, body in FUNCTIONS.items()]
    for name, (table, event, function) in TRIGGERS.items():
        each = "STATEMENT" if event == "TRUNCATE" else "ROW"
        statements.append(f"CREATE TRIGGER {name} BEFORE {event} ON {table}"
                          f" FOR EACH {each} EXECUTE FUNCTION {function}()")
    statements.append("INSERT INTO chain_head (seq) VALUES (0)")
    return statements


_RECORD_COLUMNS = ("seq, record_id, kind, time, body, prev_hash, entry_hash, signature, key_id,"
                   " codec")
_INSERT_IGNORE = {table: f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT DO NOTHING"
                  for table, marks in (("blobs", "%s, %s"), ("rulebases", "%s, %s"),
                                       ("keys", "%s, %s, %s"), ("meta", "%s, %s"))}
_INSERT_SQL = ("INSERT INTO records (seq, record_id, kind, time, body, prev_hash, entry_hash,"
               " signature, key_id, codec) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")

# A connection a forked child inherited: kept referenced, never closed by the child, since
# closing it would end the parent's session on the shared socket.
_inherited: list[Any] = []


@lru_cache(maxsize=256)
def _sql(text: str) -> str:
    """A shared statement (`?` parameters) for psycopg (`%s`)."""
    return text.replace("%", "%%").replace("?", "%s")


redact = redact_url  # the name callers and tests know


class PostgresStore:
    """The log in one PostgreSQL database (see engine.audit.storage.Storage)."""

    extracts_json = False
    record_columns = _RECORD_COLUMNS

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.path = redact(url)
        self.create = create
        self.Error = psycopg.Error
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = -1
        self._issued = 0
        self._head_name: str | None = None
        self._conn = self._open_main()
        self._pid = os.getpid()

    # -- connections ------------------------------------------------------------------------
    def _line(self, error: BaseException) -> str:
        """A driver's message on one line, never holding the password."""
        return without_secrets(" ".join(str(error).split()), self._url)

    def connect(self, read_only: bool = False) -> psycopg.Connection[Any]:
        """A new autocommit connection whose tables are the log's; LogDatabaseError (exit 2,
        one line) when the server cannot be reached or refuses."""
        extra: dict[str, Any] = {}
        if "connect_timeout" not in self.url:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        try:
            conn = psycopg.connect(self.url, autocommit=True, **extra)
            conn.execute(f"SET search_path TO {SCHEMA}")
            if read_only:
                conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as error:
            raise LogDatabaseError(self.path, "cannot connect to the audit log's database",
                                   self._line(error)) from None
        return conn

    def _exists(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute(f"SELECT to_regclass('{SCHEMA}.records')").fetchone()
        return row is not None and row[0] is not None

    def _missing(self, what: str = "no audit log here") -> MissingLogError:
        return MissingLogError(self.path, f"{what} (no {SCHEMA} tables in this database:"
                               " nothing recorded yet, or MLADVISOR_DATABASE points elsewhere)")

    def _open_main(self) -> psycopg.Connection[Any]:
        conn = self.connect(read_only=not self.create)
        try:
            if self.create:
                self._create_schema(conn)
            elif not self._exists(conn):
                raise self._missing()
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        """The tables, triggers and first rows, once: processes starting together queue on
        an advisory lock and all but the first find the tables there."""
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
                if self._exists(conn):
                    return
                for statement in _schema():
                    conn.execute(statement)
                for key, value in (("schema", LOG_SCHEMA), ("log_id", str(uuid.uuid4())),
                                   ("created", utc_now())):
                    conn.execute(_INSERT_IGNORE["meta"], (key, value))
        except psycopg.Error as error:
            raise LogDatabaseError(self.path, "cannot create the audit log's tables",
                                   self._line(error)) from None

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._pid != os.getpid():  # forked: the parent's session is not ours to use
            if self._conn is not None:
                _inherited.append(self._conn)
            self._conn = None
        if self._conn is None or self._conn.closed:
            self._conn = self._open_main()
            self._pid = os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # -- reading ----------------------------------------------------------------------------
    def _unreadable(self, error: psycopg.Error) -> AuditError:
        return AuditError(f"{self.path}: cannot read the audit log ({self._line(error)})")

    def _lost(self, error: psycopg.Error) -> bool:
        """Whether `error` was the connection going away (a server restart, an idle
        connection cut): then it is dropped, and the statement may be tried once more on a
        new one."""
        if isinstance(error, psycopg.OperationalError) and (
                self._conn is None or self._conn.closed):
            self._conn = None
            return True
        return False

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        for attempt in (1, 2):
            try:
                return self.conn.execute(_sql(sql), params).fetchall()
            except psycopg.Error as error:
                if attempt == 1 and self._lost(error):
                    continue
                raise self._unreadable(error) from None
        raise AssertionError("unreachable")

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A read-only connection of its own inside one REPEATABLE READ transaction (one
        snapshot, while others may keep appending), closed on the way out."""
        conn = self.connect(read_only=True)
        try:
            try:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            except psycopg.Error as error:
                raise self._unreadable(error) from None
            yield conn  # closing ends the read transaction (and a broken one raises nothing)
        finally:
            conn.close()

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows from one snapshot, fetched a few at a time by a server-side cursor."""
        try:
            with self._reading() as conn:
                cursor = conn.cursor(name="audit_stream")
                cursor.execute(_sql(sql), params)
                yield from in_batches(cursor)
        except psycopg.Error as error:
            raise self._unreadable(error) from None

    # -- appending (the caller holds its lock from begin_append to commit or rollback) -----
    def begin_append(self) -> None:
        """BEGIN, then lock the head row: concurrent appenders wait here, one at a time."""
        for attempt in (1, 2):
            try:
                self.conn.execute("BEGIN")
                row = self.conn.execute("SELECT seq FROM chain_head FOR UPDATE").fetchone()
                break
            except psycopg.Error as error:
                self.rollback()
                if attempt == 1 and self._lost(error):
                    continue
                raise AuditError(f"{self.path}: cannot lock the audit log"
                                 f" ({self._line(error)})") from None
        if row is None:
            self.rollback()
            raise AuditError(f"{self.path}: cannot lock the audit log (its chain_head row is"
                             " gone: run `mladvisor audit verify`)")
        self._issued = int(row[0])

    def insert_ignore(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(_INSERT_IGNORE[table], rows)

    def has_rulebase(self, files_sha256: str) -> bool:
        return self.conn.execute("SELECT 1 FROM rulebases WHERE files_sha256=%s",
                                 (files_sha256,)).fetchone() is not None

    def last_hash(self) -> str:
        row = self.conn.execute(
            "SELECT entry_hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return str(row[0]) if row else GENESIS

    def insert_record(self, row: tuple[Any, ...]) -> int:
        seq = self._issued + 1
        conn = self.conn
        conn.execute(_INSERT_SQL, (seq, *row))
        conn.execute("UPDATE chain_head SET seq = %s", (seq,))
        return seq

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed:
            return
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # broken: the next use reconnects

    def duplicate_id(self, error: Exception) -> bool:
        return (isinstance(error, pg_errors.UniqueViolation)
                and error.diag.constraint_name == "records_record_id_key")

    def head_file(self, home: Path) -> Path:
        """One head file per database in MLADVISOR_HOME, named by where the database is
        (host, port, name), never by the password."""
        if self._head_name is None:
            info = psycopg.conninfo.conninfo_to_dict(self.url)
            where = "\0".join(str(info.get(k) or "") for k in ("host", "port", "dbname"))
            digest = hashlib.sha256(where.encode()).hexdigest()[:12]
            self._head_name = f"audit-postgresql-{digest}.head.json"
        return home / self._head_name

    # -- verification -----------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[PostgresSnapshot]:
        with self._reading() as conn:
            try:
                exists = self._exists(conn)
            except psycopg.Error as error:
                raise self._unreadable(error) from None
            if not exists:
                raise self._missing("verification failed: no audit log here")
            yield PostgresSnapshot(conn)


class PostgresSnapshot:
    """The log as one REPEATABLE READ transaction sees it (engine.audit.storage.Snapshot)."""

    Error = psycopg.Error
    what = "database"
    record_columns = _RECORD_COLUMNS

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._cursors = 0

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(_sql(sql), params)

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self._cursors += 1
        cursor = self.conn.cursor(name=f"audit_verify_{self._cursors}")
        cursor.itersize = 64
        return cursor.execute(_sql(sql), params)

    def integrity_problems(self) -> list[str]:
        """Not applicable: PostgreSQL checks its own pages as it reads them (a damaged one is
        an error while reading, reported as unreadable)."""
        return []

    def missing_triggers(self) -> list[str]:
        """Triggers dropped or disabled, and trigger functions replaced by ones that no
        longer refuse."""
        enabled = {r[0] for r in self.conn.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'", (SCHEMA,))}
        sources = dict(self.conn.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n"
            " ON n.oid = p.pronamespace WHERE n.nspname = %s", (SCHEMA,)).fetchall())
        problems = [f"the append-only trigger {name} was removed or disabled"
                    for name in TRIGGERS if name not in enabled]
        problems += [f"the append-only trigger function {name}() was replaced or removed"
                     for name, body in FUNCTIONS.items()
                     if " ".join(str(sources.get(name, "")).split()) != " ".join(body.split())]
        return problems

    def issued_seq(self) -> int:
        row = self.conn.execute("SELECT max(seq) FROM chain_head").fetchone()
        return int(row[0]) if row and row[0] is not None else 0
