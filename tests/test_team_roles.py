"""The role table: complete, consistent, the README's copy equal to it, refusals plain."""

from __future__ import annotations

import re

import pytest

from engine.team.roles import (
    ACTIONS,
    ACTIONS_TEXT,
    PERMISSIONS,
    ROLES,
    allowed,
    permission_table,
    refusal,
    roles_allowed,
)
from tests.conftest import ROOT


def test_every_role_and_action_is_in_the_table() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    assert set(ACTIONS_TEXT) == set(ACTIONS)
    for role, actions in PERMISSIONS.items():
        assert actions <= set(ACTIONS), role


def test_every_action_is_someones_and_duties_are_separate() -> None:
    for action in ACTIONS:
        assert roles_allowed(action), f"no role may {action}"
    assert roles_allowed("assess") == ("stakeholder",)
    assert roles_allowed("review") == ("architect",)
    assert roles_allowed("manage-users") == ("admin",)
    assert set(roles_allowed("verify-log")) == {"compliance"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_allowed_follows_the_table(role: str, action: str) -> None:
    assert allowed(role, action) is (action in PERMISSIONS[role])  # type: ignore[index]


def test_unknown_role_or_action_may_nothing() -> None:
    assert not allowed("root", "view")
    assert not allowed("admin", "delete-everything")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_refusal_is_one_plain_sentence_naming_who_may(role: str, action: str) -> None:
    text = refusal(role, action)
    assert "\n" not in text and text.endswith(".")
    assert f"({role})" in text and ACTIONS_TEXT[action] in text  # type: ignore[index]
    for other in ROLES:
        assert (re.search(rf"\b{other}\b", text.split(";")[1]) is not None) == \
            allowed(other, action)


def test_readme_table_is_the_code_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- roles:begin -->\n(.*?)<!-- roles:end -->", readme, re.S)
    assert found is not None, "README.md lacks the role table between its markers"
    assert found.group(1) == permission_table(), (
        "README.md's role table differs from engine/team/roles.py; paste in "
        "engine.team.roles.permission_table()")
