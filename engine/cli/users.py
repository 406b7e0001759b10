"""`mladvisor users`: the team's accounts (MLADVISOR_HOME/team.sqlite, or the PostgreSQL
database MLADVISOR_DATABASE names).

Whoever can run this command on the server's machine manages the accounts: it is how the first
admin is made. Secrets go to standard output alone (one line, for a script to capture); what
happened goes to standard error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from engine.cli._common import CONTEXT, format_option, say
from engine.team.roles import ROLES
from engine.util.text import for_terminal

MAX_STDIN_PASSWORD = 4096  # bytes read from standard input for --password-stdin


@contextmanager
def _store(create: bool = False) -> Iterator[Any]:
    """The account store; only `add` creates it (a mistyped name must not leave a file)."""
    from engine.team.accounts import AccountStore, open_store

    store = AccountStore() if create else open_store()
    if store is None:
        yield None
        return
    try:
        yield store
    finally:
        store.close()


def _existing(store: Any, name: str) -> Any:
    """The store, or the unknown-name error when there is none yet."""
    if store is None:
        from engine.team.accounts import AccountStore

        AccountStore.unknown(name)
    return store


def _status(account: Any) -> str:
    if account.disabled:
        return "disabled"
    return "must change password" if account.must_change_password else "active"


@click.group(context_settings=CONTEXT)
def users() -> None:
    """Manage the team's accounts: who may log in to `mladvisor serve`, and with which role.

    Once one account exists, `mladvisor serve` asks everyone to log in; each role may do what
    the README's role table says (stakeholder, architect, compliance, admin). The accounts are
    in MLADVISOR_HOME, or in the PostgreSQL database MLADVISOR_DATABASE names (the one given
    to `serve --database`).

    \b
    Example:
        mladvisor users add ada --role admin
        mladvisor users list
    """


@users.command(context_settings=CONTEXT)
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="What the account may do (see the README's role table).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input. Without it, a "
                   "one-time password is printed, to be changed at first login.")
def add(name: str, role: str, password_stdin: bool) -> None:
    """Create an account. Accounts are never deleted (only disabled), so a name in the audit
    log always names one person.

    \b
    Example:
        mladvisor users add ada --role admin
        printf '%s\\n' "$PASSWORD" | mladvisor users add sam --role stakeholder --password-stdin
    """
    from engine.team.accounts import check_name, check_password

    check_name(name)
    password = check_password(_stdin_password()) if password_stdin else None
    with _store(create=True) as store:
        account, one_time = store.add(name, role, password)
    say(f"mladvisor: account {account.name!r} created with role {account.role}")
    if one_time is not None:
        say("mladvisor: its one-time password (shown once; it must be changed at first login):")
        click.echo(one_time)


def _stdin_password() -> str:
    data = sys.stdin.buffer.read(MAX_STDIN_PASSWORD + 1)
    if len(data) > MAX_STDIN_PASSWORD:
        from engine.team.accounts import AccountError

        raise AccountError("password", f"one line of at most {MAX_STDIN_PASSWORD} bytes on "
                                       "standard input")
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[0] if lines else ""


@users.command(name="list", context_settings=CONTEXT)
@format_option(["text", "json"], "text")
def list_(fmt: str) -> None:
    """List the accounts: name, role, status and when each was created.

    \b
    Example:
        mladvisor users list
        mladvisor users list --format json
    """
    with _store() as store:
        accounts = store.list() if store is not None else []
    if fmt == "json":
        click.echo(json.dumps([a.as_dict() for a in accounts], indent=2, ensure_ascii=False))
        return
    if not accounts:
        say("mladvisor: no accounts yet: `mladvisor serve` runs in single-user local mode "
            "(create the first admin with `mladvisor users add NAME --role admin`)")
        return
    rows = [("NAME", "ROLE", "STATUS", "CREATED")] + [
        (a.name, a.role, _status(a), a.created) for a in accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo(for_terminal("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                                + "  " + row[3]))


@users.command(context_settings=CONTEXT)
@click.argument("name")
def disable(name: str) -> None:
    """Disable an account: it can no longer log in, and its sessions and API token stop
    working at once.

    \b
    Example:
        mladvisor users disable sam
    """
    with _store() as store:
        _existing(store, name).disable(name)
    say(f"mladvisor: account {name!r} disabled")


@users.command(context_settings=CONTEXT)
@click.argument("name")
def enable(name: str) -> None:
    """Enable a disabled account again (its old sessions stay ended).

    \b
    Example:
        mladvisor users enable sam
    """
    with _store() as store:
        _existing(store, name).disable(name, disabled=False)
    say(f"mladvisor: account {name!r} enabled")


@users.command(name="set-role", context_settings=CONTEXT)
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES), metavar="ROLE")
def set_role(name: str, role: str) -> None:
    """Change an account's role; it applies to the account's next request.

    \b
    Example:
        mladvisor users set-role sam architect
    """
    with _store() as store:
        account = _existing(store, name).set_role(name, role)
    say(f"mladvisor: account {account.name!r} now has role {account.role}")


@users.command(context_settings=CONTEXT)
@click.argument("name")
def token(name: str) -> None:
    """Print a new API token for scripts (send it as `Authorization: Bearer TOKEN`). It
    replaces the account's previous token, and is shown only this once.

    \b
    Example:
        mladvisor users token ci-bot > ~/.config/mladvisor-token
    """
    with _store() as store:
        issued = _existing(store, name).issue_token(name)
    say(f"mladvisor: new API token for {name!r} (shown once; the previous one no longer works):")
    click.echo(issued)
