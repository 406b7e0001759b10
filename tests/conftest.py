"""Shared fixtures: an isolated MLADVISOR_HOME per test, and the repository's paths; and no test
is ever skipped: a skip (a missing module, browser or system library) is reported as a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# PostgreSQL fixtures for the tests that run on both stores: pg_server, pg_url, backend (the
# log's tests), database and module_database (the team's, giving the URL)
pytest_plugins = ["tests.pg_fixtures", "tests.pgdb"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# examples/expected.yaml holds the architect's expected decisions, not an answers file
EXAMPLE_ANSWERS = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "expected.yaml")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Never touch the real ~/.mladvisor (nor a team's database) from a test."""
    home = tmp_path_factory.mktemp("mladvisor-home")
    monkeypatch.setenv("MLADVISOR_HOME", str(home))
    monkeypatch.delenv("MLADVISOR_DATABASE", raising=False)  # SQLite unless a test says so
    return home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MLADVISOR_HOME under the test's own folder, with no signing key and no
    replayed rule base carried in from the environment (web tests keep their own)."""
    monkeypatch.setenv("MLADVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLADVISOR_AUDIT_KEY", raising=False)
    monkeypatch.delenv("MLADVISOR_RULEBASE", raising=False)
    return tmp_path / "home"


def _skip_is_failure(report: Any) -> None:
    """A skipped test proves nothing and hides a broken machine: fail it, keeping the reason."""
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"skipped, which mladvisor's suite does not allow: {reason}\n"
                           "(system packages come from scripts/system-deps)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport() -> Iterator[None]:
    outcome: Any = yield
    _skip_is_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report() -> Iterator[None]:
    outcome: Any = yield
    _skip_is_failure(outcome.get_result())


# Debian's Chromium, driven by Playwright (the browser tests never skip: system-deps installs it).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: run scripts/system-deps (it installs Debian's chromium); "
        "the browser tests never skip")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $MLADVISOR_SCREENSHOTS when set (to look at them), else tmp."""
    import os

    target = Path(os.environ.get("MLADVISOR_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target
