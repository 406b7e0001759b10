"""Every SQL statement of the account store, for PostgreSQL (`serve --database postgresql://...`
or MLADVISOR_DATABASE), so that several app processes share one team's accounts and sessions.

The same methods as `SqliteTeamDB` (sqlite.py), taking and returning the same plain values, on
the same tables in a schema of their own (`mladvisor_team`): they share the database with the
audit log (`mladvisor_audit`), which auditors read and copy, and which must not carry password
hashes or live sessions with it. psycopg (3) is imported only here, when a URL is given: the
embedded SQLite store needs no PostgreSQL client.

One connection per store, serialised by a lock (statements take a millisecond; the web server
calls them from its thread pool); a connection the server dropped is replaced on the next call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.errors import InputError
from engine.paths import redact_url, without_secrets
from engine.team.sqlite import SCHEMA_VERSION

CONNECT_TIMEOUT = 10  # seconds before an unreachable server is reported
SCHEMA_LOCK = 0x6D6C612D7465616D  # pg_advisory_xact_lock key ("mla-team"): one creator at once
ROLES_LOCK = 0x6D6C612D726F6C65  # ("mla-role"): one guarded role or status change at once

SCHEMA = "mladvisor_team"
_TABLES = tuple(f"{SCHEMA}.{table}" for table in ("meta", "accounts", "tokens", "sessions"))
_SCHEMA = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    name text PRIMARY KEY,
    role text NOT NULL,
    password_hash text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    must_change_password boolean NOT NULL DEFAULT true,
    created text NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash text PRIMARY KEY,
    name text NOT NULL UNIQUE REFERENCES accounts(name),
    created text NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash text PRIMARY KEY,
    name text NOT NULL REFERENCES accounts(name),
    started double precision NOT NULL,
    last_seen double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_name ON sessions(name);
"""

_ACCOUNT_COLUMNS = "a.name, a.role, a.disabled, a.must_change_password, a.created"

Row = tuple[Any, ...]


def unreachable(url: str, error: BaseException) -> InputError:
    """The one-line error (exit 2) for a server that refused or dropped the connection: libpq's
    reason without its preamble (`connection to server on socket ... failed:`), naming the URL
    without its password, as the log's own messages do."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[0] if lines else type(error).__name__
    reason = reason.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    return InputError(redact_url(url), "connection", "a PostgreSQL server that accepts it",
                      without_secrets(reason, url))


def connect(url: str) -> Any:
    """An autocommit psycopg connection whose tables are the team's, or the one-line error."""
    try:
        import psycopg
    except ImportError:
        raise InputError(redact_url(url), "", "the PostgreSQL client: pip install "
                         "'mladvisor[postgres]'") from None
    timeout: dict[str, Any] = {} if "connect_timeout" in url else {
        "connect_timeout": CONNECT_TIMEOUT}
    try:
        conn = psycopg.connect(url, autocommit=True, **timeout)
        conn.execute(f"SET search_path TO {SCHEMA}")
    except psycopg.Error as error:
        raise unreachable(url, error) from None
    return conn


def has_schema(url: str) -> bool:
    """Whether the team's tables exist in the database, without creating them."""
    conn = connect(url)
    try:
        row = conn.execute(f"SELECT to_regclass('{SCHEMA}.accounts') IS NOT NULL").fetchone()
        return bool(row and row[0])
    finally:
        conn.close()


class PostgresTeamDB:
    """The account store's statements on one PostgreSQL connection (the schema is created on
    first use, under an advisory lock so that two processes starting at once do not race)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._db: Any = None
        with self._session() as db:
            _create_schema(db)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _session(self) -> Iterator[Any]:
        """The connection, under the lock; a dropped connection is reported in one line and
        replaced on the next call."""
        import psycopg

        with self._lock:
            if self._db is None or self._db.closed:
                self._db = connect(self.url)
            try:
                yield self._db
            except psycopg.OperationalError as error:
                if self._db.closed or self._db.broken:
                    self._db = None
                raise unreachable(self.url, error) from None

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Row | None:
        with self._session() as db:
            row = db.execute(sql, args).fetchone()
        return tuple(row) if row is not None else None

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Row]:
        with self._session() as db:
            return [tuple(r) for r in db.execute(sql, args).fetchall()]

    def _write(self, *statements: tuple[str, tuple[Any, ...]]) -> int:
        """Run the statements in one transaction; the row count of the first that is not a
        lock (`SELECT pg_advisory_xact_lock`)."""
        with self._session() as db, db.transaction():
            first = -1
            for sql, args in statements:
                count = db.execute(sql, args).rowcount
                if not sql.startswith(_LOCK):
                    first = count if first < 0 else first
        return first

    def shared_value(self, key: str, first: str) -> str:
        """The value kept under `key`, storing `first` when there is none yet: whichever
        process asks first sets it, every later one reads the same."""
        self._write(("INSERT INTO meta VALUES (%s, %s) ON CONFLICT DO NOTHING",
                     (key, first)))
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return str(row[0]) if row else first

    # -- accounts -------------------------------------------------------------------------
    def insert_account(self, name: str, role: str, password_hash: str, must_change: bool,
                       created: str) -> bool:
        """Add an account; False when the name is taken."""
        return self._write(("INSERT INTO accounts (name, role, password_hash, disabled, "
                            "must_change_password, created) VALUES (%s, %s, %s, false, %s, %s) "
                            "ON CONFLICT (name) DO NOTHING",
                            (name, role, password_hash, must_change, created))) > 0

    def account(self, name: str) -> Row | None:
        return self._one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a WHERE a.name = %s",
                         (name,))

    def accounts(self) -> list[Row]:
        return self._all(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.name")

    def any_account(self) -> bool:
        return self._one("SELECT 1 FROM accounts LIMIT 1") is not None

    def password_hash(self, name: str) -> str | None:
        row = self._one("SELECT password_hash FROM accounts WHERE name = %s", (name,))
        return str(row[0]) if row else None

    def set_role(self, name: str, role: str, keep_one_of: tuple[str, ...] = ()) -> bool:
        """Change the role; with `keep_one_of`, only while another enabled account of those
        roles remains (False otherwise, and nothing changes)."""
        guard, args = _guard(keep_one_of, name)
        return self._write(*_locked(keep_one_of), (
            f"UPDATE accounts SET role = %s WHERE name = %s{guard}",
            (role, name, *args))) > 0

    def set_disabled(self, name: str, disabled: bool, keep_one_of: tuple[str, ...] = ()) -> bool:
        """Disabling also ends the account's sessions (its token is refused while disabled);
        `keep_one_of` as for `set_role`."""
        guard, args = _guard(keep_one_of, name)
        statements: list[tuple[str, tuple[Any, ...]]] = [
            *_locked(keep_one_of),
            (f"UPDATE accounts SET disabled = %s WHERE name = %s{guard}",
             (disabled, name, *args))]
        if disabled:
            statements.append(("DELETE FROM sessions WHERE name = %s AND EXISTS (SELECT 1 "
                               "FROM accounts WHERE name = %s AND disabled)", (name, name)))
        return self._write(*statements) > 0

    def set_password(self, name: str, password_hash: str, must_change: bool,
                     keep_sessions: bool = False) -> bool:
        """A new password hash; unless `keep_sessions` (a rehash), every session ends."""
        statements: list[tuple[str, tuple[Any, ...]]] = [
            ("UPDATE accounts SET password_hash = %s, must_change_password = %s "
             "WHERE name = %s", (password_hash, must_change, name))]
        if not keep_sessions:
            statements.append(("DELETE FROM sessions WHERE name = %s", (name,)))
        return self._write(*statements) > 0

    # -- API tokens -----------------------------------------------------------------------
    def replace_token(self, name: str, token_hash: str, created: str) -> None:
        """The account's one API token: a new one replaces (revokes) the old."""
        self._write(("DELETE FROM tokens WHERE name = %s", (name,)),
                    ("INSERT INTO tokens (token_hash, name, created) VALUES (%s, %s, %s)",
                     (token_hash, name, created)))

    def token_account(self, token_hash: str) -> Row | None:
        return self._one(f"SELECT {_ACCOUNT_COLUMNS} FROM tokens t JOIN accounts a "
                         "ON a.name = t.name WHERE t.token_hash = %s", (token_hash,))

    # -- sessions -------------------------------------------------------------------------
    def insert_session(self, session_hash: str, name: str, now: float) -> None:
        self._write(("INSERT INTO sessions (session_hash, name, started, last_seen) "
                     "VALUES (%s, %s, %s, %s)", (session_hash, name, now, now)))

    def session(self, session_hash: str) -> tuple[Row, float, float] | None:
        """(account row, started, last_seen) of a session."""
        row = self._one(f"SELECT {_ACCOUNT_COLUMNS}, s.started, s.last_seen FROM sessions "
                        "s JOIN accounts a ON a.name = s.name WHERE s.session_hash = %s",
                        (session_hash,))
        if row is None:
            return None
        return row[:-2], float(row[-2]), float(row[-1])

    def touch_session(self, session_hash: str, now: float) -> None:
        self._write(("UPDATE sessions SET last_seen = %s WHERE session_hash = %s",
                     (now, session_hash)))

    def delete_session(self, session_hash: str) -> None:
        self._write(("DELETE FROM sessions WHERE session_hash = %s", (session_hash,)))

    def delete_sessions_before(self, idle_since: float, started_since: float) -> int:
        return self._write(("DELETE FROM sessions WHERE last_seen < %s OR started < %s",
                            (idle_since, started_since)))


_LOCK = "SELECT pg_advisory_xact_lock"


def _locked(keep_one_of: tuple[str, ...]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """With a guard, the statement that serialises guarded changes across processes: under READ
    COMMITTED two of them could each see the other's account still enabled, and both pass."""
    return ((f"{_LOCK}(%s)", (ROLES_LOCK,)),) if keep_one_of else ()


def _guard(keep_one_of: tuple[str, ...], name: str) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause that lets a change through only while another enabled account has one
    of the roles `keep_one_of`."""
    if not keep_one_of:
        return "", ()
    return (" AND EXISTS (SELECT 1 FROM accounts WHERE role = ANY(%s) AND NOT disabled "
            "AND name <> %s)", (list(keep_one_of), name))


def _create_schema(db: Any) -> None:
    """Create the tables unless they exist. CREATE TABLE IF NOT EXISTS alone is not safe when
    two processes run it at once (one fails on the catalog's unique index), so creators take
    a transaction-level advisory lock and the second finds the tables made."""
    present = db.execute("SELECT count(to_regclass(t)) FROM unnest(%s::text[]) t",
                         (list(_TABLES),)).fetchone()
    if present and present[0] == len(_TABLES):
        return
    with db.transaction():
        db.execute(f"{_LOCK}(%s)", (SCHEMA_LOCK,))
        db.execute(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema', %s) ON CONFLICT DO NOTHING",
                   (SCHEMA_VERSION,))
