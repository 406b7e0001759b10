"""`mladvisor portfolio` and `mladvisor project`: projects as the audit log tells them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from engine.cli._common import CONTEXT, emit, emit_text, format_option, out_option


def _log() -> Any:
    """The existing log, read-only; None when nothing was ever recorded."""
    from engine.audit import open_log
    from engine.audit.store import MissingLogError

    try:
        return open_log(create=False)
    except MissingLogError:
        return None


@click.command(context_settings=CONTEXT)
@format_option(["text", "csv", "json"], "text")
@out_option
def portfolio(fmt: str, out: Path | None) -> None:
    """The latest state of every project: verdict, strategy, open blockers, expected value,
    estimated cost, review state and age of the last assessment.

    One row per project (an assessment belongs to the project its answers' project.id names,
    or else the slug of project.name). Projects with open blockers come first, most first,
    then the longest without a new assessment. COST/MO is the selected option's estimated
    running cost where the catalog prices it; AGE is whole days since the latest assessment.

    \b
    Example:
        mladvisor portfolio
        mladvisor portfolio --format csv --out portfolio.csv
    """
    from engine.projects.portfolio import portfolio as rows_of
    from engine.projects.portfolio import to_csv, to_json
    from engine.projects.text import portfolio_text

    log = _log()
    rows = [] if log is None else rows_of(log)
    if fmt == "json":
        emit(to_json(rows), out)
    elif fmt == "csv":
        emit(to_csv(rows), out)
    else:
        emit_text(portfolio_text(rows), out)


@click.command(context_settings=CONTEXT)
@click.argument("project_ref", metavar="ID")
@format_option(["text", "json"], "text")
@out_option
def project(project_ref: str, fmt: str, out: Path | None) -> None:
    """One project's history: its assessments over time, what changed between consecutive
    ones, their reviews and where the review stands.

    ID is a project id (as `mladvisor portfolio` lists it) or the id, or a unique prefix, of
    one of the project's assessments.

    \b
    Example:
        mladvisor project support-ticket-routing
        mladvisor project 0192f7a0 --format json
    """
    from engine.errors import InputError
    from engine.projects.history import history
    from engine.projects.text import history_text

    log = _log()
    if log is None:
        from engine.audit import LOG_FILE
        from engine.paths import home_dir

        raise InputError(str(home_dir() / LOG_FILE), "project", "a recorded project (no audit"
                         " log here: nothing recorded yet)", project_ref)
    found = history(log, project_ref)
    if fmt == "json":
        emit(json.dumps(found.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
             out)
    else:
        emit_text(history_text(found), out)
