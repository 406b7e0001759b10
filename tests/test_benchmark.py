"""`mladvisor benchmark`: baselines, metric names, learning curve, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.evidence.benchmark import run_benchmark

CLASSIFICATION_COLUMNS = ["candidate", "rung", "service", "accuracy", "f1", "f1_macro", "auc",
                          "train_rows", "cv_folds", "learning_curve_gain", "fit_seconds"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def rule_data(tmp_path: Path) -> Path:
    """A label a single threshold decides, plus noise columns and a categorical one."""
    rng = np.random.default_rng(1)
    n = 400
    income = rng.normal(50, 10, n)
    frame = pd.DataFrame({
        "income": income,
        "noise": rng.normal(0, 1, n),
        "region": rng.choice(["north", "south", "east"], n),
        "approved": np.where(income > 52, "yes", "no"),
    })
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    return path


def test_classification_rows_follow_the_benchmarks_format(rule_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.csv"
    code, stdout, _ = _run("benchmark", str(rule_data), "--target", "approved", "--out", str(out))
    assert code == 0
    assert "one-rule" in stdout and "f1_macro" in stdout
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == CLASSIFICATION_COLUMNS
    by_name = {r["candidate"]: r for r in rows}
    assert [r["candidate"] for r in rows] == ["majority-baseline", "one-rule", "linear-model",
                                              "gradient-boosting"]
    assert {by_name["majority-baseline"]["rung"], by_name["one-rule"]["rung"]} == {"no-ml"}
    assert {by_name["linear-model"]["rung"], by_name["gradient-boosting"]["rung"]} == {
        "from-scratch"}
    assert all(r["service"] == "" for r in rows)
    # A fixed rule decides this label: the depth-one tree finds it.
    assert float(by_name["one-rule"]["accuracy"]) > 0.97
    assert float(by_name["majority-baseline"]["auc"]) == 0.5
    assert int(by_name["one-rule"]["train_rows"]) == 400
    assert int(by_name["one-rule"]["cv_folds"]) == 5
    for row in rows:  # every column after service is numeric
        for column in CLASSIFICATION_COLUMNS[3:]:
            float(row[column])


def test_output_is_deterministic_apart_from_fit_time(rule_data: Path) -> None:
    first = run_benchmark(rule_data, "approved")
    second = run_benchmark(rule_data, "approved")
    strip = [{k: v for k, v in r.items() if k != "fit_seconds"} for r in first.rows]
    assert strip == [{k: v for k, v in r.items() if k != "fit_seconds"} for r in second.rows]


def test_regression_is_inferred_and_reports_regression_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["price"] = 3 * frame["a"] - 2 * frame["b"] + rng.normal(0, 0.1, n)
    path = tmp_path / "prices.parquet"
    frame.to_parquet(path)
    out = tmp_path / "bench.json"
    code, _, _ = _run("benchmark", str(path), "--target", "price", "--out", str(out))
    assert code == 0
    rows = json.loads(out.read_text())
    assert [r["candidate"] for r in rows][0] == "mean-baseline"
    assert {"rmse", "mae", "r2"} <= set(rows[0]) and "accuracy" not in rows[0]
    by_name = {r["candidate"]: r for r in rows}
    assert by_name["linear-model"]["r2"] > 0.99
    assert abs(by_name["mean-baseline"]["r2"]) < 0.1
    assert by_name["linear-model"]["rmse"] < by_name["one-rule"]["rmse"]


def test_text_classification_uses_tfidf(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    words = ["invoice", "refund", "password", "login", "shipping", "delay"]
    teams = {"invoice": "billing", "refund": "billing", "password": "it", "login": "it",
             "shipping": "logistics", "delay": "logistics"}
    filler = ["please", "help", "thanks", "today", "my", "the", "order", "account"]
    rows = []
    for _ in range(300):
        key = words[rng.integers(len(words))]
        text = " ".join([*rng.choice(filler, 4), key, *rng.choice(filler, 3)])
        rows.append({"body": text, "team": teams[key]})
    path = tmp_path / "tickets.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = run_benchmark(path, "team", text_column="body")
    assert result.task == "text-classification"
    by_name = {r["candidate"]: r for r in result.rows}
    assert by_name["linear-model"]["f1_macro"] > 0.95
    assert by_name["majority-baseline"]["f1_macro"] < 0.3
    # Three classes: f1 is macro-averaged, the documented multiclass choice.
    assert by_name["linear-model"]["f1"] == by_name["linear-model"]["f1_macro"]


def test_learning_curve_points_and_gain(rule_data: Path, tmp_path: Path) -> None:
    curve_out = tmp_path / "curve.json"
    out = tmp_path / "b.csv"
    code, _, _ = _run("benchmark", str(rule_data), "--target", "approved", "--out", str(out),
                      "--curve-out", str(curve_out))
    assert code == 0
    points = json.loads(curve_out.read_text())
    with out.open() as handle:
        rows = {r["candidate"]: r for r in csv.DictReader(handle)}
    for name, row in rows.items():
        mine = {p["fraction"]: p for p in points if p["candidate"] == name}
        assert sorted(mine) == [0.25, 0.5, 1.0]
        assert mine[0.25]["train_rows"] < mine[0.5]["train_rows"] < mine[1.0]["train_rows"]
        assert mine[1.0]["metric"] == "f1_macro"
        assert float(row["f1_macro"]) == pytest.approx(mine[1.0]["value"])
        gain = mine[1.0]["value"] - mine[0.5]["value"]
        assert float(row["learning_curve_gain"]) == pytest.approx(gain, abs=1e-5)


def test_learning_curve_still_rising_on_a_hard_small_problem(tmp_path: Path) -> None:
    """An XOR-like label with few rows: boosting gains from more data."""
    rng = np.random.default_rng(4)
    n = 240
    x = rng.uniform(-1, 1, size=(n, 2))
    frame = pd.DataFrame(x, columns=["u", "v"])
    frame["label"] = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    path = tmp_path / "xor.csv"
    frame.to_csv(path, index=False)
    result = run_benchmark(path, "label")
    by_name = {r["candidate"]: r for r in result.rows}
    assert by_name["gradient-boosting"]["learning_curve_gain"] > 0
    assert by_name["linear-model"]["f1_macro"] < 0.7  # a linear model cannot learn XOR


@pytest.mark.parametrize("case", ["missing-target", "single-class", "no-rows", "unreadable",
                                  "missing-text-column"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case: str, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    args = ["--target", "y"]
    if case == "missing-target":
        pd.DataFrame({"x": [1, 2, 3, 4], "z": [0, 1, 0, 1]}).to_csv(path, index=False)
    elif case == "single-class":
        pd.DataFrame({"x": range(10), "y": ["a"] * 10}).to_csv(path, index=False)
    elif case == "no-rows":
        path.write_text("x,y\n")
    elif case == "unreadable":
        path = tmp_path / "data.parquet"
        path.write_bytes(b"\x00\x01 not parquet at all")
    else:
        pd.DataFrame({"x": range(10), "y": [0, 1] * 5}).to_csv(path, index=False)
        args += ["--text-column", "body"]
    out = tmp_path / "out.csv"
    code, stdout, stderr = _run("benchmark", str(path), *args, "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert str(path) in stderr and "Traceback" not in stderr
    assert not out.exists()
    expected_path = {"missing-target": "--target", "single-class": "column y",
                     "missing-text-column": "--text-column"}.get(case)
    if expected_path:
        assert expected_path in stderr


@pytest.mark.slow
def test_large_files_are_sampled_in_a_stream(rule_data: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.evidence.tables as tables

    frame = pd.read_csv(rule_data)
    parquet = tmp_path / "loans.parquet"
    frame.to_parquet(parquet, row_group_size=64)
    result = run_benchmark(parquet, "approved", max_rows=300)  # 400 rows: sampled
    by_name = {r["candidate"]: r for r in result.rows}
    assert by_name["one-rule"]["train_rows"] == 300
    assert by_name["one-rule"]["accuracy"] > 0.95
    monkeypatch.setattr(tables, "WHOLE_READ_BYTES", 1000)  # the CSV now counts as large
    streamed = run_benchmark(rule_data, "approved", max_rows=250)
    assert streamed.rows[0]["train_rows"] == 250
    assert {r["candidate"]: r for r in streamed.rows}["one-rule"]["accuracy"] > 0.95


def _sorted_by_label(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """Noise features and a label, sorted by the label as exports often are."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.normal(50, 10, n),
        "blood_pressure": rng.normal(120, 15, n),
        "sex": rng.choice(["f", "m"], n),
        "readmitted": rng.choice(["no", "yes"], n, p=[0.7, 0.3]),
    })
    return frame.sort_values("readmitted", kind="stable").reset_index(drop=True)


ID_COLUMNS = {
    "patient_id": lambda n: np.arange(1000, 1000 + n),
    "PatientID": lambda n: np.arange(n) * 7 + 3,
    "uuid": lambda n: [f"{i:08x}-5e2a-4c1b-9f00-{i * 31:012x}" for i in range(n)],
    "record-no": lambda n: [f"R{i:06d}" for i in range(n)],
    "Unnamed: 0": lambda n: np.arange(n),
    "seq": lambda n: np.arange(n, 0, -1),  # no id name: distinct and falling with row order
}


@pytest.mark.parametrize("name", sorted(ID_COLUMNS))
@pytest.mark.slow
def test_identifier_columns_are_left_out_with_a_note(name: str, tmp_path: Path) -> None:
    frame = _sorted_by_label()
    frame.insert(0, name, ID_COLUMNS[name](len(frame)))
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "bench.csv"
    code, stdout, stderr = _run("benchmark", str(path), "--target", "readmitted",
                                "--out", str(out))
    assert code == 0
    assert f"ignored column {name!r}: an identifier" in stderr
    with out.open() as handle:
        rows = {r["candidate"]: r for r in csv.DictReader(handle)}
    assert list(next(iter(rows.values()))) == CLASSIFICATION_COLUMNS  # the format is unchanged
    # Without the id the features are noise: no baseline can look near-perfect.
    for row in rows.values():
        assert float(row["f1_macro"]) < 0.75, row


@pytest.mark.parametrize("name,values", [
    ("region_id", lambda n, rng: rng.choice([1, 2, 3, 4, 5], n)),  # few codes: a category
    ("paid", lambda n, rng: rng.integers(0, 10_000, n)),  # `id` inside a word is no id name
    ("visit_count", lambda n, rng: np.arange(n)),  # rises with row order, but values repeat:
])
@pytest.mark.slow
def test_ordinary_columns_are_kept(name: str, values: object, tmp_path: Path) -> None:
    frame = _sorted_by_label()
    rng = np.random.default_rng(6)
    column = values(len(frame), rng)  # type: ignore[operator]
    if name == "visit_count":
        column = column // 10  # ten rows per value: 10% distinct
    frame[name] = column
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    result = run_benchmark(path, "readmitted")
    assert name not in result.ignored


@pytest.mark.slow
def test_keep_and_exclude_override_the_detection(tmp_path: Path) -> None:
    frame = _sorted_by_label()
    frame.insert(0, "patient_id", np.arange(len(frame)))
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    kept = run_benchmark(path, "readmitted", keep=["patient_id"])
    assert "patient_id" not in kept.ignored
    assert [leak["feature"] for leak in kept.leaks] == ["patient_id"]  # and it leaks
    excluded = run_benchmark(path, "readmitted", exclude=["sex"])
    assert "sex" not in excluded.ignored and "patient_id" in excluded.ignored
    code, stdout, stderr = _run("benchmark", str(path), "--target", "readmitted",
                                "--exclude", "nope")
    assert code == 2 and stdout == "" and "--exclude" in stderr and "nope" in stderr
    assert len(stderr.strip().splitlines()) == 1


def _leaky(kind: str, n: int = 500) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                          "color": rng.choice(["red", "green", "blue"], n)})
    if kind == "regression":
        frame["cost"] = rng.normal(100, 20, n)
        frame["outcome_copy"] = frame["cost"] * 1.1 + 3
        return frame, "cost"
    labels = ["a", "b", "c"] if kind == "multiclass" else ["no", "yes"]
    frame["label"] = rng.choice(labels, n)
    frame["outcome_copy"] = (frame["label"] if kind != "numeric-copy"
                             else (frame["label"] == "yes").astype(int))
    return frame, "label"


@pytest.mark.parametrize("kind", ["string-copy", "numeric-copy", "multiclass", "regression"])
@pytest.mark.slow
def test_a_feature_that_alone_scores_near_perfectly_is_named(kind: str, tmp_path: Path) -> None:
    frame, target = _leaky(kind)
    path = tmp_path / "leaky.csv"
    frame.to_csv(path, index=False)
    code, stdout, stderr = _run("benchmark", str(path), "--target", target, "--format", "csv")
    assert code == 0
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, stderr
    assert "'outcome_copy' alone scores" in warnings[0] and "leakage" in warnings[0]
    assert "--exclude outcome_copy" in warnings[0]
    assert stdout.startswith("candidate,rung,service,")  # stdout stays machine-readable
    clean = run_benchmark(path, target, exclude=["outcome_copy"])
    assert clean.leaks == []


@pytest.mark.slow
def test_binary_output_names_the_positive_class(rule_data: Path, tmp_path: Path) -> None:
    code, stdout, stderr = _run("benchmark", str(rule_data), "--target", "approved")
    assert code == 0
    assert "positive class: yes" in stdout
    assert "positive class 'yes' (the other: 'no')" in stderr
    default = {r["candidate"]: r for r in run_benchmark(rule_data, "approved").rows}
    flipped_result = run_benchmark(rule_data, "approved", positive_label="no")
    assert flipped_result.positive_class == "no"
    flipped = {r["candidate"]: r for r in flipped_result.rows}
    # The majority class is "no": its f1 is not zero, that of "yes" is.
    assert default["majority-baseline"]["f1"] == 0.0
    assert flipped["majority-baseline"]["f1"] > 0.5
    assert flipped["one-rule"]["f1_macro"] == pytest.approx(default["one-rule"]["f1_macro"])


@pytest.mark.parametrize("labels,positive,expected", [
    ([0, 1], None, "1"), ([0, 1], "0", "0"), (["false", "true"], None, "True"),
    (["false", "true"], "false", "False"), (["churned", "stayed"], "churned", "churned")])
@pytest.mark.slow
def test_positive_class_default_and_choice(labels: list[object], positive: str | None,
                                           expected: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"x": rng.normal(size=120), "y": rng.choice(labels, 120)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    assert run_benchmark(path, "y", positive_label=positive).positive_class == expected


@pytest.mark.parametrize("args", [["--positive-label", "maybe"],
                                  ["--positive-label", "1", "--target", "price"]])
def test_bad_positive_label_exits_2(args: list[str], rule_data: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(rule_data)
    frame["price"] = frame["income"] * 1.5
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    target = [] if "--target" in args else ["--target", "approved"]
    code, stdout, stderr = _run("benchmark", str(path), *target, *args)
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and "--positive-label" in stderr


@pytest.mark.slow
def test_multiclass_output_names_no_positive_class(tmp_path: Path) -> None:
    frame, target = _leaky("multiclass")
    path = tmp_path / "m.csv"
    frame.drop(columns=["outcome_copy"]).to_csv(path, index=False)
    code, stdout, stderr = _run("benchmark", str(path), "--target", target)
    assert code == 0 and "positive class" not in stdout + stderr


def test_free_text_column_suggests_text_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    words = ["late", "refund", "broken", "login", "thanks", "order", "please", "help", "again"]
    n = 300
    frame = pd.DataFrame({
        "body": [" ".join(rng.choice(words, 6)) + f" #{i}" for i in range(n)],
        "channel": rng.choice(["mail", "phone"], n),
        "team": rng.choice(["billing", "it"], n),
    })
    path = tmp_path / "tickets.csv"
    frame.to_csv(path, index=False)
    code, _, stderr = _run("benchmark", str(path), "--target", "team")
    assert code == 0
    assert "ignored column 'body': free text; pass --text-column body" in stderr


@pytest.mark.parametrize("n", [12, 40, 400])
@pytest.mark.slow
def test_noise_features_are_never_called_leaks(n: int, tmp_path: Path) -> None:
    """Few rows can score perfectly by luck: no warning unless the evidence is solid."""
    rng = np.random.default_rng(10 + n)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 3, n),
                          "c": rng.choice(["x", "y"], n), "y": ["p", "q"] * (n // 2)})
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    assert run_benchmark(path, "y").leaks == []


@pytest.mark.slow
def test_an_id_in_label_sorted_data_no_longer_flips_the_verdict(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The reported chain: benchmark rows from such a file made `assess` say no-ml."""
    monkeypatch.setenv("MLADVISOR_HOME", str(tmp_path / "home"))
    frame = _sorted_by_label()
    frame.insert(0, "patient_id", np.arange(1000, 1000 + len(frame)))
    data, bench, answers = tmp_path / "p.csv", tmp_path / "bench.csv", tmp_path / "a.yaml"
    frame.to_csv(data, index=False)
    answers.write_text(
        "schema: mladvisor.answers/1\n"
        "project: {name: Readmission risk, respondent: Test, stage: experimentation}\n"
        "business:\n  problem_statement: Predict readmission\n  objective_measurable: true\n"
        "  stakeholders_aligned: true\n"
        "  success_criteria: [{metric: f1_macro, threshold: 0.8, goal: at-least}]\n"
        "problem: {task: tabular-classification, rules_suffice: false}\n"
        "data: {available: true, sources_identified: true, labeled_examples: 600, "
        "quality: good, inputs_outputs_defined: true}\n")
    code, _, _ = _run("benchmark", str(data), "--target", "readmitted", "--out", str(bench))
    assert code == 0
    code, stdout, _ = _run("assess", str(answers), "--benchmarks", str(bench), "--no-record",
                           "--format", "json")
    assert code == 0
    decision = json.loads(stdout)
    assert decision["verdict"] != "ml-not-recommended"
    assert (decision["strategy"] or {}).get("rung") != "no-ml"


@pytest.mark.slow
def test_the_leakage_check_is_bounded_on_wide_files_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.evidence.benchmark as benchmark

    monkeypatch.setattr(benchmark, "LEAKAGE_MAX_FEATURES", 3)
    frame, target = _leaky("string-copy")  # x1, x2, color, then outcome_copy (the 4th)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    result = run_benchmark(path, target)
    assert result.leaks == [] and result.unchecked_features == 1
    assert any("covered the first 3 features; 1 more" in text for _, text in result.notes())


@pytest.mark.slow
def test_column_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    frame = _sorted_by_label()
    frame.insert(0, "user_id\x1b[2J", np.arange(len(frame)))
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    code, stdout, stderr = _run("benchmark", str(path), "--target", "readmitted")
    assert code == 0
    assert "ignored column" in stderr and "\\x1b" in stdout + stderr
    assert "\x1b" not in stdout + stderr


@pytest.mark.slow
def test_row_order_ids_are_found_in_a_file_sampled_down_to_max_rows(tmp_path: Path) -> None:
    frame = _sorted_by_label(n=900)
    frame.insert(0, "seq", np.arange(len(frame)))  # no id name: only the row order gives it away
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    result = run_benchmark(path, "readmitted", max_rows=500)
    assert result.rows[0]["train_rows"] == 500
    assert "seq" in result.ignored


@pytest.mark.parametrize("extra", [1, 2])
def test_rows_longer_than_the_header_are_refused_not_shifted(tmp_path: Path, extra: int) -> None:
    """pandas quietly made the first column the index and shifted every other under the
    wrong name: the target became another column."""
    rows = ["age,label"] + [",".join(str(v) for v in [i, i % 2, *[(i // 2) % 3] * extra])
                            for i in range(100)]
    data = tmp_path / "ragged.csv"
    data.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["benchmark", str(data), "--target", "label"])
    assert result.exit_code == 2
    assert "more values than the header" in result.output
    assert len(result.output.strip().splitlines()) == 1
