"""Web front-end benchmark: latency of each page under a few concurrent users.

A real uvicorn server on a free loopback port, a throw-away MLADVISOR_HOME, and N client
threads each walking a person's path: open the form, submit it, view the result and the
embedded report, list past assessments. Figures are printed, never asserted (target: a form
submission, which assesses and appends to the audit log, in under 1 s at p95 with 4 users).

    python bench/bench_web.py            # 4 users x 25 paths
    python bench/bench_web.py --quick    # 2 users x 5 paths
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FORM = {
    "project__name": "Bench project",
    "project__respondent": "Bench, Ops",
    "business__problem_statement": "Route incoming tickets to the right team",
    "business__objective_measurable": "yes",
    "business__kpi": "median time to first response",
    "business__success_criteria-0-metric": "f1_macro",
    "business__success_criteria-0-threshold": "0.85",
    "business__success_criteria-0-goal": "at-least",
    "problem__task": "text-classification",
    "data__available": "yes",
    "data__labeled_examples": "12000",
    "team__ml_expertise": "basic",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def walk(base: str, timings: dict[str, list[float]], lock: threading.Lock) -> None:
    """One person's path through the pages, each step timed."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        def timed(label: str, call):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - start
            assert response.status_code in (200, 303), (label, response.status_code)
            with lock:
                timings[label].append(elapsed)
            return response

        form = timed("GET /", lambda: client.get("/"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        posted = timed("POST /assess", lambda: client.post(
            "/assess", data={"csrf_token": token, **FORM}))
        location = posted.headers["location"]
        timed("GET result", lambda: client.get(location))
        timed("GET report.html", lambda: client.get(location + "/report.html"))
        timed("GET /assessments", lambda: client.get("/assessments"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    users, paths = (2, 5) if args.quick else (4, 25)

    import uvicorn

    from engine.web import Settings, create_app

    home = Path(tempfile.mkdtemp(prefix="mladvisor-bench-web-"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(home=home)), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    walk(base, defaultdict(list), lock)  # warm up: first render loads templates and fonts
    started = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        for future in [pool.submit(walk, base, timings, lock) for _ in range(paths)]:
            future.result()
    wall = time.perf_counter() - started
    server.should_exit = True
    thread.join(10)

    print(f"{users} users, {paths} paths in {wall:.2f} s ({paths / wall:.1f} paths/s)")
    for label, values in timings.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
        print(f"  {label:<18} n={len(values):>3}  p50 {statistics.median(values) * 1000:7.1f} ms"
              f"  p95 {p95 * 1000:7.1f} ms  max {values[-1] * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
