"""Behind a reverse proxy every request comes from the proxy's address: `serve --trusted-proxy`
lets the proxy name the client (X-Forwarded-For), so the login limit locks out the one client
guessing passwords, not everyone; without it the header is ignored, so a client cannot claim
another address to dodge the limit. A real `mladvisor serve` process over real HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from click.testing import CliRunner

from engine.cli import cli
from tests.serve_process import serving
from tests.test_web_team import PASSWORD, make_accounts

ATTACKER, SOMEONE = "203.0.113.5", "198.51.100.7"


def _login(url: str, name: str, password: str, forwarded_for: str) -> int:
    """One login with a fresh form (its CSRF cookie and token), as a browser behind the proxy."""
    with httpx.Client(base_url=url, headers={"x-forwarded-for": forwarded_for}) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text[:300]
        return client.post("/login", data={"csrf_token": token.group(1), "name": name,
                                           "password": password, "next": ""}).status_code


def _guess(url: str) -> list[int]:
    """Wrong passwords for different names (so only the address limit counts) from ATTACKER."""
    return [_login(url, f"nobody-{i}", "wrong-password", ATTACKER) for i in range(7)]


def test_a_trusted_proxy_names_the_client_the_limit_counts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_accounts(home, "stakeholder")
    with serving(home, "--trusted-proxy", "127.0.0.0/8") as url:
        assert _guess(url)[-1] == 429  # the guessing client is locked out
        assert _login(url, "stakeholder", PASSWORD, SOMEONE) in (200, 303)  # not the others


def test_without_a_trusted_proxy_the_header_is_ignored(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_accounts(home, "stakeholder")
    with serving(home) as url:
        assert _guess(url)[-1] == 429
        # every request really came from 127.0.0.1, whatever the header claims
        assert _login(url, "stakeholder", PASSWORD, SOMEONE) == 429


def test_a_bad_proxy_address_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--trusted-proxy", "10.0.0.300"],
                                env={"MLADVISOR_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "--trusted-proxy" in result.output and "10.0.0.300" in result.output
    assert "Traceback" not in result.output
