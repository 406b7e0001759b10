"""The compiled report template is cached between processes (Jinja2's private per-user
directory) and the cache never changes a report: a fresh, a cached and a damaged cache all
give the same HTML bytes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "report" / "decision-sample.json"
CODE = ("import json, sys, hashlib; from engine.report import render_html; "
        "print(hashlib.sha256(render_html(json.load(open(sys.argv[1])))).hexdigest())")


def _render(tmp: Path) -> str:
    env = {**os.environ, "TMPDIR": str(tmp)}
    out = subprocess.run([sys.executable, "-c", CODE, str(SAMPLE)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env=env)
    return out.stdout.strip()


def test_cached_and_damaged_template_caches_render_the_same_bytes(tmp_path: Path) -> None:
    first = _render(tmp_path)
    # the report's template and the ones it includes (the sign-off); the report's is largest
    cache = max(tmp_path.glob("_jinja2-cache-*/*.cache"), key=lambda p: p.stat().st_size)
    assert cache.stat().st_size > 1000
    assert _render(tmp_path) == first
    cache.write_bytes(cache.read_bytes()[:40])  # cut short: reading it fails, compiling works
    assert _render(tmp_path) == first
    cache.write_bytes(b"not a cache")
    assert _render(tmp_path) == first == _in_process()


def test_an_unusable_cache_directory_only_means_compiling(tmp_path: Path) -> None:
    (tmp_path / f"_jinja2-cache-{os.getuid()}").write_text("a file where the folder goes")
    assert _render(tmp_path) == _in_process()
    assert [p.name for p in tmp_path.iterdir()] == [f"_jinja2-cache-{os.getuid()}"]


def _in_process() -> str:
    from engine.report import render_html

    return hashlib.sha256(render_html(json.loads(SAMPLE.read_text(encoding="utf-8")))
                          ).hexdigest()
