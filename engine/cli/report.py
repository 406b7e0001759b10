"""`mladvisor report`: render a saved or recorded decision as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli._common import (
    CONTEXT,
    audience_option,
    destination,
    emit,
    format_option,
    out_option,
    refuse_binary_on_terminal,
)
from engine.errors import InputError

if TYPE_CHECKING:
    from engine.model.decision import Decision


def find_decision(source: str, fmt: str = "html") -> tuple[Decision, str | None]:
    """A decision from a saved JSON file, or else from the audit log by (prefix of) id;
    the second value is the full record id when it came from the log."""
    from engine.model.decision import load_decision

    path = Path(source)
    if path.is_file():
        from engine.util.load import load_document

        try:
            decision = load_document(path, json_only=True)
        except InputError:
            _refuse_answers(_yaml_or_none(path), source, fmt)
            raise
        _refuse_answers(decision, source, fmt)
        return load_decision(source, decision), None
    if path.suffix.lower() in (".json", ".yaml", ".yml") or "/" in source or "\\" in source:
        raise InputError(source, "", "an existing decision JSON file or a recorded assessment id")
    try:
        from engine.audit import open_log
        from engine.audit.store import MissingLogError
    except ImportError:
        raise InputError(source, "", "an existing decision JSON file (no audit log in this "
                         "installation to look ids up in)") from None
    try:  # looking an id up never creates a log (in MLADVISOR_HOME or MLADVISOR_DATABASE)
        log = open_log(create=False)
    except MissingLogError as missing:
        raise InputError(source, "", "an existing decision JSON file or the id of a recorded "
                         f"assessment (no audit log at {missing.path})") from None
    with log:
        record = log.get(source)
    decision = record.decision
    if decision is None:
        raise InputError(source, "decision", "the id of a recorded assessment")
    return load_decision(source, decision), record.record_id or source


def recorded_reviews(record_id: str | None) -> list[dict[str, Any]]:
    """The reviews the audit log holds of a recorded assessment, for the report's sign-off
    section (none for a decision read from a file: nothing vouches for its reviews)."""
    if record_id is None:
        return []
    from engine.audit import open_log
    from engine.audit.review import reviews_of

    with open_log(create=False) as log:
        return [review.to_dict() for review in reviews_of(log, record_id)]


def _yaml_or_none(path: Path) -> Any:
    """The file read as YAML, to recognise an answers file; None when it is not YAML either."""
    from engine.model.answers import read_document

    try:
        return read_document(path)
    except InputError:
        return None


def _refuse_answers(doc: Any, source: str, fmt: str) -> None:
    """An answers file given where a decision belongs: say which command takes it."""
    if not isinstance(doc, dict):
        return
    schema = doc.get("schema")
    if (isinstance(schema, str) and schema.startswith("mladvisor.answers/")
            or schema is None and "project" in doc):
        out = " --out FILE" if fmt == "pdf" else ""
        raise InputError(source, "schema" if schema else "", "this is an answers file, not a "
                         f"decision; use `mladvisor assess {source} --format {fmt}{out}`")


@click.command(context_settings=CONTEXT)
@click.argument("id_or_decision", metavar="ID_OR_DECISION")
@format_option(["html", "pdf", "markdown"], "html")
@audience_option()
@out_option
@click.option("--no-record", is_flag=True,
              help="Do not note the rendered report (its sha256) in the audit log.")
def report(id_or_decision: str, fmt: str, audience: str, out: Path | None,
           no_record: bool) -> None:
    """Render a decision as an HTML, PDF or Markdown report.

    ID_OR_DECISION is a decision JSON file saved with `mladvisor assess --format json`, or the
    id (or a unique prefix of it) of an assessment recorded in the audit log. The file is
    written whole or not at all; PDF goes to --out or to a redirected standard output, never
    to a terminal. A report of a recorded assessment is noted in the audit log with its
    sha256 once the report is written, unless --no-record.

    \b
    Example:
        mladvisor assess answers.yaml --format json --out decision.json
        mladvisor report decision.json --format pdf --out report.pdf
        mladvisor report 0192f7a0 --format html --out report.html
        mladvisor report decision.json --format markdown --out report.md
        mladvisor report 0192f7a0 --format pdf --audience audit --out audit.pdf
    """
    refuse_binary_on_terminal(fmt, out)
    target = destination(out, Path(id_or_decision))  # fails before the render, not after
    decision, record_id = find_decision(id_or_decision, fmt)
    from engine.report import render_html, render_markdown, render_pdf

    data = {"pdf": render_pdf, "markdown": render_markdown}.get(fmt, render_html)(
        decision, audience, recorded_reviews(record_id))
    emit(data, target)
    if record_id is not None and not no_record:
        from engine.audit import open_log
        from engine.util.canonical import sha256_hex

        log = open_log()
        try:
            log.append_report(record_id, fmt, sha256_hex(data))
        finally:
            log.close()
