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

from engine.audit.record import ENVELOPE, AuditRecord

if TYPE_CHECKING:
    from engine.audit.store import AuditLog

MASK = "[masked]"
# the respondent of an assessment, the account that submitted it and the reviewer of a review
# name people
ALWAYS_PERSONAL = ("project.respondent", "account.name", "review.user")
# a review event's members (engine.audit.review) come last: earlier columns keep their places
REVIEW_COLUMNS = ["action", "user", "role", "comment", "override"]
CSV_COLUMNS = ["seq", "record_id", "kind", "time", "respondent", "project", "verdict", "rung",
               "service", "rulebase_version", "rulebase_sha256", "engine_version",
               "input_sha256", "reports", "of", "format", "sha256", "findings", "masked",
               "prev_hash", "entry_hash", "key_id", "signature", "input", "decision",
               *(f"review_{c}" for c in REVIEW_COLUMNS), "account_name", "account_role"]


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
    masker = _Masker(list(paths))
    out = copy.deepcopy(record)
    if "project.respondent" in masker.dotted and out.get("respondent") is not None:
        masker.take(out["respondent"])
        out["respondent"] = MASK
    masker.mask_paths(out)
    masked = _replace_values(out, masker.values)
    for key in ENVELOPE + ("record_id", "kind", "time"):
        if key in record:
            masked[key] = record[key]  # ids and hashes are never personal
    return masked


class _Masker:
    """The first pass of masking: the personal answers where they stand, collecting their
    values (and parts of them) for the second pass over all other text."""

    def __init__(self, paths: list[str]) -> None:
        self.chains = [p.split(".") for p in paths]
        self.dotted = set(paths)
        self.values: set[str] = set()

    def take(self, value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                self.take(item)
            return
        if not isinstance(value, str):
            return
        for part in (value, *value.split(","), *re.split(r"[\s,;/()]+", value)):
            part = part.strip()
            if len(part) >= MIN_MASKED:  # never mask "a" or "no" everywhere
                self.values.add(part)

    def mask_paths(self, node: Any) -> None:
        """Mask, in place, every personal path under node, nested or dotted."""
        if isinstance(node, dict):
            for chain in self.chains:
                self._mask_nested(node, chain)
            for key in list(node):
                if key in self.dotted and node[key] is not None:
                    self.take(node[key])
                    node[key] = MASK
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            return
        for value in children:
            self.mask_paths(value)

    def _mask_nested(self, node: dict[str, Any], chain: list[str]) -> None:
        parent: Any = node
        for key in chain[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and parent.get(chain[-1]) is not None:
            self.take(parent[chain[-1]])
            parent[chain[-1]] = MASK


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
             until: str | None) -> Iterable[AuditRecord]:
    for record in log.iter_records(kind=kind):
        if since and record.time < since:
            continue
        if until and record.time > until:
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
        body = dict(record.body)
        if mask:
            body = mask_record(body, paths)
        line: dict[str, Any] = {k: v for k, v in record.to_dict().items() if k in ENVELOPE}
        line["masked"] = mask
        line["record"] = body
        out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def _cell(value: Any) -> str:
    """A nested part of a record as one JSON cell."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _csv_row(record: AuditRecord, mask: bool) -> dict[str, Any]:
    summary = record.summary().to_dict()
    rulebase = record.rulebase
    decision = record.decision
    findings = decision.get("findings", []) if decision else []
    return {
        **{k: summary[k] for k in ("seq", "record_id", "kind", "time", "respondent", "project",
                                   "verdict", "rung", "service", "rulebase_version", "of",
                                   "format")},
        "rulebase_sha256": rulebase.sha256 if rulebase else None,
        "engine_version": record.body.get("engine_version"),
        "input_sha256": record.body.get("input_sha256"),
        "reports": _cell(record.body.get("reports")),
        "sha256": record.body.get("sha256"),
        "findings": ";".join(f.get("rule", "") for f in findings if isinstance(f, dict)),
        "masked": "yes" if mask else "no",
        "prev_hash": record.prev_hash, "entry_hash": record.entry_hash,
        "key_id": record.key_id, "signature": record.signature,
        # the stored values as they are, whatever their shape: an export shows what is kept
        "input": _cell(record.body.get("input")),
        "decision": _cell(record.body.get("decision")),
        **_review_cells(record.body.get("review")),
        # the team account that submitted an assessment (engine.audit.store.append)
        "account_name": (record.account or {}).get("name"),
        "account_role": (record.account or {}).get("role"),
    }


def _review_cells(review: Any) -> dict[str, Any]:
    """A review event's members, one column each (the override as JSON); empty otherwise."""
    review = review if isinstance(review, dict) else {}
    return {f"review_{c}": (_cell(review.get(c)) if c == "override" else review.get(c))
            for c in REVIEW_COLUMNS}


def export_csv(log: AuditLog, out: IO[str], mask: bool = False, kind: str | None = None,
               since: str | None = None, until: str | None = None) -> int:
    """One row per record; the full input and decision as JSON cells."""
    paths = personal_paths() if mask else []
    # RFC 4180 line ends: with "\n" alone, csv leaves a lone "\r" in a cell unquoted and a
    # reader splits the row there
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for record in _records(log, kind, since, until):
        if mask:
            record = AuditRecord.from_dict(mask_record(record.to_dict(), paths))
        writer.writerow({k: spreadsheet_safe(v) for k, v in _csv_row(record, mask).items()})
        count += 1
    return count
