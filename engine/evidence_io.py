"""Reading the evidence files of CONTRACT section 4: benchmark rows and a drift summary."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.facts import RUNGS, read_text

REQUIRED_COLUMNS = ("candidate", "rung")
TEXT_COLUMNS = ("candidate", "rung", "service")


def _number(file: str, where: str, value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError(file, where, "expected a number", value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(file, where, "expected a number", value) from None
    if math.isnan(number) or math.isinf(number):
        raise InputError(file, where, "expected a finite number", value)
    return number


def parse_benchmark_rows(rows: list[Any], file: str) -> list[dict[str, Any]]:
    """Validate rows: candidate and rung required, service optional, every other value numeric."""
    if not rows:
        raise InputError(file, "", "expected at least one benchmark row")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        where = f"row {index}"
        if not isinstance(row, dict):
            raise InputError(file, where, "expected an object with candidate, rung and metrics")
        clean: dict[str, Any] = {}
        for column in REQUIRED_COLUMNS:
            value = row.get(column)
            if value is None or not str(value).strip():
                raise InputError(file, f"{where}.{column}", "required value is missing")
        candidate = str(row["candidate"]).strip()
        if candidate in seen:
            raise InputError(
                file, f"{where}.candidate", "expected unique candidate names", candidate
            )
        seen.add(candidate)
        rung = str(row["rung"]).strip()
        if rung not in RUNGS:
            raise InputError(file, f"{where}.rung", f"expected one of {', '.join(RUNGS)}", rung)
        clean["candidate"] = candidate
        clean["rung"] = rung
        service = row.get("service")
        clean["service"] = str(service).strip() if service not in (None, "") else None
        for key, value in row.items():
            if key in TEXT_COLUMNS:
                continue
            if not isinstance(key, str) or not key.strip():
                raise InputError(file, f"{where}", "expected a named column", key)
            number = _number(file, f"{where}.{key}", value)
            if number is not None:
                clean[key.strip()] = number
        out.append(clean)
    return out


def load_benchmarks(path: str | Path) -> list[dict[str, Any]]:
    """CSV with a header row, or a JSON list of the same rows."""
    file = str(path)
    text = read_text(path, "a text file (CSV or JSON)")
    if file.lower().endswith(".json") or text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                file, "", f"expected a JSON list of rows ({error.msg}, line {error.lineno})"
            ) from None
        if not isinstance(rows, list):
            raise InputError(
                file, "", "expected a JSON list of benchmark rows", type(rows).__name__
            )
        return parse_benchmark_rows(rows, file)
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        rows = []
        for row in reader:
            if None in row:
                raise InputError(
                    file, f"row {len(rows) + 1}", "expected as many values as header columns"
                )
            rows.append(row)
    except csv.Error as error:
        raise InputError(file, "", f"expected CSV ({error})") from None
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise InputError(file, column, "required column is missing from the header")
    return parse_benchmark_rows(rows, file)


def load_drift(path: str | Path) -> dict[str, Any]:
    """A mladvisor.drift/1 summary (JSON), validated by the drift module's own model."""
    file = str(path)
    text = read_text(path, "a text file (CSV or JSON)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(file, "", f"expected JSON ({error.msg}, line {error.lineno})") from None
    return parse_drift(doc, file)


def parse_drift(doc: Any, file: str) -> dict[str, Any]:
    from pydantic import ValidationError

    from engine.evidence.drift_schema import DriftSummary
    from engine.facts import validation_to_input_error

    if not isinstance(doc, dict):
        raise InputError(file, "", "expected a mladvisor.drift/1 object", type(doc).__name__)
    try:
        summary = DriftSummary.model_validate(doc)
    except ValidationError as error:
        raise validation_to_input_error(file, error) from None
    # unset optional parts stay absent; a null the file gives (p_value of a distance test) stays
    return summary.model_dump(mode="json", by_alias=True, exclude_unset=True)
