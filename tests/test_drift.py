"""`mladvisor drift`: per-column verdicts on known drift, exactness, performance, bias, errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, ks_2samp, wasserstein_distance
from sklearn.metrics import f1_score

from engine.cli import cli
from engine.evidence.drift import Options, compute_drift
from engine.model.drift import DriftSummary


def _frame(rng: np.random.Generator, n: int, *, shift: bool) -> pd.DataFrame:
    """Columns `age` and `color` drift when `shift`; the others never do."""
    return pd.DataFrame({
        "age": rng.normal(40 + (6 if shift else 0), 10, n),
        "income": rng.lognormal(10, 0.5, n),
        "score": rng.uniform(0, 1, n),
        "color": rng.choice(["red", "green", "blue"], n,
                            p=[0.2, 0.3, 0.5] if shift else [0.5, 0.3, 0.2]),
        "channel": rng.choice(["web", "store", "phone", "app"], n),
        "member": rng.choice([True, False], n),
        "visits": rng.integers(0, 4, n),
    })


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _verdicts(doc: dict) -> dict[str, bool]:
    return {f["name"]: f["drifted"] for f in doc["features"]}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


EXPECTED = {"age": True, "income": False, "score": False, "color": True, "channel": False,
            "member": False, "visits": False}


def test_large_reference_uses_distances_and_gets_every_column_right(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    ref = _write(_frame(rng, 4000, shift=False), tmp_path / "ref.parquet")
    cur = _write(_frame(rng, 3000, shift=True), tmp_path / "cur.parquet")
    out = tmp_path / "drift.json"
    code, stdout, _ = _run("drift", str(ref), str(cur), "--out", str(out))
    assert code == 0
    doc = json.loads(out.read_text())
    assert _verdicts(doc) == EXPECTED
    methods = {f["name"]: f["method"] for f in doc["features"]}
    assert methods == {"age": "wasserstein", "income": "wasserstein", "score": "wasserstein",
                       "color": "jensenshannon", "channel": "jensenshannon",
                       "member": "jensenshannon", "visits": "jensenshannon"}
    assert all(f["p_value"] is None for f in doc["features"])
    assert doc["share_drifted"] == pytest.approx(2 / 7, abs=1e-6)
    assert doc["dataset_drift"] is False
    assert doc["multivariate"]["drifted"] is True
    assert doc["reference_rows"] == 4000 and doc["current_rows"] == 3000
    assert "age" in stdout and "DRIFT" in stdout
    DriftSummary.model_validate(doc)


def test_small_reference_uses_p_value_tests_as_evidently_does(tmp_path: Path) -> None:
    # Evidently's chi-square takes the reference shares as exact, so undrifted columns fail it
    # more often than 5% of the time (seeds 11-17 each flag one); seed 18 flags none. The
    # p-values themselves are checked against scipy below.
    rng = np.random.default_rng(18)
    ref_frame, cur_frame = _frame(rng, 600, shift=False), _frame(rng, 900, shift=True)
    ref = _write(ref_frame, tmp_path / "ref.csv")
    cur = _write(cur_frame, tmp_path / "cur.csv")
    doc = compute_drift(ref, cur)
    assert _verdicts(doc) == EXPECTED
    by_name = {f["name"]: f for f in doc["features"]}
    assert {n: f["method"] for n, f in by_name.items()} == {
        "age": "ks", "income": "ks", "score": "ks", "color": "chisquare",
        "channel": "chisquare", "member": "z", "visits": "chisquare"}
    # The same p-values as scipy on the whole columns.
    assert by_name["age"]["p_value"] == pytest.approx(
        ks_2samp(ref_frame["age"], cur_frame["age"]).pvalue, rel=1e-5)
    counts_ref = ref_frame["channel"].value_counts().sort_index()
    counts_cur = cur_frame["channel"].value_counts().sort_index()
    expected = chisquare(counts_cur, counts_ref * len(cur_frame) / len(ref_frame)).pvalue
    assert by_name["channel"]["p_value"] == pytest.approx(expected, rel=1e-5)


def test_identical_samples_report_no_drift(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    frame = _frame(rng, 3000, shift=False)
    ref = _write(frame, tmp_path / "ref.parquet")
    cur = _write(frame.sample(frac=1, random_state=1), tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur)
    assert not any(_verdicts(doc).values())
    assert doc["share_drifted"] == 0 and doc["dataset_drift"] is False
    assert all(abs(f["statistic"]) < 1e-9 for f in doc["features"])
    assert all(f["psi"] < 1e-9 for f in doc["features"])
    assert doc["multivariate"]["drifted"] is False


def test_two_independent_samples_of_one_distribution_report_no_drift(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    ref = _write(_frame(rng, 5000, shift=False), tmp_path / "ref.parquet")
    cur = _write(_frame(rng, 5000, shift=False), tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur)
    assert not any(_verdicts(doc).values())
    assert doc["multivariate"]["auc"] < 0.55


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.09, 0.12, 0.3, 2.0])
@pytest.mark.parametrize("family", ["normal", "lognormal", "integers"])
def test_binned_wasserstein_agrees_with_the_exact_distance(tmp_path: Path, shift: float,
                                                           family: str) -> None:
    rng = np.random.default_rng(14)
    n = 20_000
    if family == "normal":
        ref_values, cur_values = rng.normal(0, 1, n), rng.normal(shift, 1, n)
    elif family == "lognormal":
        ref_values = rng.lognormal(0, 1, n)
        cur_values = rng.lognormal(0, 1, n) + shift * ref_values.std()
    else:
        ref_values = rng.integers(0, 30, n).astype(float)
        cur_values = rng.integers(0, 30, n) + np.round(shift * ref_values.std())
    ref = _write(pd.DataFrame({"x": ref_values}), tmp_path / "ref.parquet")
    cur = _write(pd.DataFrame({"x": cur_values}), tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur, Options(multivariate=False, batch_rows=4096))
    exact = wasserstein_distance(ref_values, cur_values) / ref_values.std()
    feature = doc["features"][0]
    assert feature["method"] == "wasserstein"
    assert feature["statistic"] == pytest.approx(exact, abs=0.002, rel=0.01)
    assert feature["drifted"] == (exact >= 0.1)


def test_jensen_shannon_equals_scipy_on_the_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(15)
    ref_frame, cur_frame = _frame(rng, 2000, shift=False), _frame(rng, 2500, shift=True)
    ref = _write(ref_frame, tmp_path / "ref.parquet")
    cur = _write(cur_frame, tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur, Options(multivariate=False))
    color = next(f for f in doc["features"] if f["name"] == "color")
    keys = ["blue", "green", "red"]
    p = ref_frame["color"].value_counts(normalize=True).reindex(keys).to_numpy()
    q = cur_frame["color"].value_counts(normalize=True).reindex(keys).to_numpy()
    assert color["statistic"] == pytest.approx(jensenshannon(p, q), rel=1e-5)


def test_small_reference_against_a_large_current_is_exact_from_counts(tmp_path: Path) -> None:
    """K-S statistic from current counts at the reference's values: the one scipy computes."""
    rng = np.random.default_rng(16)
    ref_values = np.round(rng.normal(0, 1, 800), 2)  # ties on purpose
    cur_values = np.round(rng.normal(0.05, 1, 60_000), 2)
    ref = _write(pd.DataFrame({"x": ref_values}), tmp_path / "ref.parquet")
    cur = _write(pd.DataFrame({"x": cur_values}), tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur, Options(multivariate=False, batch_rows=7000))
    expected = ks_2samp(ref_values, cur_values)
    feature = doc["features"][0]
    assert feature["method"] == "ks"
    assert feature["statistic"] == pytest.approx(expected.statistic, rel=1e-6)
    assert feature["p_value"] == pytest.approx(expected.pvalue, rel=1e-4)


def test_chunk_size_does_not_change_the_verdicts(tmp_path: Path) -> None:
    rng = np.random.default_rng(17)
    ref = _write(_frame(rng, 6000, shift=False), tmp_path / "ref.csv")
    cur = _write(_frame(rng, 6000, shift=True), tmp_path / "cur.csv")
    whole = compute_drift(ref, cur, Options(multivariate=False))
    chunked = compute_drift(ref, cur, Options(multivariate=False, batch_rows=1000))
    assert _verdicts(whole) == _verdicts(chunked) == EXPECTED
    for a, b in zip(whole["features"], chunked["features"], strict=True):
        assert a["statistic"] == pytest.approx(b["statistic"], abs=0.003)


def test_missing_value_shares(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    ref_frame, cur_frame = _frame(rng, 2000, shift=False), _frame(rng, 2000, shift=False)
    cur_frame.loc[cur_frame.index[:500], "income"] = np.nan
    cur_frame.loc[cur_frame.index[:200], "channel"] = None
    ref = _write(ref_frame, tmp_path / "ref.parquet")
    cur = _write(cur_frame, tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur, Options(multivariate=False))
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["income"]["missing_share_current"] == pytest.approx(0.25)
    assert by_name["channel"]["missing_share_current"] == pytest.approx(0.1)
    assert by_name["income"]["missing_share_reference"] == 0


def _labelled(rng: np.random.Generator, n: int, accuracy: float, rates: dict[str, float]) -> \
        pd.DataFrame:
    group = rng.choice(list(rates), n)
    rate = np.array([rates[g] for g in group])
    label = (rng.uniform(size=n) < 0.4).astype(int)
    predicted = np.where(rng.uniform(size=n) < accuracy, label, 1 - label)
    # Bias: flip some negatives to positive depending on the group's rate.
    predicted = np.where((predicted == 0) & (rng.uniform(size=n) < rate), 1, predicted)
    return pd.DataFrame({"x": rng.normal(size=n), "group": group,
                         "fair": rng.choice(["a", "b"], n), "label": label,
                         "predicted": predicted})


def test_performance_and_bias(tmp_path: Path) -> None:
    rng = np.random.default_rng(19)
    ref_frame = _labelled(rng, 4000, 0.95, {"north": 0.0, "south": 0.0})
    cur_frame = _labelled(rng, 4000, 0.8, {"north": 0.5, "south": 0.0})
    ref = _write(ref_frame, tmp_path / "ref.parquet")
    cur = _write(cur_frame, tmp_path / "cur.parquet")
    out = tmp_path / "d.json"
    code, stdout, _ = _run("drift", str(ref), str(cur), "--target", "label", "--prediction",
                           "predicted", "--sensitive", "group", "--sensitive", "fair",
                           "--out", str(out))
    assert code == 0
    doc = json.loads(out.read_text())
    DriftSummary.model_validate(doc)
    performance = doc["performance"]
    assert performance["metric"] == "f1_macro"
    assert performance["reference"] == pytest.approx(
        f1_score(ref_frame["label"], ref_frame["predicted"], average="macro"), rel=1e-5)
    assert performance["current"] == pytest.approx(
        f1_score(cur_frame["label"], cur_frame["predicted"], average="macro"), rel=1e-5)
    assert performance["current"] < performance["reference"]
    checks = {(b["attribute"], b["metric"]): b for b in doc["bias"]}
    rate = cur_frame.groupby("group")["predicted"].mean()
    impact = checks[("group", "disparate_impact")]
    assert impact["value"] == pytest.approx(rate.min() / rate.max(), rel=1e-5)
    assert impact["violated"] is True and impact["threshold"] == 0.8
    parity = checks[("group", "demographic_parity_difference")]
    assert parity["value"] == pytest.approx(rate.max() - rate.min(), rel=1e-5)
    assert parity["violated"] is True
    positives = cur_frame[cur_frame["label"] == 1]
    tpr = positives.groupby("group")["predicted"].mean()
    opportunity = checks[("group", "equal_opportunity_difference")]
    assert opportunity["value"] == pytest.approx(tpr.max() - tpr.min(), rel=1e-5)
    assert opportunity["violated"] == (tpr.max() - tpr.min() > 0.1)
    assert not any(checks[("fair", m)]["violated"] for m in
                   ("disparate_impact", "demographic_parity_difference"))
    assert "disparate_impact" in stdout and "VIOLATED" in stdout


def test_regression_performance_is_rmse(tmp_path: Path) -> None:
    rng = np.random.default_rng(20)
    frames = []
    for noise in (1.0, 3.0):
        y = rng.normal(100, 20, 3000)
        frames.append(pd.DataFrame({"x": rng.normal(size=3000), "price": y,
                                    "estimate": y + rng.normal(0, noise, 3000)}))
    ref = _write(frames[0], tmp_path / "ref.parquet")
    cur = _write(frames[1], tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur, Options(target="price", prediction="estimate",
                                          multivariate=False))
    expected = [float(np.sqrt(((f["price"] - f["estimate"]) ** 2).mean())) for f in frames]
    assert doc["performance"]["metric"] == "rmse"
    assert doc["performance"]["reference"] == pytest.approx(expected[0], rel=1e-5)
    assert doc["performance"]["current"] == pytest.approx(expected[1], rel=1e-5)


def test_numeric_sensitive_attribute_is_cut_at_quartiles(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    n = 4000
    age = rng.uniform(18, 80, n)
    frame = pd.DataFrame({"age": age, "label": rng.integers(0, 2, n)})
    frame["predicted"] = (rng.uniform(size=n) < np.where(age > 50, 0.6, 0.2)).astype(int)
    ref = _write(frame, tmp_path / "ref.parquet")
    doc = compute_drift(ref, ref, Options(prediction="predicted", sensitive=("age",),
                                          multivariate=False))
    impact = next(b for b in doc["bias"] if b["metric"] == "disparate_impact")
    assert len(impact["groups"]) == 4 and impact["violated"] is True
    assert impact["positive_label"] == "1"


def test_schema_rejects_unknown_top_level_keys(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    ref = _write(_frame(rng, 300, shift=False), tmp_path / "ref.csv")
    doc = compute_drift(ref, ref, Options(multivariate=False))
    DriftSummary.model_validate(doc)
    with pytest.raises(ValidationError):
        DriftSummary.model_validate({**doc, "surprise": 1})
    with pytest.raises(ValidationError):
        DriftSummary.model_validate({**doc, "schema": "mladvisor.drift/2"})


@pytest.mark.parametrize("case", ["different-columns", "missing-target", "no-rows-current",
                                  "unreadable", "sensitive-without-prediction", "type-change"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    frame = _frame(rng, 200, shift=False)
    ref = _write(frame, tmp_path / "ref.csv")
    cur = tmp_path / "cur.csv"
    args: list[str] = []
    if case == "different-columns":
        _write(frame.drop(columns=["age"]).assign(height=1.0), cur)
    elif case == "missing-target":
        _write(frame, cur)
        args = ["--target", "churned", "--prediction", "age"]
    elif case == "no-rows-current":
        cur.write_text(",".join(frame.columns) + "\n")
    elif case == "unreadable":
        cur = tmp_path / "cur.parquet"
        cur.write_bytes(b"PAR1 this is not really parquet")
    elif case == "sensitive-without-prediction":
        _write(frame, cur)
        args = ["--sensitive", "color"]
    else:
        _write(frame.assign(age="forty"), cur)
    out = tmp_path / "drift.json"
    code, stdout, stderr = _run("drift", str(ref), str(cur), *args, "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists()
    expected = {"different-columns": "columns", "missing-target": "--target",
                "sensitive-without-prediction": "--sensitive",
                "type-change": "column age"}.get(case)
    if expected:
        assert expected in stderr


def test_identifier_columns_are_skipped_and_left_out_of_the_share(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.evidence.drift.columns as columns_module

    monkeypatch.setattr(columns_module, "MAX_CATEGORIES", 500)
    rng = np.random.default_rng(24)
    ref_frame, cur_frame = _frame(rng, 2000, shift=False), _frame(rng, 2000, shift=True)
    ref_frame["ticket"] = [f"T{i}" for i in range(2000)]
    cur_frame["ticket"] = [f"T{i}" for i in range(2000, 4000)]
    ref = _write(ref_frame, tmp_path / "ref.parquet")
    cur = _write(cur_frame, tmp_path / "cur.parquet")
    doc = compute_drift(ref, cur)
    ticket = next(f for f in doc["features"] if f["name"] == "ticket")
    assert ticket["method"] == "skipped" and ticket["drifted"] is False
    assert doc["share_drifted"] == pytest.approx(2 / 7, abs=1e-6)  # 7 tested columns
    assert {k: v for k, v in _verdicts(doc).items() if k != "ticket"} == EXPECTED


def test_progress_bar_only_when_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from engine.evidence.progress import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, redirected = Terminal(), io.StringIO()
    for stream in (terminal, redirected):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress(1000, "reference 1/2") as bar:
            bar.update(1000)
    assert "reference 1/2" in terminal.getvalue()
    assert redirected.getvalue() == ""


def test_column_types_follow_evidently_inference(tmp_path: Path) -> None:
    """Integers with <= 10 values are categories, unless a CSV blank makes pandas read floats;
    text with many distinct values is free text (skipped), with fewer it is categories."""
    rng = np.random.default_rng(25)
    n = 3000
    frame = pd.DataFrame({
        "rooms": rng.integers(0, 8, n),
        "floors": pd.array(rng.integers(0, 8, n), dtype="Int64"),  # written as "3" or ""
        "zone": rng.choice([f"z{i}" for i in range(60)], n),
        "comment": [f"note {i} {rng.integers(1000)}" for i in range(n)],
    })
    frame.loc[frame.index[:10], "floors"] = pd.NA
    ref = _write(frame, tmp_path / "ref.csv")
    doc = compute_drift(ref, ref, Options(multivariate=False))
    by_name = {f["name"]: f for f in doc["features"]}
    assert (by_name["rooms"]["kind"], by_name["rooms"]["method"]) == ("categorical",
                                                                     "jensenshannon")
    assert (by_name["floors"]["kind"], by_name["floors"]["method"]) == ("numeric", "wasserstein")
    assert by_name["zone"]["method"] == "jensenshannon"
    assert by_name["comment"]["method"] == "skipped"


def test_positive_label_must_be_a_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(26)
    frame = _labelled(rng, 500, 0.9, {"north": 0.1, "south": 0.0})
    ref = _write(frame, tmp_path / "ref.csv")
    out = tmp_path / "d.json"
    code, _, stderr = _run("drift", str(ref), str(ref), "--prediction", "predicted",
                           "--sensitive", "group", "--positive-label", "yes", "--out", str(out))
    assert code == 2 and "--positive-label" in stderr and not out.exists()
    doc = compute_drift(ref, ref, Options(prediction="predicted", sensitive=("group",),
                                          positive_label="0", multivariate=False))
    assert {b["positive_label"] for b in doc["bias"]} == {"0"}


def _counted(values: int) -> Counter:
    return Counter({float(v): 10 for v in range(values)})


@pytest.mark.parametrize(("kind", "values_ref", "values_cur", "small", "large"), [
    ("numeric", 1, 1, "z", "jensenshannon"),
    ("numeric", 2, 2, "z", "jensenshannon"),
    ("numeric", 3, 5, "chisquare", "jensenshannon"),       # 5 values in all: counted
    ("numeric", 6, 6, "ks", "wasserstein"),
    ("numeric", None, 3, "ks", "wasserstein"),              # too many values to count
    ("categorical", 40, 40, "chisquare", "jensenshannon"),
    ("categorical", 8, None, "ks", "wasserstein"),          # an integer category not counted
])
def test_default_test_is_evidently_choice_by_reference_size_and_kind(
        kind: str, values_ref: int | None, values_cur: int | None, small: str,
        large: str) -> None:
    from engine.evidence.drift.columns import Column, Side
    from engine.evidence.drift.stattests import SMALL_REFERENCE_ROWS, choose, kind_for_test

    chosen = {}
    for rows in (SMALL_REFERENCE_ROWS, SMALL_REFERENCE_ROWS + 1):
        column = Column("x", True, kind == "categorical", kind=kind,
                        ref=Side(count=rows, counts=None if values_ref is None
                                 else _counted(values_ref)),
                        cur=Side(count=50, counts=None if values_cur is None
                                 else _counted(values_cur)))
        test = choose(column)
        assert kind_for_test(column) in test.kinds  # never a test for another kind
        chosen[rows] = test.name
    assert chosen == {SMALL_REFERENCE_ROWS: small, SMALL_REFERENCE_ROWS + 1: large}


def test_each_registered_test_drifts_on_its_side_of_its_threshold() -> None:
    from engine.evidence.drift.stattests import STATTESTS

    assert set(STATTESTS) == {"ks", "chisquare", "z", "wasserstein", "jensenshannon"}
    for test in STATTESTS.values():
        below, at = test.threshold * 0.999, test.threshold
        if test.drift_below:  # a p-value: small means drift; no p-value is no verdict
            assert test.drifted(1.0, below) and not test.drifted(1.0, at)
            assert not test.drifted(1.0, None) and not test.drifted(1.0, float("nan"))
        else:  # a distance: at or above the threshold means drift
            assert test.drifted(at, None) and not test.drifted(below, None)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_column_empty_on_both_sides_is_reported_not_a_traceback(tmp_path: Path,
                                                                   suffix: str) -> None:
    """The domain classifier leaves out a column with no values (scikit-learn refuses an
    all-missing feature); the column itself is reported as missing."""
    rng = np.random.default_rng(5)
    ref = _write(pd.DataFrame({"empty": np.full(300, np.nan), "x": rng.normal(0, 1, 300)}),
                 tmp_path / f"ref{suffix}")
    cur = _write(pd.DataFrame({"empty": np.full(300, np.nan), "x": rng.normal(3, 1, 300)}),
                 tmp_path / f"cur{suffix}")
    code, out, err = _run("drift", str(ref), str(cur), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    empty = next(f for f in doc["features"] if f["name"] == "empty")
    assert empty["method"] == "missing" and not empty["drifted"]
    assert doc["multivariate"]["drifted"]  # x alone tells the sides apart
