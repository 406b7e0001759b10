"""The account store itself: passwords, sessions and their expiry, on a real team.sqlite and on
a real PostgreSQL database (each test runs on both: the `database` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.team.accounts import AccountError, AccountStore, has_accounts
from tests.pgdb import store_created

pytestmark = pytest.mark.usefixtures("database")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(home: Path, clock: Clock) -> AccountStore:
    s = AccountStore(home, clock=clock, session_idle=100.0, session_max=1000.0)
    yield s  # type: ignore[misc]
    s.close()


def test_has_accounts_never_creates_the_store(home: Path, database: str | None) -> None:
    assert not has_accounts(home) and not store_created(home, database)
    store = AccountStore(home)
    assert store_created(home, database)
    assert not has_accounts(home)
    store.add("ada", "admin")
    assert has_accounts(home)
    store.close()


def test_wrong_and_unknown_names_and_passwords(store: AccountStore) -> None:
    store.add("ada", "admin", "right-password")
    assert store.verify_password("ada", "wrong-password") is None
    assert store.verify_password("bob", "right-password") is None
    assert store.verify_password("Not A Name", "right-password") is None
    assert store.verify_password("ada", "right-password") is not None


def test_sessions_end_when_idle_too_long(store: AccountStore, clock: Clock) -> None:
    store.add("ada", "admin", "right-password")
    session = store.start_session("ada")
    clock.now += 99
    assert store.session(session) is not None  # the use renews the idle limit
    clock.now += 99
    assert store.session(session) is not None
    clock.now += 100
    assert store.session(session) is None
    clock.now -= 100
    assert store.session(session) is None  # ended for good, not merely hidden


def test_sessions_end_after_their_longest_life_however_used(store: AccountStore,
                                                           clock: Clock) -> None:
    store.add("ada", "admin", "right-password")
    session = store.start_session("ada")
    for _ in range(14):  # 980 s since login, each use within the idle limit
        clock.now += 70
        assert store.session(session) is not None
    clock.now += 70  # 1,050 s since login
    assert store.session(session) is None


def test_end_session_and_unknown_ids(store: AccountStore) -> None:
    store.add("ada", "admin", "right-password")
    session = store.start_session("ada")
    other = store.start_session("ada")
    store.end_session(session)
    assert store.session(session) is None and store.session(other) is not None
    assert store.session("") is None and store.session("x" * 500) is None


def test_change_password_clears_the_demand_and_ends_sessions(store: AccountStore) -> None:
    account, one_time = store.add("sam", "stakeholder")
    assert account.must_change_password and one_time
    session = store.start_session("sam")
    with pytest.raises(AccountError, match="new password"):
        store.change_password("sam", "")
    changed = store.change_password("sam", "a-new-password")
    assert not changed.must_change_password
    assert store.session(session) is None
    assert store.verify_password("sam", one_time) is None
    assert store.verify_password("sam", "a-new-password") == changed


def test_a_weaker_hash_is_upgraded_at_login(home: Path) -> None:
    from argon2 import PasswordHasher

    store = AccountStore(home)
    store.hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    store.add("ada", "admin", "right-password")
    weak = store.db.password_hash("ada")
    store.hasher = PasswordHasher()
    assert store.verify_password("ada", "right-password") is not None
    stronger = store.db.password_hash("ada")
    assert stronger != weak and not store.hasher.check_needs_rehash(stronger or "")
    store.close()


def test_acting_account_for_commands_in_a_persons_name(home: Path, database: str | None) -> None:
    from engine.team.accounts import acting_account

    with pytest.raises(AccountError, match="existing account") as missing:
        acting_account("ann", "review", home)
    assert missing.value.exit_code == 2 and not store_created(home, database)
    store = AccountStore(home)
    store.add("ann", "architect")
    store.add("sam", "stakeholder")
    store.add("old", "architect")
    store.disable("old")
    store.close()
    assert acting_account("ann", "review", home).role == "architect"
    with pytest.raises(AccountError) as wrong_role:
        acting_account("sam", "review", home)
    assert str(wrong_role.value) == ("accounts: --as: an account whose role may review an "
                                     "assessment (approve, request changes, comment) "
                                     "(architect), got sam (stakeholder)")
    with pytest.raises(AccountError, match="enabled account, got old"):
        acting_account("old", "review", home)
    with pytest.raises(AccountError, match=r"existing account .*, got nobody"):
        acting_account("nobody", "review", home)


def test_the_last_enabled_admin_is_neither_disabled_nor_demoted(store: AccountStore) -> None:
    store.add("root", "admin", "right-password")
    store.add("sam", "stakeholder", "right-password")
    session = store.start_session("root")
    for change in (lambda: store.disable("root"), lambda: store.set_role("root", "architect")):
        with pytest.raises(AccountError) as refused:
            change()
        assert str(refused.value) == ("accounts: NAME: an account that is not the last "
                                      "enabled admin (give another account that role first), "
                                      "got root")
        assert refused.value.exit_code == 2
    root = store.require("root")
    assert root.role == "admin" and not root.disabled
    assert store.session(session) is not None  # the refused disabling ended nothing
    assert store.disable("sam").disabled and store.set_role("sam", "admin").role == "admin"
    with pytest.raises(AccountError):  # a disabled admin does not count
        store.disable("root")
    store.disable("sam", disabled=False)
    assert store.set_role("root", "architect").role == "architect"  # sam remains
    with pytest.raises(AccountError):
        store.disable("sam")
    assert store.set_role("root", "admin").role == "admin"
    assert store.disable("root").disabled  # sam still manages
    store.disable("root", disabled=False)
