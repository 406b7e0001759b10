"""The drift summary as JSON for files and as a table for the terminal."""

from __future__ import annotations

from typing import Any

from engine.evidence.drift.multivariate import DOMAIN_AUC_THRESHOLD
from engine.evidence.drift.summary import DATASET_DRIFT_SHARE
from engine.util.table import table_lines


def to_json(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def to_table(doc: dict[str, Any]) -> str:
    """A readable summary for the terminal."""
    features = doc["features"]
    drifted = sum(1 for f in features if f["drifted"])
    lines = [f"reference: {doc['reference_rows']} rows   current: {doc['current_rows']} rows",
             f"dataset drift: {'YES' if doc['dataset_drift'] else 'no'} "
             f"({drifted} of {len(features)} columns drifted, share {doc['share_drifted']:.2f}; "
             f"threshold {DATASET_DRIFT_SHARE})", ""]
    lines.extend(_feature_table(features))
    lines.extend(_section_lines(doc))
    return "\n".join(lines) + "\n"


def _feature_table(features: list[dict[str, Any]]) -> list[str]:
    header = ["column", "kind", "method", "statistic", "p_value", "psi", "missing ref>cur",
              "drifted"]
    body = [[f["name"], f["kind"], f["method"], _num(f["statistic"]), _num(f["p_value"]),
             _num(f["psi"]),
             f"{_pct(f['missing_share_reference'])}>{_pct(f['missing_share_current'])}",
             "DRIFT" if f["drifted"] else "-"] for f in features]
    return table_lines(header, body, strip=True)


def _section_lines(doc: dict[str, Any]) -> list[str]:
    """Multivariate, performance and bias lines, for the sections the document has."""
    lines = []
    multivariate = doc.get("multivariate")
    if multivariate:
        lines.append("")
        lines.append(f"multivariate: domain classifier AUC {multivariate['auc']:.3f} "
                     f"({'DRIFT' if multivariate['drifted'] else 'no drift'}; threshold "
                     f"{DOMAIN_AUC_THRESHOLD})")
    performance = doc.get("performance")
    if performance:
        lines.append(f"performance: {performance['metric']} reference "
                     f"{_num(performance['reference'])} -> current {_num(performance['current'])}")
    for check in doc.get("bias") or []:
        flag = "VIOLATED" if check["violated"] else "ok"
        lines.append(f"bias: {check['attribute']} {check['metric']} {_num(check['value'])} "
                     f"(threshold {check['threshold']}) {flag}")
    return lines


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
