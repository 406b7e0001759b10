"""Exports for auditors: JSON Lines (verifiable: one record and its chain fields a line) or CSV
(one row a record, nested parts as JSON), optionally masking the answers the questionnaire
marks `personal: true` wherever they occur in a record, even inside other text. CSV cells that
a spreadsheet would run as a formula are written as text (a leading `'`). Both are written
record by record, so exporting a large log takes little memory.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.audit.store import AuditLog

MASK = "[masked]"
ALWAYS_PERSONAL = ("project.respondent",)
ENVELOPE = ("seq", "prev_hash", "entry_hash", "signature", "key_id")
CSV_COLUMNS = ["seq", "record_id", "kind", "time", "respondent", "project", "verdict", "rung",
               "service", "rulebase_version", "rulebase_sha256", "engine_version",
               "input_sha256", "reports", "of", "format", "sha256", "findings", "masked",
               "prev_hash", "entry_hash", "key_id", "signature", "input", "decision"]


def personal_paths(knowledge_dir: Path | None = None) -> list[str]:
    """Answer paths marked `personal: true` in knowledge/questionnaire.yaml, plus the respondent.

    Read with plain YAML (any nesting of question entries with a `path`), so a questionnaire
    in any shape still yields its marks; without the file only the respondent is masked.
    """
    from engine.errors import InputError
    from engine.paths import knowledge_dir as default_dir
    from engine.util.load import load_document

    found: list[str] = list(ALWAYS_PERSONAL)
    path = (knowledge_dir or default_dir()) / "questionnaire.yaml"
    try:
        data = load_document(path)
    except InputError:
        return found

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("personal") is True and isinstance(node.get("path"), str):
                if node["path"] not in found:
                    found.append(node["path"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


def mask_record(record: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy with every personal answer replaced by MASK: nested (`project: {respondent}`),
    dotted (`facts: {"project.respondent": ...}`), the record's own `respondent`, and then each
    personal value, each comma-separated part of it (the name in "Dana Lee, Support Ops") and
    each word of it ("Dana", "Lee") wherever it appears inside any other string or key - a
    project name, free text, a finding's rationale, the trace - as a substring, whatever its
    case ("DANA LEE"). Masking too much is the safe side of a privacy export."""
    out = copy.deepcopy(record)
    chains = [p.split(".") for p in paths]
    dotted = set(paths)
    values: set[str] = set()

    def take(value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                take(item)
            return
        if not isinstance(value, str):
            return
        for part in (value, *value.split(","), *re.split(r"[\s,;/()]+", value)):
            part = part.strip()
            if len(part) >= MIN_MASKED:  # never mask "a" or "no" everywhere
                values.add(part)

    def first_pass(node: Any) -> None:
        if isinstance(node, dict):
            for chain in chains:
                parent: Any = node
                for key in chain[:-1]:
                    parent = parent.get(key) if isinstance(parent, dict) else None
                if isinstance(parent, dict) and chain[-1] in parent \
                        and parent[chain[-1]] is not None:
                    take(parent[chain[-1]])
                    parent[chain[-1]] = MASK
            for key in list(node):
                if key in dotted and node[key] is not None:
                    take(node[key])
                    node[key] = MASK
            for value in node.values():
                first_pass(value)
        elif isinstance(node, list):
            for value in node:
                first_pass(value)

    if "project.respondent" in dotted and out.get("respondent") is not None:
        take(out["respondent"])
        out["respondent"] = MASK
    first_pass(out)
    masked = _replace_values(out, values)
    for key in ENVELOPE + ("record_id", "kind", "time"):
        if key in record:
            masked[key] = record[key]  # ids and hashes are never personal
    return masked


MIN_MASKED = 3


def _replace_values(node: Any, values: set[str]) -> Any:
    """Every occurrence of any value inside every string (and key) replaced by MASK; the
    longest value first, so that a name inside a longer value is not half-masked."""
    if not values:
        return node
    # A single word is matched as a word ("Lee", not the "lee" of "fleet"); a longer value
    # wherever it stands.
    pattern = re.compile("|".join(rf"\b{re.escape(v)}\b" if re.fullmatch(r"\w+", v)
                                  else re.escape(v)
                                  for v in sorted(values, key=len, reverse=True)),
                         re.IGNORECASE)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(MASK, item)
        if isinstance(item, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(node)


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a leading `'` before a would-be formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _records(log: AuditLog, kind: str | None, since: str | None,
             until: str | None) -> Iterable[dict[str, Any]]:
    for record in log.iter_records(kind=kind):
        if since and str(record.get("time")) < since:
            continue
        if until and str(record.get("time")) > until:
            continue
        yield record


def export_jsonl(log: AuditLog, out: IO[str], mask: bool = False, kind: str | None = None,
                 since: str | None = None, until: str | None = None) -> int:
    """One line per record: {seq, prev_hash, entry_hash, signature, key_id, masked, record}.

    Unmasked, each line verifies on its own terms: entry_hash == sha256(prev_hash ‖ JCS(record)).
    """
    paths = personal_paths() if mask else []
    count = 0
    for record in _records(log, kind, since, until):
        body = {k: v for k, v in record.items() if k not in ENVELOPE}
        if mask:
            body = mask_record(body, paths)
        line = {k: record.get(k) for k in ENVELOPE}
        line["masked"] = mask
        line["record"] = body
        out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def export_csv(log: AuditLog, out: IO[str], mask: bool = False, kind: str | None = None,
               since: str | None = None, until: str | None = None) -> int:
    """One row per record; the full input and decision as JSON cells."""
    from engine.audit.store import summarize

    paths = personal_paths() if mask else []
    # RFC 4180 line ends: with "\n" alone, csv leaves a lone "\r" in a cell unquoted and a
    # reader splits the row there
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for record in _records(log, kind, since, until):
        if mask:
            record = mask_record(record, paths)
        summary = summarize(record)
        rulebase = record.get("rulebase") or {}
        decision = record.get("decision")

        def cell(value: Any) -> str:
            return "" if value is None else json.dumps(value, ensure_ascii=False,
                                                       sort_keys=True)

        writer.writerow({k: spreadsheet_safe(v) for k, v in {
            **{k: summary.get(k) for k in ("seq", "record_id", "kind", "time", "respondent",
                                           "project", "verdict", "rung", "service",
                                           "rulebase_version", "of", "format")},
            "rulebase_sha256": rulebase.get("sha256"),
            "engine_version": record.get("engine_version"),
            "input_sha256": record.get("input_sha256"),
            "reports": cell(record.get("reports")),
            "sha256": record.get("sha256"),
            "findings": ";".join(f.get("rule", "") for f in (decision or {}).get("findings", [])
                                 if isinstance(f, dict)) if decision else "",
            "masked": "yes" if mask else "no",
            **{k: record.get(k) for k in ("prev_hash", "entry_hash", "key_id", "signature")},
            "input": cell(record.get("input")),
            "decision": cell(decision),
        }.items()})
        count += 1
    return count
