"""How often mladvisor gives the answer a reviewing architect would sign.

bench/architect/ holds realistic projects whose expected answers an AWS ML architect wrote
*before* anyone ran mladvisor on them (expected.yaml: verdict, rung, service, method, answers
also acceptable, what the report must and must not say; optional `benchmarks:` and `drift:`
evidence files, relative to the case folder). `--cases DIR` tallies another folder laid out
the same way, e.g. examples/. This prints the tally and each disagreement; it asserts
nothing, because the figure is the product's quality to improve, not a fixed contract.
Phrases the architect requires are not scored automatically: they are printed next to each
project for a person to read against the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.api import assess_files  # noqa: E402
from engine.errors import MladvisorError  # noqa: E402

CASES = Path(__file__).resolve().parent / "architect"


def _signed(decision: dict[str, Any], expected: dict[str, Any]) -> tuple[bool, str]:
    """(signed, what differs or what was signed): a verdict and a strategy that both differ
    are both named, so that fixing one does not hide the other."""
    strategy = decision.get("strategy") or {}
    got = (decision["verdict"], strategy.get("rung"), strategy.get("service"))
    allowed = [(expected.get("rung"), expected.get("service"))]
    allowed += [(a.get("rung"), a.get("service"))
                for a in expected.get("acceptable_alternatives") or []]
    problems = []
    if decision["verdict"] != expected["verdict"]:
        problems.append(f"verdict {got[0]}, expected {expected['verdict']}")
    if (got[1], got[2]) not in allowed:
        problems.append(f"strategy {got[1]}/{got[2]}, expected "
                        + " or ".join(f"{r}/{s}" for r, s in allowed))
    if problems:
        return False, "; ".join(problems)
    return True, f"{got[0]} {got[1]}/{got[2]}"


def _evidence(cases: Path, case: dict[str, Any], key: str) -> Path | None:
    """An evidence file the expected entry names, relative to the case folder."""
    return cases / case[key] if case.get(key) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for bench/run.py")
    parser.add_argument("--verbose", action="store_true", help="print must/must-not phrases")
    parser.add_argument("--cases", type=Path, default=CASES,
                        help="folder holding expected.yaml and its answers files")
    args = parser.parse_args()
    cases: Path = args.cases
    expected_file = cases / "expected.yaml"
    if not expected_file.exists():
        print(f"no {expected_file}: nothing to tally")
        return
    expected = yaml.safe_load(expected_file.read_text())
    agreed = 0
    for case in expected:
        try:
            decision = assess_files(cases / case["file"], _evidence(cases, case, "benchmarks"),
                                    _evidence(cases, case, "drift")).decision
        except MladvisorError as error:  # an answer the format does not know yet
            ok, detail = False, f"refused: {error}"
        else:
            ok, detail = _signed(decision, case)
        agreed += ok
        print(f"{'ok  ' if ok else 'MISS'} {case['file']}: {detail}")
        if args.verbose or not ok:
            for phrase in case.get("must_mention") or []:
                print(f"       must mention: {phrase}")
            for phrase in case.get("must_not_say") or []:
                print(f"       must not say: {phrase}")
    print(f"architect would sign {agreed} of {len(expected)} "
          f"({100 * agreed / max(len(expected), 1):.0f}%) on verdict and strategy")


if __name__ == "__main__":
    main()
