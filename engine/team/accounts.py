"""The team's accounts: names, roles, argon2id password hashes, API tokens and web sessions.

Secrets are never stored: passwords as argon2id hashes (argon2-cffi's defaults, RFC 9106's
low-memory profile), API tokens and session ids as the sha256 of 32 random bytes (a random
secret needs no slow hash). A token or a one-time password is shown once, when it is made.
Accounts are never deleted, only disabled, so a name in the audit log always names one
person; a disabled account cannot log in, and its sessions and token stop working at once.
The SQL lives in `sqlite.py` (MLADVISOR_HOME/team.sqlite) and `postgres.py` (a PostgreSQL URL:
`serve --database`, else MLADVISOR_DATABASE); this module is the logic both share.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from engine.errors import InputError
from engine.team.roles import ROLES
from engine.team.sqlite import SqliteTeamDB, team_path

if TYPE_CHECKING:
    from engine.team.postgres import PostgresTeamDB

NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
NAME_RULE = ("1 to 64 characters: lower-case letters, digits, '.', '_', '-' or '@', starting "
             "with a letter or digit")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # characters: argon2 hashes anything, but a megabyte form field is abuse
SESSION_IDLE = 12 * 3600.0  # seconds without a request before a session ends
SESSION_MAX = 7 * 24 * 3600.0  # seconds after login when a session ends whatever its use
TOKEN_PREFIX = "mla_"  # recognisable in a script or a leaked file
MANAGE = "manage-users"  # the action of the role table one enabled account must keep


class AccountError(InputError):
    """A bad account name, role or password, or an unknown or taken name (exit 2)."""

    def __init__(self, field: str, expected: str, got: object = None) -> None:
        super().__init__("accounts", field, expected, got)


@dataclass(frozen=True)
class Account:
    """One person's account as every caller sees it (never with its password hash)."""

    name: str
    role: str
    disabled: bool
    must_change_password: bool
    created: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Account:
        name, role, disabled, must_change, created = row
        return cls(str(name), str(role), bool(disabled), bool(must_change), str(created))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "disabled": self.disabled,
                "must_change_password": self.must_change_password, "created": self.created}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError("NAME", NAME_RULE, name)
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError("ROLE", "one of " + ", ".join(ROLES), role)
    return role


def check_password(password: str, field: str = "password") -> str:
    if not password:
        raise AccountError(field, f"a password of at least {MIN_PASSWORD} characters, got an "
                                  "empty one")
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise AccountError(field, f"a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters, "
                                  f"got {len(password)}")
    return password


def store_exists(home: Path | None = None, database: str | None = None) -> bool:
    """Whether the account store was ever created (the file, or the tables in PostgreSQL),
    without creating it: commands that only read must not leave an empty store behind."""
    from engine.paths import database_url, sqlite_home

    url = database_url(database)
    if url is not None:
        from engine.team.postgres import has_schema

        return has_schema(url)
    return team_path(sqlite_home(database, home)).exists()


def open_store(home: Path | None = None, database: str | None = None,
               **options: Any) -> AccountStore | None:
    """The account store when it exists, else None (never creates it)."""
    if not store_exists(home, database):
        return None
    return AccountStore(home, database=database, **options)


def has_accounts(home: Path | None = None, database: str | None = None) -> bool:
    """Whether any account exists, without creating the store: no accounts means the server
    runs in the single-user local mode."""
    store = open_store(home, database)
    if store is None:
        return False
    try:
        return store.any()
    finally:
        store.close()


def acting_account(name: str, action: str, home: Path | None = None,
                   field: str = "--as", database: str | None = None) -> Account:
    """The enabled account `name` when its role may do `action`, for a command that acts in a
    person's name (`review --as NAME`); otherwise the one-line error saying why (exit 2).
    Never creates the store."""
    from engine.team.roles import ACTIONS_TEXT, allowed, roles_allowed

    account = None
    store = open_store(home, database)
    if store is not None:
        try:
            account = store.get(name)
        finally:
            store.close()
    if account is None:
        raise AccountError(field, "the name of an existing account (see `mladvisor users "
                                  "list`)", name)
    if account.disabled:
        raise AccountError(field, "an enabled account", f"{name} (disabled)")
    if not allowed(account.role, action):
        who = " or ".join(roles_allowed(action))
        what = ACTIONS_TEXT.get(action, action)  # type: ignore[call-overload]
        raise AccountError(field, f"an account whose role may {what} ({who})",
                           f"{name} ({account.role})")
    return account


class AccountStore:
    """Accounts, tokens and sessions (created when first opened): in PostgreSQL when a URL is
    given or MLADVISOR_DATABASE is set, else in MLADVISOR_HOME/team.sqlite."""

    def __init__(self, home: Path | None = None, clock: Callable[[], float] | None = None,
                 session_idle: float = SESSION_IDLE, session_max: float = SESSION_MAX,
                 database: str | None = None) -> None:
        from argon2 import PasswordHasher

        from engine.paths import database_url, sqlite_home

        self.home = sqlite_home(database, home)
        url = database_url(database)
        self.db: SqliteTeamDB | PostgresTeamDB
        if url is not None:
            from engine.team.postgres import PostgresTeamDB

            self.db = PostgresTeamDB(url)
        else:
            self.db = SqliteTeamDB(team_path(self.home))
        self.clock = clock or time.time
        self.session_idle = session_idle
        self.session_max = session_max
        self.hasher = PasswordHasher()  # argon2id
        self._dummy: str | None = None

    def close(self) -> None:
        self.db.close()

    def form_secret(self) -> str:
        """The key the web server signs its forms' CSRF tokens with, the same for every app
        process of the team: a form one process rendered is posted to whichever the load
        balancer picks next."""
        return self.db.shared_value("web-form-secret", secrets.token_urlsafe(32))

    # -- accounts -------------------------------------------------------------------------
    def any(self) -> bool:
        return self.db.any_account()

    def add(self, name: str, role: str, password: str | None = None) -> tuple[Account, str | None]:
        """Create an account; without a password, a one-time one (returned, to be shown once)
        that must be changed at first login."""
        check_name(name)
        check_role(role)
        one_time = None
        if password is None:
            one_time = password = secrets.token_urlsafe(12)
        check_password(password)
        if not self.db.insert_account(name, role, self.hasher.hash(password),
                                      one_time is not None, _now_iso()):
            raise AccountError("NAME", "a name no account has yet", name)
        return self.require(name), one_time

    def get(self, name: str) -> Account | None:
        row = self.db.account(name)
        return Account.from_row(row) if row else None

    def require(self, name: str) -> Account:
        """The account, or the one-line error naming an unknown name."""
        account = self.get(name)
        if account is None:
            self.unknown(name)
        return account

    @staticmethod
    def unknown(name: str) -> NoReturn:
        raise AccountError("NAME", "the name of an existing account (see `mladvisor users "
                                   "list`)", name)

    def list(self) -> list[Account]:
        return [Account.from_row(row) for row in self.db.accounts()]

    def disable(self, name: str, disabled: bool = True) -> Account:
        account = self.require(name)
        if not self.db.set_disabled(name, disabled, self._keep(account, disabled, account.role)):
            self._last_manager(name)
        return self.require(name)

    def set_role(self, name: str, role: str) -> Account:
        check_role(role)
        account = self.require(name)
        if not self.db.set_role(name, role, self._keep(account, account.disabled, role)):
            self._last_manager(name)
        return self.require(name)

    @staticmethod
    def _keep(account: Account, disabled: bool, role: str) -> tuple[str, ...]:
        """The roles of which another enabled account must remain when this change takes away
        the account's right to manage accounts; () when it does not."""
        from engine.team.roles import allowed, roles_allowed

        managing = roles_allowed(MANAGE)
        if account.disabled or not allowed(account.role, MANAGE):
            return ()
        return managing if disabled or role not in managing else ()

    @staticmethod
    def _last_manager(name: str) -> NoReturn:
        """Refuse a change that would leave nobody able to manage accounts."""
        from engine.team.roles import roles_allowed

        who = " or ".join(roles_allowed(MANAGE))
        raise AccountError("NAME", f"an account that is not the last enabled {who} (give "
                                   "another account that role first)", name)

    # -- passwords ------------------------------------------------------------------------
    def verify_password(self, name: str, password: str) -> Account | None:
        """The account when `password` is its password and it is not disabled, else None.

        An unknown name costs the same hashing as a known one, so the time a wrong login
        takes does not tell which names exist."""
        from argon2.exceptions import InvalidHashError, VerificationError

        stored = self.db.password_hash(name) if NAME.fullmatch(name) else None
        try:
            ok: bool = self.hasher.verify(stored or self._dummy_hash(), password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            ok = False
        account = self.get(name) if stored else None
        if not ok or stored is None or account is None or account.disabled:
            return None
        if self.hasher.check_needs_rehash(stored):  # stronger defaults since it was set
            self.db.set_password(name, self.hasher.hash(password), account.must_change_password,
                                 keep_sessions=True)
        return account

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def change_password(self, name: str, new_password: str) -> Account:
        """Set a password the person chose; every session of the account ends."""
        check_password(new_password, "new password")
        self.require(name)
        self.db.set_password(name, self.hasher.hash(new_password), must_change=False)
        return self.require(name)

    # -- API tokens -----------------------------------------------------------------------
    def issue_token(self, name: str) -> str:
        """A new API token for scripts (`Authorization: Bearer ...`), replacing the account's
        previous one; only its hash is kept, so it is shown once."""
        self.require(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.db.replace_token(name, _digest(token), _now_iso())
        return token

    def check_token(self, token: str) -> Account | None:
        """The enabled account whose API token this is, else None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = self.db.token_account(_digest(token))
        account = Account.from_row(row) if row else None
        return account if account is not None and not account.disabled else None

    # -- sessions -------------------------------------------------------------------------
    def start_session(self, name: str) -> str:
        """A new session id for the browser's cookie (stored only as its hash)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        self.db.delete_sessions_before(now - self.session_idle, now - self.session_max)
        self.db.insert_session(_digest(session_id), name, now)
        return session_id

    def session(self, session_id: str) -> Account | None:
        """The enabled account of a live session, else None (an expired one is ended)."""
        if not session_id or len(session_id) > 100:
            return None
        key = _digest(session_id)
        found = self.db.session(key)
        if found is None:
            return None
        row, started, last_seen = found
        now = self.clock()
        if now - last_seen >= self.session_idle or now - started >= self.session_max:
            self.db.delete_session(key)
            return None
        if now - last_seen > 60:  # one write a minute per session is enough for the idle limit
            self.db.touch_session(key, now)
        account = Account.from_row(row)
        return None if account.disabled else account

    def end_session(self, session_id: str) -> None:
        self.db.delete_session(_digest(session_id))

