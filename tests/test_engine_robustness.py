"""No input takes the process down: durable-rules has a C core, so every value is normalised
before it gets there.

The property runs in a child process, because what it guards against is a native crash
(SIGSEGV, "double free") that no Python try/except can catch: the child assesses hypothesis-
generated answers and evidence through the real engine, writing each case to a file before it
runs it, and the parent asserts a clean exit and names the case that killed the child.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

CHILD = r'''
import json, sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.api import assess
from engine.errors import MladvisorError
from engine.rulebase.loading import default_rulebase
from engine.model.vocab import RUNGS
from engine.rulebase.testing import python_fired
from engine.util import dotted

last = Path(sys.argv[1])
examples = int(sys.argv[2])
base = yaml.safe_load(Path(sys.argv[3]).read_text())
rulebase = default_rulebase()
services = sorted(s.id for s in rulebase.knowledge.catalog.services)
METRICS = ["f1_macro", "latency_p95_ms", "cost_usd_per_month", "accuracy", "rmse"]

# The numbers that broke the C core, and their neighbours: tiny, huge, negative zero,
# integer-valued floats, subnormals, the largest double, integers past 2**53.
EDGES = [0.00009, 5e-05, 1e-300, 5e-324, 1e16, 1e20, 1e300, 1.7976931348623157e308,
         -0.0, 0.0, 1.0, 3000.0, 1e-4, 9.999e15, 2.0**53, 2**53 + 1, 2**63, -1e16]
number = st.one_of(st.sampled_from(EDGES),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(min_value=-2**64, max_value=2**64),
                   st.integers(min_value=-10**6, max_value=10**9).map(float))
maybe = st.one_of(st.none(), number)  # None: the answer is left out (a missing ref target)


def put(doc, path, value):
    dotted.set(doc, path, value, none_drops=True)  # None: the answer is left out


@st.composite
def answers(draw):
    doc = json.loads(json.dumps(base))
    for path in ("business.expected_value_usd_per_month", "business.budget_usd_per_month",
                 "problem.requests_per_month", "data.labeled_examples",
                 "problem.latency_p95_ms"):
        put(doc, path, draw(maybe))
    doc["business"]["success_criteria"] = [
        {"metric": draw(st.sampled_from(METRICS)), "threshold": draw(number),
         "goal": draw(st.sampled_from(["at-least", "at-most"]))}
        for _ in range(draw(st.integers(0, 3)))]
    return doc


@st.composite
def bench_rows(draw):
    count = draw(st.sampled_from([0, 1, 2, 5, 40]))
    rows = []
    for index in range(count):
        row = {"candidate": f"c{index}", "rung": draw(st.sampled_from(RUNGS)),
               "service": draw(st.one_of(st.none(), st.sampled_from(services)))}
        for metric in draw(st.lists(st.sampled_from(METRICS), unique=True, max_size=4)):
            row[metric] = draw(number)
        rows.append(row)
    return rows or None


share = st.one_of(st.sampled_from([0.0, 1.0, 5e-324, 1e-5, 0.5, -0.0]),
                  st.floats(min_value=0, max_value=1))


@st.composite
def drift(draw):
    if not draw(st.booleans()):
        return None
    features = [{"name": f"f{i}", "kind": draw(st.sampled_from(["numeric", "categorical"])),
                 "method": "ks", "statistic": draw(st.one_of(st.none(), number)),
                 "p_value": draw(st.one_of(st.none(), share)), "drifted": draw(st.booleans()),
                 "missing_share_reference": draw(st.one_of(st.none(), share)),
                 "missing_share_current": draw(st.one_of(st.none(), share))}
                for i in range(draw(st.integers(0, 6)))]
    doc = {"schema": "mladvisor.drift/1", "dataset_drift": draw(st.booleans()),
           "share_drifted": draw(share), "features": features}
    if draw(st.booleans()):
        doc["performance"] = {"metric": draw(st.sampled_from(METRICS)),
                              "reference": draw(maybe), "current": draw(maybe)}
    if draw(st.booleans()):
        doc["bias"] = [{"attribute": "region", "metric": "disparate_impact",
                        "value": draw(maybe), "threshold": draw(number),
                        "violated": draw(st.booleans())}]
    return doc


cases = st.fixed_dictionaries({"answers": answers(), "benchmarks": bench_rows(),
                               "drift": drift()})


@settings(max_examples=examples, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(cases)
def run(case):
    last.write_text(json.dumps(case))  # what killed the child, if anything does
    try:
        assessment = assess(case, rulebase)
    except MladvisorError:
        return  # refused cleanly: an input error is a fine answer
    fired = {f.rule.id for f in assessment.run.firings}
    python = python_fired(rulebase, assessment)
    assert fired == python, f"durable_rules and Python disagree on {sorted(fired ^ python)}"


run()
last.write_text("")
print("clean")
'''


def _child(tmp_path: Path, examples: int, base: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "last.json"),
                           str(examples), str(base)],
                          capture_output=True, text=True, timeout=600, check=False)


# 150 cases per example file in make test; set MLADVISOR_ROBUSTNESS_EXAMPLES=2000 for a deeper run.
EXAMPLES_PER_RUN = int(os.environ.get("MLADVISOR_ROBUSTNESS_EXAMPLES", "150"))


@pytest.mark.slow
@pytest.mark.parametrize("example", ["support-ticket-routing", "fraud-deployed"])
def test_generated_inputs_never_crash_the_engine(tmp_path: Path, example: str) -> None:
    result = _child(tmp_path, EXAMPLES_PER_RUN, EXAMPLES / f"{example}.yaml")
    last = (tmp_path / "last.json").read_text() if (tmp_path / "last.json").exists() else ""
    assert result.returncode == 0, (
        f"the engine's process ended with {result.returncode} "
        f"({'signal ' + str(-result.returncode) if result.returncode < 0 else 'an error'}) "
        f"on this case:\n{last}\n{result.stderr[-2000:]}")
    assert result.stdout.strip().endswith("clean")


# The values the issue reported, one by one through the command line, as a user meets them.
REPORTED = [0.00009, 1e16, 5e-05, 1e20, 1e-300]


@pytest.mark.parametrize("value", REPORTED)
def test_reported_numbers_assess_cleanly_from_the_command_line(tmp_path: Path,
                                                               value: float) -> None:
    import yaml

    doc = yaml.safe_load((EXAMPLES / "support-ticket-routing.yaml").read_text())
    doc["business"]["expected_value_usd_per_month"] = value
    doc["business"].pop("budget_usd_per_month")  # the budget a cost is compared with: absent
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(doc))
    bench = tmp_path / "bench.csv"
    bench.write_text("candidate,rung,service,f1_macro,cost_usd_per_month\n"
                     f"a,pre-built,amazon-comprehend,0.9,{value!r}\n")
    result = subprocess.run([sys.executable, "-m", "engine", "assess", str(answers),
                             "--benchmarks", str(bench), "--no-record", "--format", "json"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    decision = json.loads(result.stdout)
    assert decision["input"]["answers"]["business"]["expected_value_usd_per_month"] == value


@pytest.mark.parametrize(("cost", "over"), [(1e20, True), (5e-05, False), (3000.5, True),
                                            (2999.99999, False)])
def test_numbers_in_exponent_notation_compare_as_numbers(cost: float, over: bool) -> None:
    """1e20 once reached the core as '1e+20' and compared as if it were small: no rule fired."""
    import yaml

    from engine.api import assess

    doc = yaml.safe_load((EXAMPLES / "support-ticket-routing.yaml").read_text())
    doc["business"]["budget_usd_per_month"] = 3000
    rows = [{"candidate": "a", "rung": "pre-built", "service": "amazon-comprehend",
             "f1_macro": 0.9, "cost_usd_per_month": cost}]
    decision = assess({"answers": doc, "benchmarks": rows, "drift": None}).decision
    fired = {f["rule"] for f in decision["findings"]}
    assert ("solution-evaluation.over-budget" in fired) is over
    assert math.isfinite(cost)


def test_wire_json_writes_every_float_positionally() -> None:
    from engine.rulebase.inference import wire_json

    for value in [5e-05, 1e16, 1e20, 5e-324, 1.7976931348623157e308, -0.0, 0.1, 123.456]:
        text = wire_json({"x": [value]})
        assert "e" not in text.lower(), text
        assert float(json.loads(text)["x"][0]) == value
    with pytest.raises(ValueError):
        wire_json({"x": float("nan")})
