"""Benchmark: what `mladvisor benchmark` costs over a plain scikit-learn cross-validation.

For each data set, the time of `run_benchmark` (four candidates, 5 folds, learning curve at a
quarter, half and all of each training fold) against `cross_validate` of the same four models
on full folds only, measured in the same run. The learning curve alone should cost about 1.75x;
the single-feature leakage check (one small tree per feature and fold) is timed on its own.

    python bench/bench_benchmark.py            # scikit-learn data sets + 50,000 synthetic rows
    python bench/bench_benchmark.py --quick    # the two small data sets only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def datasets(quick: bool) -> dict[str, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

    out = {"breast_cancer (binary)": load_breast_cancer(as_frame=True).frame,
           "diabetes (regression)": load_diabetes(as_frame=True).frame}
    if quick:
        return out
    out["digits (10 classes)"] = load_digits(as_frame=True).frame
    rng = np.random.default_rng(0)
    n = 50_000
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(12)})
    for i in range(4):
        frame[f"c{i}"] = rng.choice(["a", "b", "c", "d"], n)
    logit = frame["x0"] + (frame["c0"] == "a") * 1.5 - frame["x1"] * frame["x2"]
    frame["target"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    out["synthetic 50k x 16 (binary)"] = frame
    return out


def plain_cv(path: Path) -> tuple[float, float]:
    """Seconds for scikit-learn's cross_validate of the same four models, full folds only, and
    seconds of the single-feature leakage check that `run_benchmark` adds."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
    from threadpoolctl import threadpool_limits

    from engine.evidence.benchmark import (
        _candidates,
        _encode_target,
        _features,
        _leaks,
        _load,
        _resolve_task,
    )

    started = time.perf_counter()
    frame, ordered = _load(path, "target", None, 50_000)
    task = _resolve_task(path, frame["target"], None, None)
    y, folds, _ = _encode_target(path, frame["target"], task, 5)
    features, _, _ = _features(path, frame, "target", None, task, ordered)
    splitter = (KFold(folds, shuffle=True, random_state=0) if task == "regression"
                else StratifiedKFold(folds, shuffle=True, random_state=0))
    with threadpool_limits(limits=1):
        for make in _candidates(task, features).values():
            cross_validate(make(), features, y, cv=splitter)
    plain = time.perf_counter() - started
    started = time.perf_counter()
    _leaks(features, y, list(splitter.split(features, y)), task)
    return plain, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    from engine.evidence.benchmark import run_benchmark

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data sets only")
    args = parser.parse_args(argv)
    print(f"{'data set':30} {'rows':>7} {'mladvisor s':>12} {'plain cv s':>11} {'ratio':>6} "
          f"{'leak check s':>12}  best candidate")
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in datasets(args.quick).items():
            path = Path(tmp) / "data.parquet"
            frame.to_parquet(path, index=False)
            plain, leak_check = plain_cv(path)
            started = time.perf_counter()
            result = run_benchmark(path, "target")
            ours = time.perf_counter() - started
            metric = "r2" if result.task == "regression" else "f1_macro"
            best = max(result.rows, key=lambda r: r[metric])
            print(f"{name:30} {len(frame):>7} {ours:>12.2f} {plain:>11.2f} {ours / plain:>5.2f}x"
                  f" {leak_check:>12.2f}  {best['candidate']} {metric}={best[metric]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
