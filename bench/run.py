"""Run every benchmark in bench/ and print its figures (pass --quick for small sizes), then the
targets of issue 15 that the benchmarks checked, as one table (bench/targets.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from targets import PREFIX  # noqa: E402 - bench/targets.py, beside this script


def run(script: Path, extra: list[str]) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its output as it comes; its exit code and TARGET lines."""
    found = []
    with subprocess.Popen([sys.executable, str(script), *extra], cwd=HERE.parent,
                          stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith(PREFIX):
                found.append(line[len(PREFIX):].rstrip())
    return process.returncode, found


if __name__ == "__main__":
    extra = sys.argv[1:]
    failed, targets = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        code, found = run(script, extra)
        targets += [f"{script.name}: {line}" for line in found]
        if code:
            failed.append(script.name)
    if targets:
        met = sum(1 for line in targets if " met" in line and "NOT MET" not in line)
        print(f"\n== targets: {met} of {len(targets)} met")
        for line in targets:
            print(f"  {line}")
    if failed:
        print("failed: " + ", ".join(failed))
        sys.exit(1)
