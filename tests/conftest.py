"""Shared fixtures: an isolated MLADVISOR_HOME per test, and the repository's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Never touch the real ~/.mladvisor from a test."""
    home = tmp_path_factory.mktemp("mladvisor-home")
    monkeypatch.setenv("MLADVISOR_HOME", str(home))
    return home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLADVISOR_HOME under the test's own folder, with no signing key and no
    replayed rule base carried in from the environment (web tests keep their own)."""
    monkeypatch.setenv("MLADVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLADVISOR_AUDIT_KEY", raising=False)
    monkeypatch.delenv("MLADVISOR_RULEBASE", raising=False)
    return tmp_path / "home"
