"""Who may record a review, and with which role: the one place `mladvisor review --as NAME`
(and later the web) asks.

With accounts (engine.team.accounts), NAME must be an active account whose role may review
(the `review` action of engine.team.roles); the role recorded is the account's. Without any
account at all - the single-user local mode, where whoever runs mladvisor on this machine is
every role, as the local web page treats them - NAME is recorded as given, with the role
`architect` and `account: false` in the review, so that the log never claims an account
vouched for it. Once one account exists, a name without one is refused: a team's log then
holds only reviews by its accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.model.vocab import LOCAL_REVIEWER_ROLE

REVIEW_ACTION = "review"  # the action of the role table (engine.team.roles) a review needs


@dataclass(frozen=True)
class Reviewer:
    name: str
    role: str
    account: bool  # an account of the store vouched for the name


def reviewer(name: str, home: Path | None = None, database: str | None = None) -> Reviewer:
    """The reviewer NAME stands for, or an InputError (exit 2) naming why NAME may not review.
    The accounts are those of `database` (else MLADVISOR_DATABASE, else MLADVISOR_HOME)."""
    from engine.team.accounts import open_store
    from engine.team.roles import allowed, refusal

    store = open_store(home, database)
    if store is None:
        return Reviewer(name=name, role=LOCAL_REVIEWER_ROLE, account=False)
    try:
        if not store.any():
            return Reviewer(name=name, role=LOCAL_REVIEWER_ROLE, account=False)
        account = store.get(name.strip())
    finally:
        store.close()
    if account is None:
        raise InputError("review", "--as", "the name of an account (see `mladvisor users"
                         " list`): accounts exist, so reviews are recorded by account", name)
    if account.disabled:
        raise InputError("review", "--as", "an active account (this one is disabled)", name)
    if not allowed(account.role, REVIEW_ACTION):
        raise InputError("review", "--as", refusal(account.role, REVIEW_ACTION), name)
    return Reviewer(name=account.name, role=account.role, account=True)
