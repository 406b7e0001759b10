"""Two `mladvisor serve --database URL` processes on one PostgreSQL database, as behind a load
balancer: a login made on one is valid on the other (and so are its forms), assessments sent
to both at once all land in one chain, and `mladvisor audit verify` passes with the exact
count."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg_fixtures import fresh_database
from tests.serve_process import serving
from tests.test_web import VALID
from tests.test_web_team import LOGIN_COOKIE

pytestmark = pytest.mark.slow

PER_SERVER = 6  # assessments sent to each server, three scripts at a time


def mladvisor(home: Path, url: str, *args: str,
              stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MLADVISOR_HOME": str(home),
                               "MLADVISOR_DATABASE": url})


def csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


@pytest.fixture()
def two_servers(pg_server: str, tmp_path: Path) -> Any:
    url = fresh_database(pg_server)
    home = tmp_path / "home"
    for name, role in (("sam", "stakeholder"), ("carla", "compliance")):
        done = mladvisor(home, url, "users", "add", name, "--role", role, "--password-stdin",
                         stdin=f"{name}-password\n")
        assert done.returncode == 0, done.stderr
    with serving(home, "--database", url) as first, serving(home, "--database", url) as second:
        assert first != second
        yield {"url": url, "home": home, "servers": (first, second)}


def test_a_login_on_one_server_is_valid_on_the_other(two_servers: dict[str, Any]) -> None:
    first, second = two_servers["servers"]
    with httpx.Client(base_url=first) as a:
        logged = a.post("/login", data={"csrf_token": csrf(a, "/login"), "name": "sam",
                                        "password": "sam-password", "next": ""})
        assert logged.status_code == 303
        cookies = dict(a.cookies)
        form_token = csrf(a, "/")  # a form the first server rendered ...
    assert LOGIN_COOKIE in cookies
    with httpx.Client(base_url=second, cookies=cookies) as b:
        page = b.get("/")
        assert page.status_code == 200
        assert 'sam <span class="role">(stakeholder)</span>' in page.text
        done = b.post("/assess", data={"csrf_token": form_token, **VALID})  # ... sent to B
        assert done.status_code == 303, done.text[:300]
        assert done.headers["location"].startswith("/assessments/")
        out = b.post("/logout", data={"csrf_token": form_token})
        assert out.status_code == 303
    with httpx.Client(base_url=first, cookies=cookies) as a:  # logged out everywhere
        assert a.get("/").status_code == 303


def test_assessments_through_both_servers_at_once_form_one_verified_chain(
        two_servers: dict[str, Any]) -> None:
    home, url = two_servers["home"], two_servers["url"]
    token = mladvisor(home, url, "users", "token", "sam").stdout.strip()
    assert token.startswith("mla_")
    ids: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def send(server: str) -> None:
        with httpx.Client(base_url=server, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as script:
            for _ in range(PER_SERVER // 3):
                done = script.post("/assess", data=VALID)
                with lock:
                    if done.status_code == 303:
                        ids.append(done.headers["location"].rsplit("/", 1)[1])
                    else:
                        failures.append(f"{server}: {done.status_code} {done.text[:200]}")

    threads = [threading.Thread(target=send, args=(server,))
               for server in two_servers["servers"] for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert failures == []
    assert len(ids) == len(set(ids)) == 2 * PER_SERVER
    verified = mladvisor(home, url, "audit", "verify", "--format", "json")
    assert verified.returncode == 0, verified.stderr
    summary = json.loads(verified.stdout)
    assert summary["records"] == 2 * PER_SERVER, summary
    listed = mladvisor(home, url, "audit", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(r["record_id"] for r in json.loads(listed.stdout)) == sorted(ids)


def test_off_loopback_the_database_needs_accounts_and_never_shows_its_password(
        pg_server: str, tmp_path: Path) -> None:
    """Without accounts the local mode's rule holds (no public address without a token); with
    them, `serve --host 0.0.0.0 --database URL` is what each process behind a balancer runs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(fresh_database(pg_server))
    url = urlunsplit(parts._replace(netloc=f"{parts.username}:s3cret-pw@"))  # trust: ignored
    home = tmp_path / "home"
    refused = mladvisor(home, url, "serve", "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 2
    assert "refusing to serve on 0.0.0.0 without an access token" in refused.stderr
    added = mladvisor(home, url, "users", "add", "root", "--role", "admin", "--password-stdin",
                      stdin="root-password\n")
    assert added.returncode == 0, added.stderr
    log = tmp_path / "serve.log"
    with serving(home, "--host", "0.0.0.0", "--database", url, log=log) as base:
        assert httpx.get(base + "/").headers["location"] == "/login"
    said = log.read_text()
    assert "(log in with an account)" in said and "s3cret-pw" not in said
    assert f"accounts and the audit log are in {parts.scheme}://{parts.username}@" in said
