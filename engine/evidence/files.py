"""Reading the evidence files of CONTRACT section 4: benchmark rows and a drift summary."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.model.vocab import RUNGS
from engine.util import limits
from engine.util.load import decode_text, load_document, parse_document, parse_json, read_text

REQUIRED_COLUMNS = ("candidate", "rung")
TEXT_COLUMNS = ("candidate", "rung", "service", "offer")


def _number(file: str, where: str, value: Any, from_text: bool) -> float | None:
    """A measured value: CSV cells are text and converted; JSON values must be numbers."""
    if value is None or (from_text and isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or (not from_text and not isinstance(value, int | float)):
        got = f"{value!r} (text)" if isinstance(value, str) else value
        raise InputError(file, where, "expected a number (without quotes)", got)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(file, where, "expected a number", value) from None
    if math.isnan(number) or math.isinf(number):
        raise InputError(file, where, "expected a finite number", value)
    if abs(number) > limits.MAX_ABS_MEASURE:
        raise InputError(file, where, f"expected a value of at most {limits.MAX_ABS_MEASURE:g} in "
                         "size (the input limit)", value)
    return number


def _text(file: str, where: str, value: Any) -> str | None:
    """A text cell (candidate, rung, service, offer): JSON must give a string, within the
    length cap."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InputError(file, where, "expected text", value)
    if len(value) > limits.MAX_NAME_CHARS:
        raise InputError(file, where, f"expected at most {limits.MAX_NAME_CHARS} characters "
                         "(the input limit)", value)
    return value.strip()


def parse_benchmark_rows(rows: list[Any], file: str,
                         from_text: bool = False) -> list[dict[str, Any]]:
    """Validate rows: candidate and rung required, service and offer optional, every other
    value numeric.

    `from_text` is true for CSV, whose cells are all text; JSON rows must be typed."""
    if not isinstance(rows, list):
        raise InputError(file, "", "expected a list of benchmark rows", type(rows).__name__)
    if not rows:
        raise InputError(file, "", "expected at least one benchmark row")
    if len(rows) > limits.MAX_BENCHMARK_ROWS:
        raise InputError(file, "", f"expected at most {limits.MAX_BENCHMARK_ROWS} benchmark rows "
                         "(one per candidate solution; the input limit)", f"{len(rows)} rows")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        clean = _parse_row(row, file, f"row {index}", from_text)
        if clean["candidate"] in seen:
            raise InputError(file, f"row {index}.candidate", "expected unique candidate names",
                             clean["candidate"])
        seen.add(clean["candidate"])
        out.append(clean)
    return out


def _parse_row(row: Any, file: str, where: str, from_text: bool) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise InputError(file, where, "expected an object with candidate, rung and metrics")
    if len(row) > limits.MAX_BENCHMARK_COLUMNS:
        raise InputError(file, where, f"expected at most {limits.MAX_BENCHMARK_COLUMNS} "
                         "columns (the input limit)", f"{len(row)} columns")
    values = {column: _text(file, f"{where}.{column}", row.get(column))
              for column in TEXT_COLUMNS}
    for column in REQUIRED_COLUMNS:
        if values[column] is None:
            raise InputError(file, f"{where}.{column}", "required value is missing")
    rung = str(values["rung"])
    if rung not in RUNGS:
        raise InputError(file, f"{where}.rung", f"expected one of {', '.join(RUNGS)}", rung)
    clean: dict[str, Any] = {"candidate": str(values["candidate"]), "rung": rung,
                             "service": values["service"]}
    # rows that name no offer keep their old shape
    clean.update({"offer": values["offer"]} if values["offer"] is not None else {})
    for key, value in row.items():
        if key in TEXT_COLUMNS:
            continue
        if not isinstance(key, str) or not key.strip():
            raise InputError(file, f"{where}", "expected a named column", key)
        number = _number(file, f"{where}.{key}", value, from_text)
        if number is not None:
            clean[key.strip()] = number
    return clean


def _check_header(file: str, header: list[str]) -> None:
    """Duplicate or too many columns are refused: a later column would silently win."""
    if len(header) > limits.MAX_BENCHMARK_COLUMNS:
        raise InputError(file, "", f"expected at most {limits.MAX_BENCHMARK_COLUMNS} columns "
                         "(the input limit)", f"{len(header)} columns")
    first: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        key = name.strip()
        if key in first:
            raise InputError(file, key, f"duplicate column (columns {first[key]} and "
                             f"{position}): each column may appear once")
        first[key] = position


BENCHMARK_KIND = "a text file (CSV or JSON)"
DRIFT_KIND = "a JSON text file"


def load_benchmarks(path: str | Path) -> list[dict[str, Any]]:
    """CSV with a header row, or a JSON list of the same rows."""
    return parse_benchmarks_text(read_text(path, BENCHMARK_KIND), str(path))


def benchmarks_from_bytes(data: bytes, file: str) -> list[dict[str, Any]]:
    """An uploaded benchmark file (the web form), refused exactly as `load_benchmarks` refuses
    a file of that name and content."""
    return parse_benchmarks_text(_upload_text(data, file, BENCHMARK_KIND), file)


def drift_from_bytes(data: bytes, file: str) -> dict[str, Any]:
    """An uploaded drift summary (the web form), refused exactly as `load_drift` would."""
    return parse_drift(parse_document(_upload_text(data, file, DRIFT_KIND), file,
                                      json_only=True), file)


def _upload_text(data: bytes, file: str, kind: str) -> str:
    if len(data) > limits.MAX_DOCUMENT_BYTES:
        raise InputError(file, "", f"expected {kind} of at most "
                         f"{limits.MAX_DOCUMENT_BYTES >> 20} MiB (the input size limit)",
                         "a larger file")
    return decode_text(data, file, kind)


def parse_benchmarks_text(text: str, file: str) -> list[dict[str, Any]]:
    """Benchmark rows from the text of a CSV or JSON file named `file`."""
    if file.lower().endswith(".json") or text.lstrip().startswith("["):
        rows = parse_json(text, file)
        if not isinstance(rows, list):
            raise InputError(
                file, "", "expected a JSON list of benchmark rows", type(rows).__name__
            )
        return parse_benchmark_rows(rows, file)
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        _check_header(file, header)
        rows = []
        for values in reader:
            if not values:
                continue
            if len(values) != len(header):
                raise InputError(
                    file, f"row {len(rows) + 1}", "expected as many values as header columns"
                )
            if len(rows) >= limits.MAX_BENCHMARK_ROWS:
                raise InputError(file, "", f"expected at most {limits.MAX_BENCHMARK_ROWS} "
                                 "benchmark rows (one per candidate solution; the input limit)",
                                 "more rows")
            rows.append(dict(zip(header, values, strict=True)))
    except csv.Error as error:
        raise InputError(file, "", f"expected CSV ({error})") from None
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise InputError(file, column, "required column is missing from the header")
    return parse_benchmark_rows(rows, file, from_text=True)


def load_drift(path: str | Path) -> dict[str, Any]:
    """A mladvisor.drift/1 summary (JSON), validated by the drift module's own model."""
    file = str(path)
    return parse_drift(load_document(path, json_only=True), file)


def parse_drift(doc: Any, file: str) -> dict[str, Any]:
    from pydantic import ValidationError

    from engine.model.answers import validation_to_input_error
    from engine.model.drift import DriftSummary

    if not isinstance(doc, dict):
        raise InputError(file, "", "expected a mladvisor.drift/1 object", type(doc).__name__)
    try:
        summary = DriftSummary.model_validate(doc)
    except ValidationError as error:
        raise validation_to_input_error(file, error) from None
    # unset optional parts stay absent; a null the file gives (p_value of a distance test) stays
    return summary.model_dump(mode="json", by_alias=True, exclude_unset=True)
