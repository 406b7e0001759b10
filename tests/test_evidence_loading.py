"""Reading benchmark rows and drift summaries for `assess`."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputError
from engine.evidence.files import load_benchmarks, load_drift
from tests.conftest import EXAMPLES


def test_csv_rows_are_typed() -> None:
    rows = load_benchmarks(EXAMPLES / "evidence" / "ticket-benchmarks.csv")
    assert rows[0] == {"candidate": "keyword-rules", "rung": "no-ml", "service": None,
                       "f1_macro": 0.52, "latency_p95_ms": 5.0, "cost_usd_per_month": 0.0}


@pytest.mark.parametrize(("content", "path", "expected"), [
    ("candidate,rung\nx,mid-rung\n", "row 1.rung", "expected one of"),
    ("candidate,rung,f1\nx,no-ml,abc\n", "row 1.f1", "expected a number"),
    ("candidate,f1\nx,0.5\n", "rung", "required column"),
    ("candidate,rung\n,no-ml\n", "row 1.candidate", "missing"),
    ("candidate,rung\na,no-ml\na,pre-built\n", "row 2.candidate", "unique"),
    ("candidate,rung\n", "", "at least one"),
    ('{"candidate": "x"}', "", "JSON list"),
])
def test_bad_rows_name_the_field(tmp_path: Path, content: str, path: str, expected: str) -> None:
    file = tmp_path / ("b.json" if content.startswith("{") else "b.csv")
    file.write_text(content)
    with pytest.raises(InputError) as info:
        load_benchmarks(file)
    assert info.value.path == path
    assert expected in info.value.message


def test_unknown_service_is_an_input_error(tmp_path: Path) -> None:
    from engine.api import assess_files

    file = tmp_path / "b.csv"
    file.write_text("candidate,rung,service,f1_macro\nx,pre-built,acme-magic,0.9\n")
    with pytest.raises(InputError) as info:
        assess_files(EXAMPLES / "review-sentiment.yaml", benchmarks=file)
    assert info.value.path == "row 1.service"


def test_drift_summary_is_validated(tmp_path: Path) -> None:
    good = load_drift(EXAMPLES / "evidence" / "fraud-drift.json")
    assert good["dataset_drift"] is True
    bad = tmp_path / "d.json"
    bad.write_text('{"schema": "mladvisor.drift/1", "dataset_drift": "maybe", '
                   '"share_drifted": 0.1, "features": []}')
    with pytest.raises(InputError) as info:
        load_drift(bad)
    assert info.value.path == "dataset_drift"


def test_performance_without_labels_on_one_side_is_not_a_miss(tmp_path: Path) -> None:
    import json

    from engine.api import assess_files

    doc = json.loads((EXAMPLES / "evidence" / "fraud-drift.json").read_text())
    doc["performance"] = {"metric": "f1_macro", "reference": None, "current": 0.7}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc))
    decision = assess_files(EXAMPLES / "fraud-deployed.yaml", drift=path).decision
    rules = {f["rule"] for f in decision["findings"]}
    assert "monitoring.performance-rebuild" not in rules
    assert "monitoring.performance-retrain" not in rules
    assert decision["input"]["drift"]["performance"]["reference"] is None
    assert decision["input"]["drift"]["features"][0]["p_value"] is None


@pytest.mark.parametrize(("content", "path", "expected"), [
    ("candidate,rung,f1,f1\nx,no-ml,0.5,0.6\n", "f1", "columns 3 and 4"),
    ('[{"candidate": "x", "rung": "no-ml", "f1": "0.5"}]', "row 1.f1", "number"),
    ('{"candidate": "x", "candidate": "y"}', "candidate", "duplicate key"),
])
def test_duplicates_and_quoted_numbers_are_refused(tmp_path: Path, content: str, path: str,
                                                   expected: str) -> None:
    file = tmp_path / ("b.json" if content[0] in "[{" else "b.csv")
    file.write_text(content)
    with pytest.raises(InputError) as info:
        load_benchmarks(file)
    assert info.value.path == path
    assert expected in info.value.message
