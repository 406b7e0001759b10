"""`mladvisor report`: render a saved or recorded decision as HTML or PDF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from engine.cli._common import CONTEXT, emit, format_option, out_option
from engine.errors import InputError


def load_decision(source: str) -> tuple[dict[str, Any], str | None]:
    """A decision from a saved JSON file, or else from the audit log by (prefix of) id;
    the second value is the full record id when it came from the log."""
    path = Path(source)
    if path.is_file():
        try:
            decision = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(source, "", "a UTF-8 JSON decision file") from None
        except json.JSONDecodeError as error:
            raise InputError(source, f"line {error.lineno} column {error.colno}",
                             f"valid JSON ({error.msg})") from None
        return _checked(decision, source), None
    if path.suffix.lower() in (".json", ".yaml", ".yml") or "/" in source or "\\" in source:
        raise InputError(source, "", "an existing decision JSON file or a recorded assessment id")
    try:
        from engine.audit import LOG_FILE, open_log
    except ImportError:
        raise InputError(source, "", "an existing decision JSON file (no audit log in this "
                         "installation to look ids up in)") from None
    from engine.paths import home_dir

    if not (home_dir() / LOG_FILE).is_file():  # looking an id up never creates a log
        raise InputError(source, "", "an existing decision JSON file or the id of a recorded "
                         f"assessment (no audit log at {home_dir() / LOG_FILE})")
    record = open_log().get(source)
    decision = record.get("decision") if isinstance(record, dict) else None
    if not isinstance(decision, dict):
        raise InputError(source, "decision", "the id of a recorded assessment")
    return _checked(decision, source), str(record.get("record_id") or source)


def _checked(decision: Any, source: str) -> dict[str, Any]:
    if not isinstance(decision, dict):
        raise InputError(source, "", "a mladvisor.decision/1 JSON object",
                         type(decision).__name__)
    schema = decision.get("schema")
    if schema != "mladvisor.decision/1":
        raise InputError(source, "schema", "mladvisor.decision/1", schema)
    for key, kind in (("findings", list), ("options", list), ("trace", list)):
        if key in decision and not isinstance(decision[key], kind):
            raise InputError(source, key, f"a {kind.__name__}", type(decision[key]).__name__)
    return decision


@click.command(context_settings=CONTEXT)
@click.argument("id_or_decision", metavar="ID_OR_DECISION")
@format_option(["html", "pdf"], "html")
@out_option
@click.option("--no-record", is_flag=True,
              help="Do not note the rendered report (its sha256) in the audit log.")
def report(id_or_decision: str, fmt: str, out: Path | None, no_record: bool) -> None:
    """Render a decision as an HTML or PDF report.

    ID_OR_DECISION is a decision JSON file saved with `mladvisor assess --format json`, or the
    id (or a unique prefix of it) of an assessment recorded in the audit log. The file is
    written whole or not at all; PDF needs --out. A report of a recorded assessment is noted
    in the audit log with its sha256, unless --no-record.

    \b
    Example:
        mladvisor assess answers.yaml --format json --out decision.json
        mladvisor report decision.json --format pdf --out report.pdf
        mladvisor report 0192f7a0 --format html --out report.html
    """
    if fmt == "pdf" and out is None:
        raise click.UsageError("--format pdf needs --out FILE")
    decision, record_id = load_decision(id_or_decision)
    from engine.report import render_html, render_pdf

    data = render_pdf(decision) if fmt == "pdf" else render_html(decision)
    emit(data, out)
    if record_id is not None and not no_record:
        import hashlib

        from engine.audit import open_log

        log = open_log()
        try:
            log.append_report(record_id, fmt, hashlib.sha256(data).hexdigest())
        finally:
            log.close()
