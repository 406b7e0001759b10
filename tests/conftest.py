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
