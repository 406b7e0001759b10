"""Every input goes through one loader with limits (engine/util/load.py, engine/util/limits.py).

Each class of hostile or wrong input ends as one line on stderr naming the file, the field and
what was expected, exit 2, no traceback and nothing written: deep nesting, huge integers,
YAML tags and aliases, NaN/Infinity, devices and pipes, oversized files, duplicate keys and
columns, coerced types, out-of-range evidence, and evidence beyond the row/feature limits.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import cli
from engine.errors import InputError
from engine.evidence.files import load_benchmarks, load_drift
from engine.model.answers import load_answers
from engine.util import limits
from engine.util.load import load_document
from tests.conftest import EXAMPLES

ANSWERS = yaml.safe_load((EXAMPLES / "support-ticket-routing.yaml").read_text())
DRIFT = json.loads((EXAMPLES / "evidence" / "fraud-drift.json").read_text())
DEEP = 450


def run_cli(args: list[str], home: Path) -> CliRunner.invoke:  # type: ignore[valid-type]
    return CliRunner().invoke(cli, args, env={"MLADVISOR_HOME": str(home)})


def assert_one_line_exit_2(result: object, *needles: str) -> str:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, output  # type: ignore[attr-defined]
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def subprocess_cli(args: list[str], home: Path, memory_mb: int | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real process; with `memory_mb`, an address-space cap so that a regression fails
    fast instead of eating the machine's memory."""

    def cap() -> None:
        if memory_mb is not None:
            limit = memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, MLADVISOR_HOME=str(home), OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, preexec_fn=cap)


def assert_process_refused(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def with_value(path: str, value: object, doc: dict | None = None) -> dict:
    out = copy.deepcopy(ANSWERS if doc is None else doc)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[parts[-1]] = value
    return out


def nested_yaml(depth: int) -> str:
    return "schema: mladvisor.answers/1\ndeep: " + "[" * depth + "]" * depth + "\n"


def nested_block_yaml(depth: int) -> str:
    return "schema: mladvisor.answers/1\n" + "".join(
        " " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "v: 1\n"


# --- 1./2. Hostile documents: structure, numbers, tags, aliases -------------------------------

HOSTILE_ANSWERS = [
    ("flow-nesting.yaml", nested_yaml(DEEP), "", "levels of nesting"),
    ("block-nesting.yaml", nested_block_yaml(DEEP), "", "levels of nesting"),
    ("nesting.json", '{"schema": "mladvisor.answers/1", "deep": ' + "[" * DEEP + "]" * DEEP
     + "}", "", "levels of nesting"),
    ("bigint.yaml", yaml.safe_dump(with_value("data.labeled_examples", 2**53 + 1)),
     "data.labeled_examples", "expected an integer between -2^53 and 2^53"),
    ("bigint.json", json.dumps(with_value("problem.requests_per_month", -(2**64))),
     "problem.requests_per_month", "expected an integer between -2^53 and 2^53"),
    ("hugeint.yaml", "schema: mladvisor.answers/1\nx: " + "9" * 5000 + "\n",
     "x", "expected an integer between -2^53 and 2^53"),
    ("binary.yaml", "schema: mladvisor.answers/1\nx: !!binary aGVsbG8=\n", "", "tag"),
    ("set.yaml", "schema: mladvisor.answers/1\nx: !!set {a, b}\n", "", "tag"),
    ("python.yaml", "schema: mladvisor.answers/1\nx: !!python/tuple [1, 2]\n", "", "tag"),
    ("timestamp.yaml", "schema: mladvisor.answers/1\nx: !!timestamp 2020-01-01\n", "", "tag"),
    ("local-tag.yaml", "schema: mladvisor.answers/1\nx: !mine 3\n", "", "tag"),
    ("nan.yaml", yaml.safe_dump(with_value("business.budget_usd_per_month", float("nan"))),
     "business.budget_usd_per_month", "finite"),
    ("inf.yaml", yaml.safe_dump(with_value("business.success_criteria.0.threshold",
                                           float("-inf"))),
     "business.success_criteria.0.threshold", "finite"),
    ("nan.json", json.dumps(with_value("business.expected_value_usd_per_month",
                                       float("nan"))),
     "business.expected_value_usd_per_month", "finite"),
    ("infinity.json", json.dumps(with_value("problem.latency_p95_ms", float("inf"))),
     "problem.latency_p95_ms", "finite"),
    ("overflow.json", json.dumps(with_value("problem.latency_p95_ms", 1.0)).replace(
        '"latency_p95_ms": 1.0', '"latency_p95_ms": 1e999'), "problem.latency_p95_ms",
     "finite"),
    ("alias.yaml", "schema: mladvisor.answers/1\na: &x [1]\nb: *x\n", "", "aliases"),
]


@pytest.mark.parametrize(("name", "content", "field", "expected"), HOSTILE_ANSWERS,
                         ids=[case[0] for case in HOSTILE_ANSWERS])
def test_hostile_answers_are_one_line_exit_2_and_write_nothing(
        tmp_path: Path, name: str, content: str, field: str, expected: str) -> None:
    answers = tmp_path / name
    answers.write_text(content)
    home = tmp_path / "home"
    out = tmp_path / "out.json"
    result = run_cli(["assess", str(answers), "--format", "json", "--out", str(out)], home)
    line = assert_one_line_exit_2(result, str(answers), expected)
    if field:
        assert f": {field}:" in line
    assert not out.exists()
    assert recorded(home) == 0


def recorded(home: Path) -> int:
    """Records in the audit log (assess opens the log before its work; nothing is appended)."""
    import sqlite3

    log = home / "audit.sqlite"
    if not log.exists():
        return 0
    with sqlite3.connect(f"file:{log}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])


def test_billion_laughs_saved_decision_is_refused_by_diff(tmp_path: Path) -> None:
    laughs = ["schema: mladvisor.decision/1", "verdict: proceed", 'a0: &a0 ["lol"]']
    for level in range(1, 12):
        laughs.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    laughs.append("findings: *a11")
    bomb = tmp_path / "decision.yaml"
    bomb.write_text("\n".join(laughs) + "\n")
    proc = subprocess_cli(["diff", str(bomb), str(EXAMPLES / "review-sentiment.yaml")],
                          tmp_path / "home", memory_mb=2000)
    assert_process_refused(proc, str(bomb), "aliases")


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("nan.json", '{"schema": "mladvisor.decision/1", "verdict": "proceed", "findings": [],'
                 ' "score": NaN}', "score: expected a finite number"),
    ("inf.json", '{"schema": "mladvisor.decision/1", "verdict": "proceed", "findings": [],'
                 ' "score": -Infinity}', "score: expected a finite number"),
    ("big.json", '{"schema": "mladvisor.decision/1", "verdict": "proceed", "findings": [],'
                 ' "score": 18014398509481984}', "score: expected an integer between"),
    ("dup.json", '{"schema": "mladvisor.decision/1", "verdict": "proceed",\n"findings": [],'
                 '\n"verdict": "not-ready"}', "verdict: duplicate key (lines 1 and 3)"),
    ("deep.json", '{"schema": "mladvisor.decision/1", "verdict": "proceed", "findings": '
                  + "[" * DEEP + "]" * DEEP + "}", "levels of nesting"),
    ("nan.yaml", "schema: mladvisor.decision/1\nverdict: proceed\nfindings: []\nscore: .nan\n",
     "score: expected a finite number"),
])
@pytest.mark.parametrize("command", ["diff", "report"])
def test_saved_decisions_meet_the_same_limits(tmp_path: Path, name: str, content: str,
                                               expected: str, command: str) -> None:
    if command == "report" and name.endswith(".yaml"):
        expected = "expected valid JSON"  # report reads saved decisions as JSON only
    saved = tmp_path / name
    saved.write_text(content)
    out = tmp_path / "report.html"
    args = (["diff", str(saved), str(EXAMPLES / "review-sentiment.yaml")] if command == "diff"
            else ["report", str(saved), "--format", "html", "--out", str(out)])
    assert_one_line_exit_2(run_cli(args, tmp_path / "home"), str(saved), expected)
    assert not out.exists()


# --- 1. Files that are not regular files, or too large ----------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("option", ["answers", "--drift", "--benchmarks"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str, option: str) -> None:
    if kind == "fifo":
        special = tmp_path / "pipe.yaml"
        os.mkfifo(special)  # nobody writes: reading it would block forever
    else:
        special = Path("/dev/zero")  # endless: reading it whole fills memory
    answers = EXAMPLES / "fraud-deployed.yaml"
    args = (["assess", str(special)] if option == "answers"
            else ["assess", str(answers), option, str(special)])
    proc = subprocess_cli([*args, "--format", "json"], tmp_path / "home", memory_mb=2000,
                          timeout=60)
    assert_process_refused(proc, str(special))
    assert "regular file" in proc.stderr


@pytest.mark.parametrize(("name", "size", "needle"), [
    ("big.json", limits.MAX_DOCUMENT_BYTES + 1, "MiB"),
    ("big.yaml", limits.MAX_YAML_BYTES + 1, "YAML size limit"),
])
def test_oversized_documents_are_refused_before_parsing(tmp_path: Path, name: str, size: int,
                                                        needle: str) -> None:
    path = tmp_path / name
    if name.endswith(".json"):
        body = '{"schema": "mladvisor.answers/1", "pad": "'
        path.write_text(body + "x" * (size - len(body) - 2) + '"}')
    else:
        body = "schema: mladvisor.answers/1\npad:\n"
        path.write_text(body + "- 1\n" * ((size - len(body)) // 4 + 1))
    assert path.stat().st_size >= size
    with pytest.raises(InputError) as info:
        load_answers(path)
    assert info.value.file == str(path)
    assert needle in info.value.message


def test_document_at_the_size_limit_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    body = '{"pad": "'
    path.write_text(body + "x" * (limits.MAX_DOCUMENT_BYTES - len(body) - 2) + '"}')
    assert path.stat().st_size == limits.MAX_DOCUMENT_BYTES
    assert len(load_document(path)["pad"]) > 1000


# --- 3. Duplicate keys and columns --------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "field", "lines"), [
    ("dup.yaml", "schema: mladvisor.answers/1\ndata:\n  contains_personal_data: true\n"
                 "  available: true\n  contains_personal_data: false\n",
     "data.contains_personal_data", "lines 3 and 5"),
    ("top.yaml", "schema: mladvisor.answers/1\nschema: mladvisor.answers/1\n", "schema",
     "lines 1 and 2"),
    ("flow.yaml", "schema: mladvisor.answers/1\nteam: {ml_expertise: none, ml_expertise: basic}\n",
     "team.ml_expertise", "lines 2 and 2"),
    ("dup.json", '{"schema": "mladvisor.answers/1",\n "data": {"contains_personal_data": true,'
                 '\n  "contains_personal_data": false}}', "data.contains_personal_data",
     "lines 2 and 3"),
])
def test_duplicate_keys_are_refused_naming_both_lines(tmp_path: Path, name: str, content: str,
                                                      field: str, lines: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_answers(path)
    assert info.value.path == field
    assert "duplicate key" in info.value.message and lines in info.value.message


def test_duplicate_keys_in_a_drift_summary(tmp_path: Path) -> None:
    text = json.dumps(DRIFT, indent=1).replace('"dataset_drift": true,',
                                               '"dataset_drift": true, "dataset_drift": false,')
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_drift(path)
    assert info.value.path == "dataset_drift" and "duplicate key" in info.value.message


@pytest.mark.parametrize("header", ["candidate,rung,f1,f1", "candidate,rung,candidate,f1",
                                    "f1,candidate,rung,f1 "])
def test_duplicate_benchmark_columns_name_both_positions(tmp_path: Path, header: str) -> None:
    path = tmp_path / "b.csv"
    path.write_text(header + "\nx,no-ml,0.5,0.6\n")
    with pytest.raises(InputError) as info:
        load_benchmarks(path)
    names = [h.strip() for h in header.split(",")]
    dup = next(n for i, n in enumerate(names) if n in names[:i])
    first, second = names.index(dup) + 1, len(names) - names[::-1].index(dup)
    assert info.value.path == dup
    assert f"columns {first} and {second}" in info.value.message


def data_csv(path: Path, rows: int = 60, bad: str | None = None, header: str = "x,y,z,label",
             shift: float = 0.0) -> Path:
    import random

    rng = random.Random(7)
    lines = [header]
    for i in range(rows):
        x = f"{rng.gauss(shift, 1):.4f}" if bad is None or i != 6 else bad
        lines.append(f"{x},{rng.random():.3f},{rng.choice('abc')},{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("command", ["benchmark", "drift"])
@pytest.mark.parametrize("header", ["x,y,x,label", "x,y,z,x"])
def test_duplicate_data_columns_are_refused(tmp_path: Path, command: str, header: str) -> None:
    ref = data_csv(tmp_path / "ref.csv", header=header)
    cur = data_csv(tmp_path / "cur.csv", header=header, shift=0.5)
    args = (["benchmark", str(ref), "--target", "label", "--out", str(tmp_path / "o.json")]
            if command == "benchmark" else ["drift", str(ref), str(cur), "--out",
                                            str(tmp_path / "o.json")])
    names = header.split(",")
    second = len(names) - names[::-1].index("x")
    assert_one_line_exit_2(run_cli(args, tmp_path / "home"), str(ref),
                           f"columns 1 and {second}")
    assert not (tmp_path / "o.json").exists()


# --- 1. Non-finite and huge values in the data files ---------------------------------------

@pytest.mark.parametrize("command", ["benchmark", "drift"])
@pytest.mark.parametrize(("bad", "expected"), [
    ("inf", "finite"), ("-inf", "finite"), ("Infinity", "finite"),
    ("1e300", "input limit"), ("-1e31", "input limit"),
])
def test_infinite_or_huge_data_values_name_column_and_row(tmp_path: Path, command: str,
                                                          bad: str, expected: str) -> None:
    ref = data_csv(tmp_path / "ref.csv", bad=bad)
    cur = data_csv(tmp_path / "cur.csv", shift=0.5)
    out = tmp_path / "o.json"
    args = (["benchmark", str(ref), "--target", "label", "--out", str(out)]
            if command == "benchmark" else ["drift", str(ref), str(cur), "--out", str(out)])
    proc = subprocess_cli(args, tmp_path / "home")
    assert_process_refused(proc, str(ref), "column x, row 7", expected)
    assert not out.exists()


@pytest.mark.parametrize("command", ["benchmark", "drift"])
@pytest.mark.slow
def test_values_at_the_data_limit_run_without_overflow(tmp_path: Path, command: str) -> None:
    edge = f"{limits.MAX_DATA_VALUE:g}"
    ref = data_csv(tmp_path / "ref.csv", bad=edge)
    cur = data_csv(tmp_path / "cur.csv", bad="-" + edge, shift=0.5)
    out = tmp_path / "o.json"
    args = (["benchmark", str(ref), "--target", "x", "--out", str(out)]
            if command == "benchmark" else ["drift", str(ref), str(cur), "--out", str(out)])
    proc = subprocess_cli(args, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr and "overflow" not in proc.stderr
    assert out.exists()


# --- 4. Strict types and ranges -------------------------------------------------------------

@pytest.mark.parametrize(("path", "value", "expected"), [
    ("data.labeled_examples", True, "integer"),
    ("data.labeled_examples", "12000", "'12000' (text)"),
    ("data.labeled_examples", 12000.5, "integer"),
    ("data.contains_personal_data", "yes", "boolean"),
    ("data.contains_personal_data", 1, "boolean"),
    ("project.name", ["a", "list"], "expected text"),
    ("project.respondent", 42, "expected text"),
    ("business.budget_usd_per_month", "3000", "number"),
    ("business.budget_usd_per_month", False, "number"),
    ("business.success_criteria.0.threshold", "0.85", "number"),
    ("monitoring.sensitive_attributes", "region", "list"),
    ("data.labeled_examples", limits.MAX_COUNT + 1, "input limit"),
    ("business.expected_value_usd_per_month", 1e22, "input limit"),
    ("problem.latency_p95_ms", 1e9, "input limit"),
    ("business.success_criteria.0.threshold", -1e13, "input limit"),
])
def test_wrong_types_are_errors_not_coerced(tmp_path: Path, path: str, value: object,
                                            expected: str) -> None:
    file = tmp_path / "a.yaml"
    file.write_text(yaml.safe_dump(with_value(path, value)))
    with pytest.raises(InputError) as info:
        load_answers(file)
    assert info.value.path == path
    assert expected in info.value.message


def test_an_int_is_fine_where_a_float_is_expected(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text(yaml.safe_dump(with_value("business.budget_usd_per_month", 3000)))
    assert load_answers(file).answers.business.budget_usd_per_month == 3000.0


def test_a_date_stays_text(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text(yaml.safe_dump(ANSWERS).replace("name: Support ticket routing",
                                                    "name: 2026-01-01"))
    assert load_answers(file).answers.project.name == "2026-01-01"


def drift_with(path: str, value: object) -> dict:
    return with_value(path, value, DRIFT)


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("features.0.p_value", -5, "greater than or equal to 0"),
    ("features.0.p_value", 1.5, "less than or equal to 1"),
    ("share_drifted", 2, "less than or equal to 1"),
    ("share_drifted", "0.5", "number"),
    ("dataset_drift", 1, "boolean"),
    ("dataset_drift", "true", "boolean"),
    ("reference_rows", -1, "greater than or equal to 0"),
    ("reference_rows", 10.0, "integer"),
    ("reference_rows", True, "integer"),
    ("features.0.statistic", "0.3", "number"),
    ("features.0.name", 7, "text"),
    ("bias.0.value", 1e200, "less than or equal to"),
    ("features.0.missing_share_current", 1.01, "less than or equal to 1"),
])
def test_drift_summary_is_strict(tmp_path: Path, path: str, value: object,
                                 expected: str) -> None:
    file = tmp_path / "d.json"
    file.write_text(json.dumps(drift_with(path, value)))
    with pytest.raises(InputError) as info:
        load_drift(file)
    assert info.value.path == path
    assert expected in info.value.message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_drift_values_exit_2(tmp_path: Path, literal: str) -> None:
    text = json.dumps(drift_with("features.0.statistic", 0.123456)).replace("0.123456", literal)
    drift = tmp_path / "d.json"
    drift.write_text(text)
    result = run_cli(["assess", str(EXAMPLES / "fraud-deployed.yaml"), "--drift", str(drift),
                      "--format", "json"], tmp_path / "home")
    assert_one_line_exit_2(result, str(drift), "features.0.statistic", "finite")


@pytest.mark.parametrize(("content", "path", "expected"), [
    ('[{"candidate": "x", "rung": "no-ml", "f1": "0.5"}]', "row 1.f1", "number"),
    ('[{"candidate": "x", "rung": "no-ml", "f1": true}]', "row 1.f1", "number"),
    ('[{"candidate": 5, "rung": "no-ml"}]', "row 1.candidate", "text"),
    ('[{"candidate": "x", "rung": "no-ml", "f1": 1e200}]', "row 1.f1", "input limit"),
    ("candidate,rung,f1\nx,no-ml,inf\n", "row 1.f1", "finite"),
    ("candidate,rung,f1\nx,no-ml,1e400\n", "row 1.f1", "finite"),
])
def test_benchmark_rows_are_strict(tmp_path: Path, content: str, path: str,
                                   expected: str) -> None:
    file = tmp_path / ("b.json" if content.startswith("[") else "b.csv")
    file.write_text(content)
    with pytest.raises(InputError) as info:
        load_benchmarks(file)
    assert info.value.path == path
    assert expected in info.value.message


# --- 5. Limits on evidence --------------------------------------------------------------------

def benchmark_csv(path: Path, rows: int) -> Path:
    lines = ["candidate,rung,service,f1_macro,latency_p95_ms"]
    lines += [f"c{i},pre-built,amazon-comprehend,0.{10 + i % 90},{100 + i % 400}"
              for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("rows", [limits.MAX_BENCHMARK_ROWS + 1, 13_000])
def test_benchmark_rows_beyond_the_limit_exit_2(tmp_path: Path, rows: int) -> None:
    bench = benchmark_csv(tmp_path / "b.csv", rows)
    result = run_cli(["assess", str(EXAMPLES / "support-ticket-routing.yaml"), "--benchmarks",
                      str(bench), "--format", "json"], tmp_path / "home")
    assert_one_line_exit_2(result, str(bench), f"at most {limits.MAX_BENCHMARK_ROWS}")


def test_benchmark_rows_at_the_limit_are_read(tmp_path: Path) -> None:
    bench = benchmark_csv(tmp_path / "b.csv", limits.MAX_BENCHMARK_ROWS)
    assert len(load_benchmarks(bench)) == limits.MAX_BENCHMARK_ROWS
    rows = json.dumps([{"candidate": f"c{i}", "rung": "no-ml"}
                       for i in range(limits.MAX_BENCHMARK_ROWS + 1)])
    (tmp_path / "b.json").write_text(rows)
    with pytest.raises(InputError, match="benchmark rows"):
        load_benchmarks(tmp_path / "b.json")


@pytest.mark.parametrize(("part", "limit"), [("features", limits.MAX_DRIFT_FEATURES),
                                             ("bias", limits.MAX_BIAS_CHECKS)])
def test_drift_lists_beyond_the_limit_exit_2(tmp_path: Path, part: str, limit: int) -> None:
    doc = copy.deepcopy(DRIFT)
    item = doc[part][0]
    doc[part] = [dict(item, **({"name": f"f{i}"} if part == "features"
                               else {"attribute": f"a{i}"})) for i in range(limit + 1)]
    drift = tmp_path / "d.json"
    drift.write_text(json.dumps(doc))
    result = run_cli(["assess", str(EXAMPLES / "fraud-deployed.yaml"), "--drift", str(drift),
                      "--format", "json"], tmp_path / "home")
    assert_one_line_exit_2(result, str(drift), part, f"at most {limit}")
    doc[part] = doc[part][:limit]
    drift.write_text(json.dumps(doc))
    assert len(load_drift(drift)[part]) == limit


def test_data_files_beyond_the_column_limit_exit_2(tmp_path: Path) -> None:
    names = [f"c{i}" for i in range(limits.MAX_DATA_COLUMNS + 1)]
    ref = tmp_path / "ref.csv"
    ref.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    result = run_cli(["drift", str(ref), str(ref), "--out", str(tmp_path / "o.json")],
                     tmp_path / "home")
    assert_one_line_exit_2(result, str(ref), f"at most {limits.MAX_DATA_COLUMNS} columns")


@pytest.mark.parametrize(("line", "value", "field"), [
    ("data.contains_personal_data", "yes", "expected a boolean"),
    ("data.contains_personal_data", "off", "expected a boolean"),
    ("data.labeled_examples", "1:30", "expected an integer"),      # YAML 1.1: 90
    ("data.labeled_examples", "012", "expected an integer"),       # YAML 1.1: octal 10
    ("data.labeled_examples", "1_000", "expected an integer"),     # YAML 1.1: 1000
])
def test_yaml_1_1_spellings_are_not_silently_converted(tmp_path: Path, line: str, value: str,
                                                       field: str) -> None:
    """YAML 1.1 read `yes` as true and `1:30` as 90: a typo became an answer. Only YAML 1.2's
    core spellings are values; the rest are text, which the strict model refuses."""
    section, key = line.split(".")
    text = (EXAMPLES / "support-ticket-routing.yaml").read_text()
    doc = yaml.safe_load(text)
    doc[section].pop(key, None)
    body = yaml.safe_dump(doc, sort_keys=False).replace(f"{section}:\n",
                                                         f"{section}:\n  {key}: {value}\n", 1)
    answers = tmp_path / "answers.yaml"
    answers.write_text(body)
    with pytest.raises(InputError) as caught:
        load_answers(answers)
    assert caught.value.path == line
    assert field in caught.value.message
