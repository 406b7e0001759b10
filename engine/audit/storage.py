"""The seam between the chain (engine.audit.store: canonical bytes, hashing, signing, codecs,
manifests) and the database that keeps its rows: SQLite in MLADVISOR_HOME (engine.audit.sqlite)
or PostgreSQL (engine.audit.postgres).

A backend runs SQL over the same tables in both (records, blobs, rulebases, keys, meta). Shared
statements are written with `?` parameters; a backend rewrites them for its driver. What
differs (the schema, "insert unless present", locking the head, the high-water mark of
sequence numbers, the database's own integrity checks) is a method of the backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from engine.errors import AuditError, MladvisorError

LOG_SCHEMA = "mladvisor.audit/1"
GENESIS = "0" * 64
APPEND_ONLY_TABLES = ("records", "blobs", "rulebases", "keys", "meta")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def in_batches(cursor: Any, size: int = 32) -> Iterator[tuple[Any, ...]]:
    """A cursor's rows, fetched a few at a time: bodies can be large."""
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield from rows


class MissingLogError(AuditError):
    """There is no log where one was looked for; reading never creates one (exit 3 for
    verify; commands that only look things up turn it into "not found" or "no records").
    `path` is the file, or the database URL (without its password)."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path: Path | str = path if isinstance(path, str) else Path(path)
        super().__init__(f"{path}: {message}")


class LogLocationError(MladvisorError):
    """MLADVISOR_HOME cannot hold the log: a setup problem, exit 2 like bad input, but not an
    InputError - nothing the user typed into the answers is wrong (the web says so apart)."""

    exit_code = 2

    def __init__(self, path: Path, problem: str, detail: str | None = None) -> None:
        self.path = Path(path)
        text = f"{path}: MLADVISOR_HOME: {problem}" + (f" ({detail})" if detail else "")
        super().__init__(" ".join(text.split()))


class LogDatabaseError(MladvisorError):
    """The database named for the log cannot be used (unreachable, refused, not allowed): a
    setup problem, exit 2 like LogLocationError, in one line naming the URL without its
    password."""

    exit_code = 2

    def __init__(self, location: str, problem: str, detail: str | None = None) -> None:
        self.path = location
        text = f"{location}: {problem}" + (f" ({detail})" if detail else "")
        super().__init__(" ".join(text.split()))


class Snapshot(Protocol):
    """One consistent read of the whole log, for verification (engine.audit.verify)."""

    @property
    def Error(self) -> type[Exception]:  # noqa: N802 - the driver's exception class
        """The driver's base exception."""

    @property
    def what(self) -> str:
        """"database file" or "database": what a read error says is unreadable."""

    @property
    def record_columns(self) -> str:
        """The ten columns a record row is read as (seq ... codec)."""

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """A cursor (fetchone, fetchall, iteration) over `sql` with `?` parameters."""

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Like execute, for a query over every record: rows are fetched as they are read."""

    def integrity_problems(self) -> list[str]:
        """What the database's own consistency check finds (empty when it has none)."""

    def missing_triggers(self) -> list[str]:
        """The append-only protections that are no longer in force, one line each."""

    def issued_seq(self) -> int:
        """The highest sequence number ever issued (records cut off the end leave it above
        the last one)."""


class Storage(Protocol):
    """Where the rows live. The caller (AuditLog) holds its lock around every call but
    `stream` and `snapshot`, which read on connections of their own."""

    @property
    def path(self) -> Path | str:
        """What messages name: the file, or the URL without its password."""

    @property
    def Error(self) -> type[Exception]:  # noqa: N802 - the driver's exception class
        """The driver's base exception."""

    @property
    def extracts_json(self) -> bool:
        """Whether the search (engine.audit.search) pulls fields out of plain bodies with
        SQLite's json_extract; without it every body is decoded in Python."""

    @property
    def record_columns(self) -> str:
        """The ten columns a record row is read as (seq ... codec)."""

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...

    def stream(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]: ...

    def begin_append(self) -> None:
        """Start the append's transaction holding the log's write lock (the head's)."""

    def insert_ignore(self, table: str, rows: list[tuple[Any, ...]]) -> None: ...

    def has_rulebase(self, files_sha256: str) -> bool: ...

    def last_hash(self) -> str:
        """The entry hash of the last record (GENESIS for none), under the write lock."""

    def insert_record(self, row: tuple[Any, ...]) -> int:
        """Insert (record_id, kind, time, body, prev_hash, entry_hash, signature, key_id,
        codec); returns its sequence number."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def duplicate_id(self, error: Exception) -> bool:
        """Whether an append failed because its record id is already recorded."""

    def head_file(self, home: Path) -> Path:
        """The head file (a checkpoint rewritten after every append), outside the database."""

    def snapshot(self) -> AbstractContextManager[Snapshot]:
        """One read-only snapshot of the log; MissingLogError when there is none."""

    def close(self) -> None: ...
