"""Baselines trained with scikit-learn: the evidence behind "start with the simplest solution".

Each candidate is cross-validated (stratified for classification) with a fixed random state, and
also trained on a quarter and a half of each training fold, so the rows carry a learning curve:
`learning_curve_gain` is the primary metric at full size minus the one at half size (positive:
more labels would still help). Output rows follow the benchmarks format of CONTRACT section 4.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.evidence.progress import progress
from engine.util.table import table_lines
from engine.util.text import for_terminal


def candidate_rungs() -> dict[str, str]:
    """The rung each baseline is filed under: knowledge/ladder.yaml `baseline_rungs`."""
    from engine.rulebase.knowledge import load_ladder

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
# Fewer distinct values than this never make a column an id or free text by their count alone
# (in a small file every code can be distinct).
MIN_ID_DISTINCT = 50

# Identifiers carry no signal about the label, yet when a file is sorted (by label, by admission
# date) an id that rises with the row order is a near-perfect proxy for the sort key, and the
# one-rule baseline "wins" on it. Names that say "identifier", matched case-insensitively: whole
# names, a separated suffix (`patient_id`, `order-no`) or prefix (`id_patient`), and camelCase
# suffixes (`patientId`, `OrderID`), matched case-sensitively so that `paid` or `valid` are not.
ID_NAMES = frozenset({"id", "ids", "uuid", "guid", "key", "pk", "index", "idx", "rowid", "row",
                      "record", "recordid", "unnamed: 0"})
ID_SUFFIX = re.compile(r"[_\-\s.:](?:id|ids|uuid|guid|key|pk|no|nr|number)$", re.IGNORECASE)
ID_PREFIX = re.compile(r"^(?:id|uuid|guid)[_\-\s.:]", re.IGNORECASE)
ID_CAMEL_SUFFIX = re.compile(r"[a-z0-9](?:Id|ID|Ids|IDs|Key|Uuid|UUID|Guid|GUID|No|Nr|Number)$")
# A column named like an id is left out when at least this share of its values is distinct (ids
# repeat a little, e.g. a patient's several visits), so that `region_id` with five values stays.
NAMED_ID_MIN_DISTINCT_SHARE = 0.5
# An integer or string column with at least this share of distinct values that rises or falls
# with the row order is a row number or an autoincrement key, whatever its name.
ROW_ID_MIN_DISTINCT_SHARE = 0.95
# A nearly-unique string column whose values have at least this many words (median) is free
# text: useless as a category, the input of a text model (--text-column).
FREE_TEXT_MIN_WORDS = 3

# Leakage: one feature that alone reaches this held-out score (f1_macro, or r2 for regression) is
# more often a copy of the label, or recorded after the outcome, than a real predictor.
NEAR_PERFECT_SCORE = 0.98
# The single-feature check fits one small tree per feature and fold on a sample of at most this
# many rows, so that it stays cheap on wide files; below the minimum a perfect score can be luck.
LEAKAGE_CHECK_ROWS = 2_000
LEAKAGE_MIN_ROWS = 30
# At most this many features (in file order) are checked: each costs one small tree per fold,
# measured 0.13 s per feature on a heavily shared core. The output says when more were left.
LEAKAGE_MAX_FEATURES = 500
# Leaves of that tree: enough to isolate each value of a categorical copy of a label.
LEAKAGE_TREE_LEAVES = 32
# HistGradientBoosting handles at most this many categories natively.
MAX_NATIVE_CATEGORIES = 250


@dataclass
class BenchmarkResult:
    task: str
    target: str
    rows: list[dict[str, Any]]
    curve: list[dict[str, Any]]
    dropped_columns: list[str] = field(default_factory=list)
    # Why each dropped column was left out, in file order.
    ignored: dict[str, str] = field(default_factory=dict)
    # Features that alone score near-perfectly: {"feature", "metric", "value"}.
    leaks: list[dict[str, Any]] = field(default_factory=list)
    # The class f1 and auc are computed for (binary classification only).
    positive_class: str | None = None
    negative_class: str | None = None
    text_candidates: list[str] = field(default_factory=list)
    # Features the leakage check did not reach (beyond LEAKAGE_MAX_FEATURES).
    unchecked_features: int = 0

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def notes(self) -> list[tuple[str, str]]:
        """(level, message) pairs for a person: what was left out, what looks wrong, what f1
        means. They cannot go into the rows (every column after `service` is a number)."""
        out: list[tuple[str, str]] = []
        for leak in self.leaks:
            name = leak["feature"]
            out.append(("warning", f"feature {name!r} alone scores {leak['metric']} "
                        f"{leak['value']:.3f} on held-out rows: likely leakage (a copy of the "
                        f"target, or recorded after the outcome); if so, rerun with "
                        f"--exclude {name}"))
        if self.unchecked_features:
            out.append(("note", f"the single-feature leakage check covered the first "
                        f"{LEAKAGE_MAX_FEATURES} features; {self.unchecked_features} more "
                        f"were not checked"))
        for name, reason in self.ignored.items():
            hint = (f"; pass --text-column {name} to train a text model on it"
                    if name in self.text_candidates
                    else f"; --keep {name} to use it anyway" if reason.startswith("an identifier")
                    or reason.startswith("identifier-like") else "")
            out.append(("note", f"ignored column {name!r}: {reason}{hint}"))
        if self.positive_class is not None:
            out.append(("note", f"binary target: f1 and auc are those of the positive class "
                        f"{self.positive_class!r} (the other: {self.negative_class!r}); "
                        f"--positive-label to choose"))
        return out


def run_benchmark(path: Path, target: str, task: str | None = None,
                  text_column: str | None = None, folds: int = DEFAULT_FOLDS,
                  max_rows: int = DEFAULT_MAX_ROWS, *, exclude: Sequence[str] = (),
                  keep: Sequence[str] = (),
                  positive_label: str | None = None) -> BenchmarkResult:
    """Train and cross-validate the baseline candidates on one file.

    Identifier-like columns are left out (unless in `keep`), as are those in `exclude`; each
    feature is also scored alone, to flag likely leakage before it flatters the baselines.
    """
    import numpy as np

    frame, ordered = _load(path, target, text_column, max_rows)
    _check_names(path, frame, target, "--exclude", exclude)
    _check_names(path, frame, target, "--keep", keep)
    frame = frame.drop(columns=list(exclude))
    task = _resolve_task(path, frame[target], task, text_column)
    y, n_splits, classes = _encode_target(path, frame[target], task, folds, positive_label)
    features, ignored, texts = _features(path, frame, target, text_column, task, ordered,
                                         set(keep))
    candidates = _candidates(task, features)

    from sklearn.model_selection import KFold, StratifiedKFold
    from threadpoolctl import threadpool_limits

    classify = task != "regression"
    splitter = (StratifiedKFold(n_splits, shuffle=True, random_state=RANDOM_STATE) if classify
                else KFold(n_splits, shuffle=True, random_state=RANDOM_STATE))
    splits = list(splitter.split(np.zeros(len(y)), y))
    checked = [] if task == "text-classification" else list(features.columns)
    leaks = _leaks(features[checked[:LEAKAGE_MAX_FEATURES]], y, splits, task) if checked else []
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
    binary = classify and n_classes == 2
    return BenchmarkResult(task=task, target=target, rows=rows, curve=curve,
                           dropped_columns=list(ignored), ignored=ignored, leaks=leaks,
                           positive_class=str(classes[1]) if binary else None,
                           negative_class=str(classes[0]) if binary else None,
                           text_candidates=texts,
                           unchecked_features=max(0, len(checked) - LEAKAGE_MAX_FEATURES))


def _mean(values: list[float]) -> float:
    import numpy as np

    finite = [v for v in values if np.isfinite(v)]
    return round(float(np.mean(finite)), 6) if finite else float("nan")


def _load(path: Path, target: str, text_column: str | None, max_rows: int) -> tuple[Any, bool]:
    """The rows to train on, and whether they are still in file order.

    A large file comes back from the streamed reservoir as exactly `max_rows` rows in random
    order: then the row order says nothing, and no column is judged by it. A file read whole
    and sampled here keeps its order (a sample of a rising sequence still rises).
    """
    from engine.evidence.tables import read_frame

    frame = read_frame(path, max_rows=max_rows, seed=RANDOM_STATE)
    ordered = len(frame) != max_rows
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
        frame = frame.sample(n=max_rows, random_state=RANDOM_STATE).sort_index()
    return frame.reset_index(drop=True), ordered


def _check_names(path: Path, frame: Any, target: str, option: str, names: Sequence[str]) -> None:
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name not in columns:
            raise InputError(str(path), option,
                             f"expected a column of the file ({_list(columns)})", name)
        if name == target:
            raise InputError(str(path), option, "expected a column other than the target", name)


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


def _encode_target(path: Path, target: Any, task: str, folds: int,
                   positive_label: str | None = None) -> tuple[Any, int, Any]:
    """Targets as numbers, the number of folds, and the classes in code order.

    Binary: code 1 is the positive class, `positive_label` or else the larger label when sorted.
    """
    import numpy as np

    if task == "regression":
        if positive_label is not None:
            raise InputError(str(path), "--positive-label",
                             "expected a classification target", "a regression target")
        y = target.to_numpy(dtype=float)
        if len(y) < 4:
            raise InputError(str(path), f"column {target.name}",
                             "expected at least 4 rows for cross-validation", f"{len(y)} rows")
        return y, max(2, min(folds, len(y) // 2)), np.array([])
    labels = target.map(str) if target.dtype == object else target
    classes, y = np.unique(labels.to_numpy(), return_inverse=True)
    if len(classes) < 2:
        raise InputError(str(path), f"column {target.name}", "expected at least two classes",
                         f"one class ({classes[0]!r})" if len(classes) else "no classes")
    if positive_label is not None:
        if len(classes) != 2:
            raise InputError(str(path), "--positive-label", "expected a binary target",
                             f"{len(classes)} classes")
        matches = [i for i, c in enumerate(classes) if _same_label(c, positive_label)]
        if not matches:
            raise InputError(str(path), "--positive-label",
                             f"expected one of {classes[0]!s}, {classes[1]!s}", positive_label)
        if matches[0] == 0:
            classes, y = classes[::-1], 1 - y
    counts: np.ndarray = np.bincount(y)
    if counts.min() < 2:
        rare = classes[int(np.argmin(counts))]
        raise InputError(str(path), f"column {target.name}",
                         "expected at least 2 rows per class for cross-validation",
                         f"class {rare!r} has 1 row")
    return y, max(2, min(folds, int(counts.min()))), classes


def _same_label(value: Any, label: str) -> bool:
    """A class equals a label typed on the command line: `1` matches 1 and 1.0, `true` True."""
    if str(value) == label:
        return True
    if isinstance(value, bool) or type(value).__name__ == "bool":  # also numpy's bool
        return str(value).lower() == label.strip().lower()
    try:
        return float(value) == float(label)
    except (TypeError, ValueError):
        return False


def _features(path: Path, frame: Any, target: str, text_column: str | None, task: str,
              ordered: bool = False,
              keep: set[str] | None = None) -> tuple[Any, dict[str, str], list[str]]:
    """The feature columns, why each other column was left out, and which of those are text."""
    import numpy as np
    import pandas as pd

    if task == "text-classification":
        assert text_column is not None
        text = frame[text_column].fillna("").astype(str)
        return pd.DataFrame({text_column: text}), {}, []
    kept: dict[str, Any] = {}
    ignored: dict[str, str] = {}
    texts: list[str] = []
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        if column.notna().sum() == 0:
            ignored[name] = "empty"
            continue
        if pd.api.types.is_datetime64_any_dtype(column):
            ignored[name] = "dates or times"
            continue
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            values = column.astype(float)
        else:
            values = column.astype(object).where(column.notna(), np.nan)
            values = values.map(lambda v: v if v is np.nan else str(v))
        reason = None if name in (keep or ()) else _ignore_reason(name, values, ordered)
        if reason is None:
            kept[name] = values
            continue
        ignored[name] = reason
        if reason == "free text":
            texts.append(name)
    if not kept:
        raise InputError(str(path), "", "expected at least one feature column besides the target",
                         f"none usable ({_list(list(ignored))})" if ignored else "only the target")
    return pd.DataFrame(kept), ignored, texts


def _named_like_id(name: str) -> bool:
    return bool(name.strip().lower() in ID_NAMES or ID_SUFFIX.search(name)
                or ID_PREFIX.search(name) or ID_CAMEL_SUFFIX.search(name))


def _ignore_reason(name: str, values: Any, ordered: bool) -> str | None:
    """Why a column should not be a feature (an identifier, free text), or None to use it.

    `values` are floats (numbers, booleans) or strings with NaN for missing; `ordered` says
    whether the rows are still in file order, so that rising with it means something.
    """
    present = values.dropna()
    numeric = values.dtype.kind == "f"
    if numeric and not bool((present % 1 == 0).all()):
        return None  # measurements, not codes
    distinct = int(present.nunique())
    share = distinct / max(1, len(present))
    if _named_like_id(name) and share >= NAMED_ID_MIN_DISTINCT_SHARE and distinct > 1:
        return f"an identifier (named like one; {share:.0%} distinct values)"
    if (ordered and distinct >= MIN_ID_DISTINCT and share >= ROW_ID_MIN_DISTINCT_SHARE
            and _monotonic(present)):
        return f"an identifier ({share:.0%} distinct values, in row order)"
    if not numeric and distinct > MIN_ID_DISTINCT and share > ID_LIKE_SHARE:
        words = present.map(lambda v: len(v.split())).median()
        if words >= FREE_TEXT_MIN_WORDS:
            return "free text"
        return f"identifier-like ({share:.0%} distinct values)"
    return None


def _monotonic(values: Any) -> bool:
    try:
        return bool(values.is_monotonic_increasing or values.is_monotonic_decreasing)
    except TypeError:  # values that do not compare
        return False


def _leaks(features: Any, y: Any, splits: list[tuple[Any, Any]],
           task: str) -> list[dict[str, Any]]:
    """Features that alone score near-perfectly, out of fold, on a sample of the rows."""
    import numpy as np
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from threadpoolctl import threadpool_limits

    if len(y) < LEAKAGE_MIN_ROWS:
        return []  # too few rows to tell a leak from luck
    rng = np.random.default_rng(RANDOM_STATE)
    sample = np.sort(rng.choice(len(y), min(len(y), LEAKAGE_CHECK_ROWS), replace=False))
    in_sample = np.zeros(len(y), dtype=bool)
    in_sample[sample] = True
    folds = [(train[in_sample[train]], test[in_sample[test]]) for train, test in splits]
    classify = task != "regression"
    metric = PRIMARY_METRIC[task]
    found: list[dict[str, Any]] = []
    with threadpool_limits(limits=1):
        for name in features.columns:
            column = features[name]
            codes = (column.to_numpy(dtype=float) if column.dtype.kind == "f"
                     else pd.factorize(column)[0].astype(float))
            X = codes.reshape(-1, 1)
            predicted = np.zeros(len(y), dtype=float if not classify else y.dtype)
            for train, test in folds:
                tree: Any = (DecisionTreeClassifier if classify else DecisionTreeRegressor)(
                    max_leaf_nodes=LEAKAGE_TREE_LEAVES, random_state=RANDOM_STATE)
                tree.fit(X[train], y[train])
                predicted[test] = tree.predict(X[test])
            score = _score(y[sample], predicted[sample], classify)
            if score >= NEAR_PERFECT_SCORE:
                found.append({"feature": name, "metric": metric, "value": round(score, 6)})
    return sorted(found, key=lambda leak: (-leak["value"], leak["feature"]))


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
    return _score(y, model.predict(X), classify)


def _score(y: Any, predicted: Any, classify: bool) -> float:
    """The primary metric: macro f1 for classification, r2 for regression."""
    from sklearn.metrics import f1_score, r2_score

    if classify:
        return float(f1_score(y, predicted, average="macro"))
    return float(r2_score(y, predicted))


def _metrics(model: Any, X: Any, y: Any, classify: bool, n_classes: int) -> dict[str, float]:
    """Metrics under the names success criteria use.

    Binary: `f1` and `auc` are those of the positive class, code 1 (see `_encode_target`).
    Multiclass: `f1` is macro-averaged and `auc` is one-vs-rest macro.
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
    head = f"task: {result.task}   target: {result.target}"
    if result.positive_class is not None:
        head += f"   positive class: {result.positive_class}"
    lines = [for_terminal(head)]
    if result.dropped_columns:
        lines.append(for_terminal(f"ignored columns: {', '.join(result.dropped_columns)}"))
    lines.extend(table_lines(header, body))
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4f}"
    return str(value)
