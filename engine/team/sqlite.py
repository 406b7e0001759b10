"""Every SQL statement of the account store, for SQLite (`MLADVISOR_HOME/team.sqlite`).

The accounts live in their own file, not beside the audit log: the log is append-only (its
triggers refuse every UPDATE and DELETE, and accounts are disabled, re-roled and sessions
expire), and it is read and copied by auditors, who must not receive password hashes, API
token hashes or live sessions with it. `AccountStore` (accounts.py) holds the logic and calls
only the methods here, which take and return plain values: a PostgreSQL backend is another
class with the same methods.

Times: `created` is ISO 8601 UTC text (shown to people); session times are Unix seconds (they
are compared with the clock on every request).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

TEAM_FILE = "team.sqlite"
SCHEMA_VERSION = "mladvisor.team/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE REFERENCES accounts(name),
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES accounts(name),
    started REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_name ON sessions(name);
"""

_ACCOUNT_COLUMNS = "name, role, disabled, must_change_password, created"

Row = tuple[Any, ...]


def team_path(home: Path) -> Path:
    return Path(home) / TEAM_FILE


class SqliteTeamDB:
    """One connection, serialised by a lock: statements here take microseconds, and the web
    server calls them from its thread pool."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _create_private(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None,
                                   check_same_thread=False, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                             (SCHEMA_VERSION,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Row | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return tuple(row) if row is not None else None

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Row]:
        with self._lock:
            return [tuple(r) for r in self._db.execute(sql, args).fetchall()]

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> int:
        """Run the statements in one transaction; the row count of the first."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                first = -1
                for sql, args in statements:
                    count = self._db.execute(sql, args).rowcount
                    first = count if first < 0 else first
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return first

    def shared_value(self, key: str, first: str) -> str:
        """The value kept under `key`, storing `first` when there is none yet: whichever
        process asks first sets it, every later one reads the same."""
        self._write(("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, first)))
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else first

    # -- accounts -------------------------------------------------------------------------
    def insert_account(self, name: str, role: str, password_hash: str, must_change: bool,
                       created: str) -> bool:
        """Add an account; False when the name is taken."""
        try:
            self._write(("INSERT INTO accounts (name, role, password_hash, disabled, "
                         "must_change_password, created) VALUES (?, ?, ?, 0, ?, ?)",
                         (name, role, password_hash, int(must_change), created)))
        except sqlite3.IntegrityError:
            return False
        return True

    def account(self, name: str) -> Row | None:
        return self._one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name = ?", (name,))

    def accounts(self) -> list[Row]:
        return self._all(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY name")

    def any_account(self) -> bool:
        return self._one("SELECT 1 FROM accounts LIMIT 1") is not None

    def password_hash(self, name: str) -> str | None:
        row = self._one("SELECT password_hash FROM accounts WHERE name = ?", (name,))
        return str(row[0]) if row else None

    def set_role(self, name: str, role: str, keep_one_of: tuple[str, ...] = ()) -> bool:
        """Change the role; with `keep_one_of`, only while another enabled account of those
        roles remains (False otherwise, and nothing changes)."""
        guard, args = _guard(keep_one_of, name)
        return self._write((f"UPDATE accounts SET role = ? WHERE name = ?{guard}",
                            (role, name, *args))) > 0

    def set_disabled(self, name: str, disabled: bool, keep_one_of: tuple[str, ...] = ()) -> bool:
        """Disabling also ends the account's sessions (its token is refused while disabled);
        `keep_one_of` as for `set_role`."""
        guard, args = _guard(keep_one_of, name)
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (f"UPDATE accounts SET disabled = ? WHERE name = ?{guard}",
             (int(disabled), name, *args))]
        if disabled:
            statements.append(("DELETE FROM sessions WHERE name = ? AND EXISTS (SELECT 1 FROM "
                               "accounts WHERE name = ? AND disabled = 1)", (name, name)))
        return self._write(*statements) > 0

    def set_password(self, name: str, password_hash: str, must_change: bool,
                     keep_sessions: bool = False) -> bool:
        """A new password hash; unless `keep_sessions` (a rehash), every session ends."""
        statements: list[tuple[str, tuple[Any, ...]]] = [
            ("UPDATE accounts SET password_hash = ?, must_change_password = ? WHERE name = ?",
             (password_hash, int(must_change), name))]
        if not keep_sessions:
            statements.append(("DELETE FROM sessions WHERE name = ?", (name,)))
        return self._write(*statements) > 0

    # -- API tokens -----------------------------------------------------------------------
    def replace_token(self, name: str, token_hash: str, created: str) -> None:
        """The account's one API token: a new one replaces (revokes) the old."""
        self._write(("DELETE FROM tokens WHERE name = ?", (name,)),
                    ("INSERT INTO tokens (token_hash, name, created) VALUES (?, ?, ?)",
                     (token_hash, name, created)))

    def token_account(self, token_hash: str) -> Row | None:
        return self._one(f"SELECT {_prefixed('a')} FROM tokens t JOIN accounts a "
                         "ON a.name = t.name WHERE t.token_hash = ?", (token_hash,))

    # -- sessions -------------------------------------------------------------------------
    def insert_session(self, session_hash: str, name: str, now: float) -> None:
        self._write(("INSERT INTO sessions (session_hash, name, started, last_seen) "
                     "VALUES (?, ?, ?, ?)", (session_hash, name, now, now)))

    def session(self, session_hash: str) -> tuple[Row, float, float] | None:
        """(account row, started, last_seen) of a session."""
        row = self._one(f"SELECT {_prefixed('a')}, s.started, s.last_seen FROM sessions s "
                        "JOIN accounts a ON a.name = s.name WHERE s.session_hash = ?",
                        (session_hash,))
        if row is None:
            return None
        return row[:-2], float(row[-2]), float(row[-1])

    def touch_session(self, session_hash: str, now: float) -> None:
        self._write(("UPDATE sessions SET last_seen = ? WHERE session_hash = ?",
                     (now, session_hash)))

    def delete_session(self, session_hash: str) -> None:
        self._write(("DELETE FROM sessions WHERE session_hash = ?", (session_hash,)))

    def delete_sessions_before(self, idle_since: float, started_since: float) -> int:
        return self._write(("DELETE FROM sessions WHERE last_seen < ? OR started < ?",
                            (idle_since, started_since)))


def _guard(keep_one_of: tuple[str, ...], name: str) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause that lets a change through only while another enabled account has one
    of the roles `keep_one_of` (all statements of a write run in one IMMEDIATE transaction)."""
    if not keep_one_of:
        return "", ()
    marks = ", ".join("?" * len(keep_one_of))
    return (f" AND EXISTS (SELECT 1 FROM accounts WHERE role IN ({marks}) AND disabled = 0 "
            "AND name <> ?)", (*keep_one_of, name))


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in _ACCOUNT_COLUMNS.split(","))


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only before SQLite opens it (SQLite gives its WAL
    and shared-memory files the same mode): it holds password and token hashes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
