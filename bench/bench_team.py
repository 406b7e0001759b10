"""Accounts benchmark: what a login costs, and what checking the person costs on every request.

Prints argon2id's hash and verify times (the price of a login, paid in a worker thread) and
the time of one page (GET /assessments) in the local mode, with a login session and with an
API token, measured in interleaved rounds in one process (TestClient, no network) so the
ratios compare like with like. Figures only, never asserted.

    python bench/bench_team.py            # 300 requests per mode, 7 hashes
    python bench/bench_team.py --quick    # 60 requests per mode, 3 hashes
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def argon2_figures(rounds: int) -> tuple[float, float]:
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    hashes, verifies = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        stored = hasher.hash("a-password-of-some-length")
        hashes.append(time.perf_counter() - start)
        start = time.perf_counter()
        hasher.verify(stored, "a-password-of-some-length")
        verifies.append(time.perf_counter() - start)
    return _median_ms(hashes), _median_ms(verifies)


def clients(root: Path) -> dict[str, Any]:
    """A local-mode client and a team server's session and token clients, on equal logs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from engine.team.accounts import AccountStore
    from engine.web import Settings, create_app

    local_home, team_home = root / "local", root / "team"
    local = TestClient(create_app(Settings(home=local_home)), base_url="http://127.0.0.1")
    store = AccountStore(team_home)
    store.add("sam", "stakeholder", "bench-password")
    token = store.issue_token("sam")
    store.close()
    app = create_app(Settings(home=team_home))
    session = TestClient(app, base_url="http://127.0.0.1")
    page = session.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    session.post("/login", data={"csrf_token": csrf.group(1), "name": "sam",
                                 "password": "bench-password"})
    bearer = TestClient(app, base_url="http://127.0.0.1",
                        headers={"Authorization": f"Bearer {token}"})
    return {"local": local, "session": session, "token": bearer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    requests, hashes = (60, 3) if args.quick else (300, 7)

    hash_ms, verify_ms = argon2_figures(hashes)
    print(f"argon2id (argon2-cffi defaults): hash {hash_ms:.1f} ms, verify {verify_ms:.1f} ms "
          f"(median of {hashes})")
    with tempfile.TemporaryDirectory() as tmp:
        modes = clients(Path(tmp))
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        for mode, client in modes.items():  # warm up: templates, the log, the store
            assert client.get("/assessments").status_code == 200, mode
        for _ in range(requests):
            for mode, client in modes.items():
                start = time.perf_counter()
                response = client.get("/assessments")
                times[mode].append(time.perf_counter() - start)
                assert response.status_code == 200, (mode, response.status_code)
        base = statistics.median(times["local"])
        for mode, samples in times.items():
            ratio = statistics.median(samples) / base
            print(f"GET /assessments, {mode:<7}: median {_median_ms(samples):.2f} ms, "
                  f"p95 {statistics.quantiles(samples, n=20)[-1] * 1000:.2f} ms, "
                  f"{ratio:.2f}x local ({requests} requests)")
        for client in modes.values():
            client.app.state.web.assessor.close()


if __name__ == "__main__":
    main()
