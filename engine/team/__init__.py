"""The team service: accounts, roles, sessions (issue 16).

`roles.py` is the one table of what each role may do; `accounts.py` the account store
(`MLADVISOR_HOME/team.sqlite`, its SQL in `sqlite.py`).
"""

from __future__ import annotations

from engine.team.roles import ACTIONS, ROLES, Action, Role, allowed, refusal

__all__ = ["ACTIONS", "ROLES", "Action", "Role", "allowed", "refusal"]
