"""Baselines trained with scikit-learn: the evidence behind "start with the simplest solution".

Each candidate is cross-validated (stratified for classification) with a fixed random state, and
also trained on a quarter and a half of each training fold, so the rows carry a learning curve:
`learning_curve_gain` is the primary metric at full size minus the one at half size (positive:
more labels would still help). Output rows follow the benchmarks format of CONTRACT section 4.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.evidence.progress import progress


def candidate_rungs() -> dict[str, str]:
    """The rung each baseline is filed under: knowledge/ladder.yaml `baseline_rungs`."""
    from engine.knowledge import load_ladder

    return dict(load_ladder().baseline_rungs)

# --task accepts the short names and the contract's task ids that map onto them.
TASK_ALIASES = {
    "classification": "classification",
    "regression": "regression",
    "text-classification": "text-classification",
    "tabular-classification": "classification",
    "tabular-regression": "regression",
    "sentiment-analysis": "text-classification",
}
CLASSIFICATION_METRICS = ("accuracy", "f1", "f1_macro", "auc")
REGRESSION_METRICS = ("rmse", "mae", "r2")
PRIMARY_METRIC = {"classification": "f1_macro", "text-classification": "f1_macro",
                  "regression": "r2"}

# A numeric target with more distinct values than this (or any non-integer value) is regression.
MAX_CLASSES_FOR_NUMERIC_TARGET = 20
# Training-set fractions of the learning curve; the gain is measured from 0.5 to 1.0.
CURVE_FRACTIONS = (0.25, 0.5, 1.0)
DEFAULT_FOLDS = 5
DEFAULT_MAX_ROWS = 50_000
RANDOM_STATE = 0
# A string column with more distinct values than this share of rows is an id or free text.
ID_LIKE_SHARE = 0.5
# HistGradientBoosting handles at most this many categories natively.
MAX_NATIVE_CATEGORIES = 250


@dataclass
class BenchmarkResult:
    task: str
    target: str
    rows: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []


def run_benchmark(path: Path, target: str, task: str | None = None,
                  text_column: str | None = None, folds: int = DEFAULT_FOLDS,
                  max_rows: int = DEFAULT_MAX_ROWS) -> BenchmarkResult:
    """Train and cross-validate the baseline candidates on one file."""
    import numpy as np

    frame = _load(path, target, text_column, max_rows)
    task = _resolve_task(path, frame[target], task, text_column)
    y, n_splits = _encode_target(path, frame[target], task, folds)
    features, dropped = _features(path, frame, target, text_column, task)
    candidates = _candidates(task, features)

    from sklearn.model_selection import KFold, StratifiedKFold
    from threadpoolctl import threadpool_limits

    classify = task != "regression"
    splitter = (StratifiedKFold(n_splits, shuffle=True, random_state=RANDOM_STATE) if classify
                else KFold(n_splits, shuffle=True, random_state=RANDOM_STATE))
    splits = list(splitter.split(np.zeros(len(y)), y))
    metric_names = CLASSIFICATION_METRICS if classify else REGRESSION_METRICS
    primary = PRIMARY_METRIC[task]
    n_classes = int(y.max()) + 1 if classify else 0

    scores: dict[str, dict[str, list[float]]] = {name: {} for name in candidates}
    curve_scores: dict[str, dict[float, list[float]]] = {name: {} for name in candidates}
    curve_sizes: dict[float, list[int]] = {}
    fit_times: dict[str, list[float]] = {name: [] for name in candidates}
    bar = progress(len(splits) * len(candidates) * len(CURVE_FRACTIONS), "benchmark", "fits")
    # One thread: on a shared or busy machine OpenMP's spinning workers made gradient boosting
    # 20x slower here (6 s instead of 0.25 s per fit on 4,000 rows).
    with bar, threadpool_limits(limits=1):
        for fold, (train_idx, test_idx) in enumerate(splits):
            X_test, y_test = features.iloc[test_idx], y[test_idx]
            for fraction in CURVE_FRACTIONS:
                part = _subsample(train_idx, y, fraction, classify, fold)
                curve_sizes.setdefault(fraction, []).append(len(part))
                for name, make in candidates.items():
                    model = make()
                    started = time.perf_counter()
                    model.fit(features.iloc[part], y[part])
                    elapsed = time.perf_counter() - started
                    if fraction == 1.0:
                        fit_times[name].append(elapsed)
                        measured = _metrics(model, X_test, y_test, classify, n_classes)
                        for metric, value in measured.items():
                            scores[name].setdefault(metric, []).append(value)
                        value = measured[primary]
                    else:
                        value = _primary(model, X_test, y_test, classify)
                    curve_scores[name].setdefault(fraction, []).append(value)
                    bar.update(1)

    rows: list[dict[str, Any]] = []
    curve: list[dict[str, Any]] = []
    rungs = candidate_rungs()
    for name in candidates:
        row: dict[str, Any] = {"candidate": name, "rung": rungs[name], "service": ""}
        for metric in metric_names:
            row[metric] = _mean(scores[name][metric])
        row["train_rows"] = len(y)
        row["cv_folds"] = n_splits
        row["learning_curve_gain"] = round(
            _mean(curve_scores[name][1.0]) - _mean(curve_scores[name][0.5]), 6)
        row["fit_seconds"] = round(float(np.mean(fit_times[name])), 3)
        rows.append(row)
        for fraction in CURVE_FRACTIONS:
            curve.append({"candidate": name, "fraction": fraction,
                          "train_rows": int(round(float(np.mean(curve_sizes[fraction])))),
                          "metric": primary, "value": _mean(curve_scores[name][fraction])})
    return BenchmarkResult(task=task, target=target, rows=rows, curve=curve,
                           dropped_columns=dropped)


def _mean(values: list[float]) -> float:
    import numpy as np

    finite = [v for v in values if np.isfinite(v)]
    return round(float(np.mean(finite)), 6) if finite else float("nan")


def _load(path: Path, target: str, text_column: str | None, max_rows: int) -> Any:
    from engine.evidence.tables import read_frame

    frame = read_frame(path, max_rows=max_rows, seed=RANDOM_STATE)
    if len(frame.columns) == 0 or len(frame) == 0:
        raise InputError(str(path), "", "expected at least one data row", "no rows")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target not in columns:
        raise InputError(str(path), "--target", f"expected a column of the file ({_list(columns)})",
                         target)
    if text_column is not None and text_column not in columns:
        raise InputError(str(path), "--text-column",
                         f"expected a column of the file ({_list(columns)})", text_column)
    frame = frame[frame[target].notna()]
    if len(frame) == 0:
        raise InputError(str(path), f"column {target}", "expected rows with a target value",
                         "no rows with a target")
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=RANDOM_STATE)
    return frame.reset_index(drop=True)


def _list(columns: list[str]) -> str:
    shown = ", ".join(columns[:8])
    return shown + (", ..." if len(columns) > 8 else "")


def _resolve_task(path: Path, target: Any, task: str | None, text_column: str | None) -> str:
    import pandas as pd

    if task is not None:
        resolved = TASK_ALIASES.get(task)
        if resolved is None:
            raise InputError(str(path), "--task", f"expected one of {', '.join(TASK_ALIASES)}",
                             task)
        if resolved == "text-classification" and text_column is None:
            raise InputError(str(path), "--text-column",
                             "expected a text column for text classification", "none given")
        if resolved == "regression" and not _is_numeric(target):
            raise InputError(str(path), f"column {target.name}",
                             "expected a numeric target for regression", str(target.dtype))
        return resolved
    if text_column is not None:
        return "text-classification"
    if _is_numeric(target):
        values = pd.to_numeric(target).astype(float)
        non_integer = bool(((values % 1) != 0).any())
        if non_integer or values.nunique() > MAX_CLASSES_FOR_NUMERIC_TARGET:
            return "regression"
    return "classification"


def _is_numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _encode_target(path: Path, target: Any, task: str, folds: int) -> tuple[Any, int]:
    import numpy as np

    if task == "regression":
        y = target.to_numpy(dtype=float)
        if len(y) < 4:
            raise InputError(str(path), f"column {target.name}",
                             "expected at least 4 rows for cross-validation", f"{len(y)} rows")
        return y, max(2, min(folds, len(y) // 2))
    labels = target.map(str) if target.dtype == object else target
    classes, y = np.unique(labels.to_numpy(), return_inverse=True)
    if len(classes) < 2:
        raise InputError(str(path), f"column {target.name}", "expected at least two classes",
                         f"one class ({classes[0]!r})" if len(classes) else "no classes")
    counts = np.bincount(y)
    if counts.min() < 2:
        rare = classes[int(counts.argmin())]
        raise InputError(str(path), f"column {target.name}",
                         "expected at least 2 rows per class for cross-validation",
                         f"class {rare!r} has 1 row")
    return y, max(2, min(folds, int(counts.min())))


def _features(path: Path, frame: Any, target: str, text_column: str | None,
              task: str) -> tuple[Any, list[str]]:
    import numpy as np
    import pandas as pd

    if task == "text-classification":
        assert text_column is not None
        text = frame[text_column].fillna("").astype(str)
        return pd.DataFrame({text_column: text}), []
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        if column.notna().sum() == 0 or pd.api.types.is_datetime64_any_dtype(column):
            dropped.append(name)
        elif pd.api.types.is_bool_dtype(column):
            kept[name] = column.astype(float)
        elif pd.api.types.is_numeric_dtype(column):
            kept[name] = column.astype(float)
        else:
            as_text = column.astype(object).where(column.notna(), np.nan)
            as_text = as_text.map(lambda v: v if v is np.nan else str(v))
            distinct = as_text.nunique()
            if distinct > 50 and distinct > ID_LIKE_SHARE * len(frame):
                dropped.append(name)  # an id or free text: pass it as --text-column instead
            else:
                kept[name] = as_text
    if not kept:
        raise InputError(str(path), "", "expected at least one feature column besides the target",
                         f"none usable ({_list(dropped)})" if dropped else "only the target")
    return pd.DataFrame(kept), dropped


def _candidates(task: str, features: Any) -> dict[str, Any]:
    """Factories of unfitted models, simplest first."""
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rs = RANDOM_STATE
    if task == "text-classification":
        column = features.columns[0]

        def tfidf(**kwargs: Any) -> ColumnTransformer:
            return ColumnTransformer([("text", TfidfVectorizer(sublinear_tf=True, **kwargs),
                                       column)])

        return {
            "majority-baseline": lambda: DummyClassifier(strategy="most_frequent"),
            # A depth-one tree over word weights is a keyword rule: "if the text says X".
            "one-rule": lambda: make_pipeline(tfidf(), DecisionTreeClassifier(max_depth=1,
                                                                              random_state=rs)),
            "linear-model": lambda: make_pipeline(tfidf(ngram_range=(1, 2), max_features=50_000),
                                                  LogisticRegression(max_iter=1000)),
        }

    numeric = [c for c in features.columns if features[c].dtype.kind == "f"]
    categorical = [c for c in features.columns if c not in numeric]
    native = [c for c in categorical if features[c].nunique() <= MAX_NATIVE_CATEGORIES]

    def ordinal() -> ColumnTransformer:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                 encoded_missing_value=-1)
        return ColumnTransformer([("num", "passthrough", numeric),
                                  ("cat", encoder, categorical)])

    def scaled() -> ColumnTransformer:
        parts: list[tuple[str, Any, list[str]]] = []
        if numeric:
            parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                                           ("scale", StandardScaler())]), numeric))
        if categorical:
            parts.append(("cat", Pipeline([
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                         max_categories=50)),
            ]), categorical))
        return ColumnTransformer(parts)

    native_mask = [False] * len(numeric) + [c in native for c in categorical]
    if task == "regression":
        return {
            "mean-baseline": lambda: DummyRegressor(strategy="mean"),
            "one-rule": lambda: make_pipeline(ordinal(), DecisionTreeRegressor(max_depth=1,
                                                                               random_state=rs)),
            "linear-model": lambda: make_pipeline(scaled(), Ridge(alpha=1.0)),
            "gradient-boosting": lambda: make_pipeline(ordinal(), HistGradientBoostingRegressor(
                categorical_features=native_mask, random_state=rs)),
        }
    return {
        "majority-baseline": lambda: DummyClassifier(strategy="most_frequent"),
        "one-rule": lambda: make_pipeline(ordinal(), DecisionTreeClassifier(max_depth=1,
                                                                            random_state=rs)),
        "linear-model": lambda: make_pipeline(scaled(), LogisticRegression(max_iter=1000)),
        "gradient-boosting": lambda: make_pipeline(ordinal(), HistGradientBoostingClassifier(
            categorical_features=native_mask, random_state=rs)),
    }


def _subsample(train_idx: Any, y: Any, fraction: float, classify: bool, fold: int) -> Any:
    """A fixed, stratified where possible, fraction of a training fold."""
    import numpy as np

    if fraction >= 1.0:
        return train_idx
    from sklearn.model_selection import train_test_split

    size = max(2, int(round(len(train_idx) * fraction)))
    try:
        part, _ = train_test_split(train_idx, train_size=size, random_state=RANDOM_STATE + fold,
                                   stratify=y[train_idx] if classify else None)
    except ValueError:  # a class too rare to stratify at this size
        part, _ = train_test_split(train_idx, train_size=size, random_state=RANDOM_STATE + fold)
    if classify and len(np.unique(y[part])) < 2:
        return train_idx  # too small to learn from: use the full fold
    return np.sort(part)


def _primary(model: Any, X: Any, y: Any, classify: bool) -> float:
    from sklearn.metrics import f1_score, r2_score

    predicted = model.predict(X)
    if classify:
        return float(f1_score(y, predicted, average="macro"))
    return float(r2_score(y, predicted))


def _metrics(model: Any, X: Any, y: Any, classify: bool, n_classes: int) -> dict[str, float]:
    """Metrics under the names success criteria use.

    Binary: `f1` and `auc` are those of the positive class (the larger label when sorted, as
    scikit-learn orders them). Multiclass: `f1` is macro-averaged and `auc` is one-vs-rest macro.
    """
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
        roc_auc_score,
    )

    predicted = model.predict(X)
    if not classify:
        return {"rmse": float(np.sqrt(mean_squared_error(y, predicted))),
                "mae": float(mean_absolute_error(y, predicted)),
                "r2": float(r2_score(y, predicted))}
    proba = np.zeros((len(y), n_classes))
    proba[:, model.classes_] = model.predict_proba(X)
    f1_macro = float(f1_score(y, predicted, average="macro"))
    try:
        if n_classes == 2:
            auc = float(roc_auc_score(y, proba[:, 1]))
        else:
            auc = float(roc_auc_score(y, proba, multi_class="ovr", average="macro",
                                      labels=list(range(n_classes))))
    except ValueError:  # a class missing from this test fold
        auc = float("nan")
    return {"accuracy": float(accuracy_score(y, predicted)),
            "f1": float(f1_score(y, predicted, pos_label=1, average="binary")) if n_classes == 2
            else f1_macro,
            "f1_macro": f1_macro,
            "auc": auc}


def to_csv(rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def to_json(rows: list[dict[str, Any]]) -> str:
    import json
    import math

    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
             for row in rows]
    return json.dumps(clean, indent=2) + "\n"


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return value


def to_table(result: BenchmarkResult) -> str:
    """A readable, aligned table for the terminal."""
    metrics = [c for c in result.columns if c not in {"candidate", "rung", "service"}]
    header = ["candidate", "rung", *metrics]
    body = [[str(row["candidate"]), str(row["rung"]),
             *[_fmt(row[m]) for m in metrics]] for row in result.rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    lines = [f"task: {result.task}   target: {result.target}"]
    if result.dropped_columns:
        lines.append(f"ignored columns (ids, free text, dates, empty): "
                     f"{', '.join(result.dropped_columns)}")
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body)
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4f}"
    return str(value)
