"""`mladvisor drift --engine spark` against the default engine, on the same files, Spark in
local mode (`local[2]`, as on a two-core CI machine).

Agreement asserted: the same columns, kinds, tests, per-column verdicts and data-set verdict;
statistics within TOLERANCE. Counted statistics (Jensen-Shannon, chi-square, z, K-S from
counts) are exact on both engines. The binned Wasserstein distance is on different grids (the
default engine's from the Parquet statistics, Spark's from the reference's moments), each within
half a bin (0.0025 normalised) of the exact distance. PSI's decile edges come from a 20,000-row
sample on one side and percentile_approx on the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.evidence.drift import Options, compute_drift
from engine.evidence.drift.spark import compute_drift_spark
from engine.model.drift import DriftSummary
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
MASTER = "local[2]"
# Largest difference between the engines' figures that the tests accept.
TOLERANCE = {"exact": 1e-6, "wasserstein": 0.005, "psi": 0.02}


def _frame(rng: np.random.Generator, n: int, *, shift: bool) -> pd.DataFrame:
    """Columns `age`, `color` and `visits` drift when `shift`; the others never do."""
    income = rng.lognormal(10, 0.5, n)
    income[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "age": rng.normal(40 + (6 if shift else 0), 10, n),
        "income": income,
        "score": rng.uniform(0, 1, n),
        "color": rng.choice(["red", "green", "blue"], n,
                            p=[0.2, 0.3, 0.5] if shift else [0.5, 0.3, 0.2]),
        "channel": rng.choice(["web", "store", "phone", "app", None], n),
        "member": rng.choice([True, False], n),
        "visits": rng.integers(0, 4 + (4 if shift else 0), n),
    })


def _files(tmp_path: Path, seed: int, ref_rows: int, cur_rows: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    _frame(rng, ref_rows, shift=False).to_parquet(ref, index=False)
    _frame(rng, cur_rows, shift=True).to_parquet(cur, index=False)
    return ref, cur


def _assert_same(default: dict, spark: dict) -> None:
    assert spark["dataset_drift"] == default["dataset_drift"]
    assert spark["share_drifted"] == default["share_drifted"]
    assert (spark["reference_rows"], spark["current_rows"]) == \
        (default["reference_rows"], default["current_rows"])
    for ours, theirs in zip(default["features"], spark["features"], strict=True):
        same = ("name", "kind", "method", "drifted", "threshold", "missing_share_reference",
                "missing_share_current")
        assert {k: theirs[k] for k in same} == {k: ours[k] for k in same}
        tolerance = TOLERANCE["wasserstein" if ours["method"] == "wasserstein" else "exact"]
        for key, close in (("statistic", {"abs": tolerance, "rel": 1e-6}),
                           ("p_value", {"abs": 1e-12, "rel": 1e-5}),
                           ("psi", {"abs": TOLERANCE["psi"]})):
            if ours[key] is None:   # an infinite chi-square, or a distance's p-value
                assert theirs[key] is None, (ours["name"], key)
            else:
                assert theirs[key] == pytest.approx(ours[key], **close), (ours["name"], key)


def test_large_reference_same_verdicts_as_the_default_engine(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path, 1, 30_000, 25_000)
    default = compute_drift(ref, cur, Options())
    spark = compute_drift_spark(str(ref), str(cur), Options(), MASTER)
    _assert_same(default, spark)
    methods = {f["name"]: f["method"] for f in spark["features"]}
    assert methods == {"age": "wasserstein", "income": "wasserstein", "score": "wasserstein",
                       "color": "jensenshannon", "channel": "jensenshannon",
                       "member": "jensenshannon", "visits": "jensenshannon"}
    assert {f["name"] for f in spark["features"] if f["drifted"]} == {"age", "color", "visits"}
    assert spark["multivariate"]["drifted"] is True
    # Where Spark approximates, the file says so; counted columns are exact.
    for feature in spark["features"]:
        assert feature["approximate"] is (feature["method"] == "wasserstein")
    assert any("binned" in note for note in spark["features"][0]["approximated"])
    DriftSummary.model_validate(spark)


def test_small_reference_p_value_tests_agree_with_counts_from_spark(tmp_path: Path) -> None:
    """A 600-row reference: K-S, chi-square and z as Evidently chooses; the current side has
    more rows than the sample, so K-S counts come from Spark's buckets at the reference's
    values."""
    ref, cur = _files(tmp_path, 2, 600, 24_000)
    default = compute_drift(ref, cur, Options(multivariate=False))
    spark = compute_drift_spark(str(ref), str(cur), Options(multivariate=False), MASTER)
    _assert_same(default, spark)
    methods = {f["name"]: f["method"] for f in spark["features"]}
    assert methods["age"] == "ks" and methods["color"] == "chisquare"
    assert methods["member"] == "z"


def test_cli_writes_the_drift_file_and_the_table(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path, 3, 3_000, 3_000)
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(cli, ["drift", "--engine", "spark", "--spark-master", MASTER,
                                      "--no-multivariate", str(ref), str(cur), "--out",
                                      str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["schema"] == "mladvisor.drift/1" and doc["engine"] == "spark"
    assert "dataset drift:" in result.stdout
    DriftSummary.model_validate(doc)


def test_labels_are_refused_with_the_spark_engine(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path, 4, 1_500, 1_500)
    result = CliRunner().invoke(cli, ["drift", "--engine", "spark", "--spark-master", MASTER,
                                      str(ref), str(cur), "--target", "member",
                                      "--prediction", "member"])
    assert result.exit_code == 2
    assert "--target/--prediction/--sensitive" in result.stderr


# A child where importing pyspark fails as it does when the extra is not installed.
NO_PYSPARK = r"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pyspark":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Absent())
from engine.cli import main
sys.argv = ["mladvisor", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("case", ["no-pyspark", "no-java"])
def test_without_pyspark_or_java_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    ref, cur = _files(tmp_path, 5, 200, 200)
    env = {**os.environ}
    code = NO_PYSPARK
    if case == "no-java":
        env.pop("JAVA_HOME", None)
        env["PATH"] = str(tmp_path)     # no java on it
        code = NO_PYSPARK.replace('"pyspark"', '"no-such-module"')
    result = subprocess.run([sys.executable, "-c", code, "drift", "--engine", "spark",
                             str(ref), str(cur)], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--engine" in lines[0]
    expected = "pip install 'mladvisor[spark]'" if case == "no-pyspark" else \
        "default-jre-headless"
    assert expected in lines[0]
