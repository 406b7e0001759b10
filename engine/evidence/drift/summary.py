"""The `mladvisor.drift/1` document (its model: engine/model/drift.py) for two files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.evidence.drift.bias import (
    DISPARATE_IMPACT_THRESHOLD,
    PARITY_DIFFERENCE_THRESHOLD,
    bias,
)
from engine.evidence.drift.columns import CATEGORICAL, Column, plan_columns
from engine.evidence.drift.labels import Labels
from engine.evidence.drift.multivariate import DOMAIN_AUC_THRESHOLD, domain_classifier
from engine.evidence.drift.options import Options
from engine.evidence.drift.passes import read_passes
from engine.evidence.drift.performance import performance
from engine.evidence.drift.psi import psi
from engine.evidence.drift.samples import Samples
from engine.evidence.drift.stattests import (
    JENSEN_SHANNON_THRESHOLD,
    P_VALUE_THRESHOLD,
    SMALL_REFERENCE_ROWS,
    WASSERSTEIN_THRESHOLD,
    choose,
)
from engine.evidence.drift.values import sig
from engine.evidence.tables import TableSource
from engine.model.schemas import DRIFT_SCHEMA

DATASET_DRIFT_SHARE = 0.5        # data set drifts when >= half of the tested columns drift


def compute_drift(reference: Path, current: Path, options: Options | None = None) -> dict[str, Any]:
    """The `mladvisor.drift/1` document for two files with the same columns."""
    options = options or Options()
    ref_src = TableSource(reference, options.batch_rows)
    cur_src = TableSource(current, options.batch_rows)
    columns = plan_columns(ref_src, cur_src, options)
    labels = Labels(options, str(current))
    samples = read_passes(ref_src, cur_src, columns, labels)
    return summarise(columns, samples, labels, options)


def summarise(columns: list[Column], samples: Samples, labels: Labels,
              options: Options) -> dict[str, Any]:
    """The document from what the passes counted: per-column verdicts first, then the
    multivariate, performance and bias sections the options ask for."""
    features = [feature(c, samples) for c in columns]
    tested = [f for f in features if f["method"] != "skipped"]
    drifted = sum(1 for f in tested if f["drifted"])
    share = drifted / len(tested) if tested else 0.0
    doc: dict[str, Any] = {
        "schema": DRIFT_SCHEMA,
        "dataset_drift": bool(tested) and share >= DATASET_DRIFT_SHARE,
        "share_drifted": round(share, 6),
        "features": features,
        "reference_rows": columns[0].ref.rows if columns else 0,
        "current_rows": samples.cur_rows,
    }
    sections = {
        "multivariate": domain_classifier(columns, samples) if options.multivariate else None,
        "performance": performance(labels),
        "bias": bias(labels),
    }
    doc.update((key, value) for key, value in sections.items() if value is not None)
    doc["thresholds"] = thresholds()
    return doc


def feature(column: Column, samples: Samples) -> dict[str, Any]:
    """One column's entry: the verdict of its test, PSI and the shares of missing values."""
    ref, cur = column.ref, column.cur
    entry: dict[str, Any] = {"name": column.name, "kind": column.kind}
    entry.update(_verdict(column, samples))
    entry["psi"] = sig(psi(column))
    entry["missing_share_reference"] = sig(ref.missing / ref.rows) if ref.rows else None
    entry["missing_share_current"] = sig(cur.missing / cur.rows) if cur.rows else None
    return entry


def _verdict(column: Column, samples: Samples) -> dict[str, Any]:
    ref, cur = column.ref, column.cur
    uncounted_text = column.kind == CATEGORICAL and not column.arrow_numeric and (
        ref.counts is None or cur.counts is None)
    if column.skipped or uncounted_text:
        return {"method": "skipped", "statistic": None, "p_value": None, "drifted": False,
                "threshold": None}
    if ref.count == 0 or cur.count == 0:
        # Evidently refuses an empty column; a column that emptied on one side has drifted.
        return {"method": "missing", "statistic": None, "p_value": None,
                "drifted": (ref.count == 0) != (cur.count == 0), "threshold": None}
    test = choose(column)
    statistic, p_value = test.run(column, samples)
    return {"method": test.name, "statistic": sig(statistic), "p_value": sig(p_value),
            "drifted": bool(test.drifted(statistic, p_value)), "threshold": test.threshold}


def thresholds() -> dict[str, Any]:
    """Every threshold the verdicts used, so a reader of the document can see them."""
    return {
        "p_value": P_VALUE_THRESHOLD, "wasserstein": WASSERSTEIN_THRESHOLD,
        "jensenshannon": JENSEN_SHANNON_THRESHOLD, "dataset_drift_share": DATASET_DRIFT_SHARE,
        "small_reference_rows": SMALL_REFERENCE_ROWS, "domain_auc": DOMAIN_AUC_THRESHOLD,
        "disparate_impact": DISPARATE_IMPACT_THRESHOLD,
        "parity_difference": PARITY_DIFFERENCE_THRESHOLD,
    }
