"""What each role may do: the one table the web, the command line and the README read.

A role is a kind of person on the team, not a rank: a stakeholder answers the questionnaire and
brings evidence, an architect reviews, compliance reads everything and checks the log, an admin
manages the accounts. Every page or command that acts for a person names one `Action` and asks
`allowed(role, action)`; a refusal is `refusal(role, action)`, one plain sentence. A new action
is added to `Action` (engine/model/vocab.py, with the other vocabularies), `ACTIONS_TEXT` and
`PERMISSIONS` together (a test checks the three agree,
and tries every role against every route that names an action).
"""

from __future__ import annotations

from engine.model.vocab import ACTIONS, ROLES, Action, Role

__all__ = ["ACTIONS", "ACTIONS_TEXT", "PERMISSIONS", "ROLES", "Action", "Role", "allowed",
           "permission_table", "refusal", "roles_allowed"]

# What an action lets a person do, as the refusal and the README say it ("may not ...").
ACTIONS_TEXT: dict[Action, str] = {
    "assess": "answer the questionnaire and create assessments",
    "upload-evidence": "upload benchmark and drift evidence",
    "view": "read assessments, their reports and answers",
    "review": "review an assessment (approve, request changes, comment)",
    "verify-log": "verify the audit log",
    "export-log": "export the audit log",
    "replay": "replay recorded decisions",
    "manage-users": "manage accounts",
}

# The table. Roles are separate duties: the person who assesses does not approve, the person
# who approves does not manage who may approve.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    "stakeholder": frozenset({"assess", "upload-evidence", "view"}),
    "architect": frozenset({"view", "review"}),
    "compliance": frozenset({"view", "verify-log", "export-log", "replay"}),
    "admin": frozenset({"view", "manage-users"}),
}


def allowed(role: str, action: str) -> bool:
    """Whether `role` may do `action`; an unknown role or action may do nothing."""
    return action in PERMISSIONS.get(role, frozenset())  # type: ignore[call-overload]


def roles_allowed(action: str) -> tuple[str, ...]:
    """The roles that may do `action`, in the table's order."""
    return tuple(role for role in ROLES if allowed(role, action))


def refusal(role: str, action: str) -> str:
    """The plain sentence shown when `role` may not do `action`, naming who may."""
    what = ACTIONS_TEXT.get(action, action)  # type: ignore[call-overload]
    who = roles_allowed(action)
    names = ", ".join(who[:-1]) + " or " + who[-1] if len(who) > 1 else "".join(who)
    may = f"only {names} accounts may" if who else "no account may"
    return f"Your account's role ({role}) may not {what}; {may}."


def permission_table() -> str:
    """The table as Markdown (the README's copy is checked against this by a test)."""
    lines = ["| action | lets a person | " + " | ".join(ROLES) + " |",
             "|---|---|" + "---|" * len(ROLES)]
    for action in ACTIONS:
        marks = " | ".join("yes" if allowed(role, action) else "—" for role in ROLES)
        what = ACTIONS_TEXT[action]  # type: ignore[index]
        lines.append(f"| `{action}` | {what} | {marks} |")
    return "\n".join(lines) + "\n"


__all__ = ["ACTIONS", "ACTIONS_TEXT", "PERMISSIONS", "ROLES", "Action", "Role", "allowed",
           "permission_table", "refusal", "roles_allowed"]
