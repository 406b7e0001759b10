"""A hostile decision costs seconds and megabytes to render, never minutes and gigabytes.

Each case takes a real decision from the engine and blows up one thing (or, in `every-list`,
every other list the report shows). It renders in a child process, so the peak memory read
from the child's VmHWM is that render's alone. The bounds are generous (capped, each PDF
here took under 20 s and 230 MB on a loaded 2-core machine, about a typical report's cost)
but far below the uncapped report: 5,000 findings, 2,000 options or a 100,000-character word
ran over 90 s as a PDF (1.8 GB and more, per the issue). bench/bench_report.py prints the
figures.
"""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from engine.report import render_html
from engine.report.pdf import canonical_json
from tests.conftest import EXAMPLE_ANSWERS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WALL_SECONDS = 60
PEAK_MB = 600
WORD = "w" * 100_000
SEE = "see decision.json"  # the end of every truncation note (engine.report.limits.SEE)

CHILD = r"""
import json, sys
from engine.report import render_html, render_pdf
decision = json.load(open(sys.argv[1], encoding="utf-8"))
data = render_pdf(decision) if sys.argv[2] == "pdf" else render_html(decision)
open(sys.argv[3], "wb").write(data)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]) / 1024)
"""


def base_decision() -> dict[str, Any]:
    """A real decision with benchmarks, drift and bias: every section of the report filled."""
    from engine.api import assess_files

    return assess_files(EXAMPLES / "support-ticket-routing.yaml",
                        benchmarks=EXAMPLES / "evidence" / "ticket-benchmarks.csv",
                        drift=EXAMPLES / "evidence" / "fraud-drift.json",
                        assessment_id="01a22f42-16d0-7e30-aa48-df92ffecd448").decision


def _repeat(items: list[Any], count: int, **changes: Callable[[int], Any]) -> list[Any]:
    """`count` copies of `items` cycled, each field in `changes` set from its position."""
    result = []
    for index in range(count):
        item = copy.deepcopy(items[index % len(items)])
        for key, value in changes.items():
            item[key] = value(index)
        result.append(item)
    return result


def _findings(d: dict[str, Any]) -> None:
    d["findings"] = _repeat(d["findings"], 5_000, title=lambda i: f"Finding number {i}")


def _options(d: dict[str, Any]) -> None:
    d["options"] = _repeat(d["options"], 2_000)


def _long_word(d: dict[str, Any]) -> None:
    d["findings"][0]["title"] = WORD
    d["findings"][1]["rationale"] = "Because " + WORD
    d["findings"][2]["facts"] = {WORD: WORD}
    d["options"][0]["reasons"] = [WORD]
    d["strategy"]["summary"] = WORD
    d["input"]["answers"]["business"]["problem_statement"] = WORD


def _drift(d: dict[str, Any]) -> None:
    drift = d["input"]["drift"]
    drift["features"] = _repeat(drift["features"], 50_000, name=lambda i: f"feature_{i}")


def _project_name(d: dict[str, Any]) -> None:
    name = ("Claims triage " * 80_000)[:1_000_000]
    d["project"]["name"] = d["input"]["answers"]["project"]["name"] = name
    d["project"]["respondent"] = "x" * 1_000_000


def _every_list(d: dict[str, Any]) -> None:
    """The class: every other list the report lays out, long at once."""
    d["trace"] = _repeat(d["trace"], 5_000, matched=lambda i: {"case": {"x": "y " * 500}})
    d["trace"][0]["asserted"] = [f"fact {i}" for i in range(1_000)]
    d["actions"] = [f"Action {i}" for i in range(5_000)]
    d["monitoring_plan"] = _repeat(d["monitoring_plan"], 2_000)
    d["input"]["drift"]["bias"] = _repeat(d["input"]["drift"]["bias"], 5_000)
    option = next(o for o in d["options"] if o.get("evidence"))
    option["evidence"] = _repeat(option["evidence"], 2_000)
    option["reasons"] = [f"reason {i}" for i in range(2_000)]
    d["findings"] += _repeat(d["findings"][:1], 1_000, phase=lambda i: f"phase-{i}")
    d["findings"][0]["facts"] = {f"fact.{i}": i for i in range(2_000)}
    d["explanation"] = {"counterfactuals": [
        {"changes": {f"answer.{j}": j for j in range(100)}, "verdict": "proceed"}
        for _ in range(100)]}
    answers = d["input"]["answers"]
    answers["business"]["success_criteria"] = [
        {"metric": f"m{i}", "threshold": i, "goal": "at-least"} for i in range(5_000)]
    answers["problem"]["extra"] = {f"key{i}": list(range(40)) for i in range(3_000)}
    d["input"]["defaulted"] = [f"problem.extra.key{i}" for i in range(3_000)]


CASES: dict[str, Callable[[dict[str, Any]], None]] = {
    "findings-5000": _findings,
    "options-2000": _options,
    "word-100000": _long_word,
    "drift-features-50000": _drift,
    "project-name-1mb": _project_name,
    "every-list": _every_list,
}


def hostile(case: str, base: dict[str, Any]) -> dict[str, Any]:
    """The base decision with one case's blow-up applied (bench_report.py uses it too)."""
    decision = copy.deepcopy(base)
    CASES[case](decision)
    return decision


def render_in_child(decision: dict[str, Any], fmt: str, tmp: Path) -> tuple[bytes, float]:
    """(output bytes, peak MB) of one render in a fresh interpreter; a timeout fails it."""
    source, output = tmp / f"decision-{fmt}.json", tmp / f"report.{fmt}"
    source.write_text(json.dumps(decision), encoding="utf-8")
    try:
        result = subprocess.run([sys.executable, "-c", CHILD, str(source), fmt, str(output)],
                                capture_output=True, text=True, timeout=WALL_SECONDS, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{fmt} render took over {WALL_SECONDS} s")
    assert result.returncode == 0, result.stderr[-2000:]
    return output.read_bytes(), float(result.stdout.split()[-1])


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return base_decision()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "pdf"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_decision_renders_in_seconds_and_megabytes(case: str, fmt: str, base: dict,
                                                          tmp_path: Path) -> None:
    decision = hostile(case, base)
    data, peak = render_in_child(decision, fmt, tmp_path)
    assert peak < PEAK_MB, f"peak {peak:.0f} MB"
    if fmt == "html":
        shown = data.decode("utf-8")
    else:
        reader = PdfReader(io.BytesIO(data))
        shown = " ".join(" ".join((page.extract_text() or "").split())
                         for page in reader.pages)
        (attached,) = reader.attachments["decision.json"]
        assert attached == canonical_json(decision)  # nothing is lost: the whole decision
    assert SEE in shown  # the reader is told that something was left out, and where it is


def test_cut_strings_say_so_and_long_words_can_break() -> None:
    from engine.report.limits import BREAK, MAX_TEXT, MAX_TOKEN, cut

    assert cut("short text") == "short text"
    assert cut("a" * MAX_TOKEN) == "a" * MAX_TOKEN  # a SHA-256 or a long identifier stays
    long = cut("b" * 10_000)
    assert long.startswith("b" * 40 + BREAK)
    assert f"{10_000 - MAX_TEXT:,} more characters: see decision.json" in long
    assert len(long.replace(BREAK, "")) < MAX_TEXT + 100
    assert all(len(part) <= MAX_TOKEN for word in long.split() for part in word.split(BREAK))


def _note_count(html: str, what: str) -> int:
    match = re.search(r"([\d,]+) more " + re.escape(what) + " not shown: " + re.escape(SEE), html)
    assert match, f"no note for {what}"
    return int(match.group(1).replace(",", ""))


def test_the_notes_count_what_was_left_out(base: dict) -> None:
    """Shown plus left out is the whole list: the counts are computed over the decision."""
    html = render_html(hostile("findings-5000", base)).decode("utf-8")
    assert html.count('<article class="finding') + _note_count(html, "findings") == 5_000
    html = render_html(hostile("options-2000", base)).decode("utf-8")
    shown = html.count('<article class="option')
    assert 0 < shown < 2_000 and shown + _note_count(html, "options") == 2_000
    html = render_html(hostile("every-list", base)).decode("utf-8")
    trace = html[html.index('id="trace"'):]
    assert trace.count('<tr><td class="num">') + _note_count(html, "trace steps") == 5_000
    for what in ("actions", "plan items", "bias checks", "checks", "reasons", "facts",
                 "phases", "alternatives", "changes", "answers", "criteria"):
        assert _note_count(html, what) > 0
    html = render_html(hostile("drift-features-50000", base)).decode("utf-8")
    assert "of 50,000 features drifted" in html and "Only the first 24 of 50,000 features" in html


@pytest.mark.parametrize("case,cut_from", [("word-100000", 100_000),
                                           ("project-name-1mb", 1_000_000)])
def test_cut_strings_count_their_characters(case: str, cut_from: int, base: dict) -> None:
    from engine.report.limits import MAX_TEXT

    html = render_html(hostile(case, base)).decode("utf-8")
    assert f"{cut_from - MAX_TEXT:,} more characters: {SEE}" in html
    assert "w" * 200 not in html and "x" * 200 not in html  # long words can break


EXAMPLE_RUNS = [(p, EXAMPLES / "evidence" / "ticket-benchmarks.csv"
                 if p.stem == "support-ticket-routing" else None,
                 EXAMPLES / "evidence" / "fraud-drift.json" if p.stem == "fraud-deployed"
                 else None) for p in EXAMPLE_ANSWERS]


@pytest.mark.parametrize("answers,benchmarks,drift", EXAMPLE_RUNS,
                         ids=[run[0].stem for run in EXAMPLE_RUNS])
def test_no_example_reaches_a_cap(answers: Path, benchmarks: Path | None,
                                  drift: Path | None) -> None:
    from engine.api import assess_files

    decision = assess_files(answers, benchmarks=benchmarks, drift=drift).decision
    html = render_html(decision).decode("utf-8")
    assert SEE not in html
    # no long token was cut (identifiers' own break points follow `_`, `-` or `.`)
    assert not re.search("(?<![-_.])\u200b", html)
