"""`mladvisor serve` as a process of its own, as a deployment runs it (several of them behind a
load balancer share one PostgreSQL database): started on a free port, stopped with its group."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVING = re.compile(r"serving the questionnaire on (http://\S+?)/?(?:\s|$)")


def _started(process: subprocess.Popen[bytes], log: Path) -> str:
    """The base URL once the server answers (it announces the URL just before it listens)."""
    import httpx

    deadline = time.monotonic() + 60
    url = None
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, "serve did not start: " + log.read_text()
        if url is None:
            found = SERVING.search(log.read_text(errors="replace"))
            url = found.group(1) if found else None
        if url is not None:
            try:
                if httpx.get(url + "/favicon.ico", timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.1)


@contextmanager
def serving(home: Path, *args: str, log: Path | None = None) -> Iterator[str]:
    """Run `mladvisor serve --port 0 ARGS` with MLADVISOR_HOME=home; yield its base URL."""
    log = log or home.parent / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--port", "0", *args],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MLADVISOR_HOME": str(home)})
    try:
        yield _started(process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
