"""`mladvisor review`: record an architect's review of an assessment as a signed audit event."""

from __future__ import annotations

import json

import click

from engine.cli._common import CONTEXT, emit_text, format_option
from engine.model.vocab import REVIEW_ACTIONS


@click.command(context_settings=CONTEXT)
@click.argument("record_id", metavar="ID")
@click.argument("action", type=click.Choice(REVIEW_ACTIONS))
@click.option("--as", "user", required=True, metavar="NAME",
              help="Who reviews: an active account whose role may review; with no account at"
              " all (single-user local mode), any name, recorded with the role architect.")
@click.option("--comment", required=True, metavar="TEXT", help="What the reviewer says.")
@click.option("--justification", metavar="TEXT",
              help="Required to approve a decision that has blockers: why it may go ahead"
              " anyway, recorded as an override naming the blockers. Refused otherwise.")
@format_option(["text", "json"], "text")
def review(record_id: str, action: str, user: str, comment: str, justification: str | None,
           fmt: str) -> None:
    """Record a review of a recorded assessment: approve, request-changes or comment.

    The review is appended to the audit log as a record of kind `review`, in the same hash
    chain as the decisions and signed like them; `audit show ID` lists it, `audit verify`
    checks it and the report of the assessment gains a sign-off section. Approving a decision
    with blockers needs --justification (exit 2 without it). ID is the assessment id or a
    unique prefix of it.

    NAME must be an active account whose role may review (see `mladvisor users`); when no
    account exists at all (single-user local mode) NAME is recorded as given, with the role
    architect and `account: false`.

    \b
    Example:
        mladvisor review 0192f7a0 request-changes --as "Ada Park" --comment "Label more data"
        mladvisor review 0192f7a0 approve --as "Ada Park" --comment "Go" \\
            --justification "Legal signed off the data use on 2026-11-30"
    """
    from engine.audit import open_log
    from engine.audit.review import record_review
    from engine.audit.store import MissingLogError
    from engine.errors import InputError
    from engine.projects.reviewer import reviewer

    who = reviewer(user)
    try:
        reader = open_log(create=False)  # reviewing never creates a log
    except MissingLogError as error:
        raise InputError(str(error.path), "", "no audit log here, so no assessment to review"
                         " (is MLADVISOR_HOME right?)", record_id) from None
    reader.close()
    with open_log() as log:
        done = record_review(log, record_id, action, who.name, who.role, comment,
                             justification, account=who.account)
    if fmt == "json":
        click.echo(json.dumps(done.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
        return
    override = f", overriding {', '.join(done.overridden)}" if done.override else ""
    emit_text(f"recorded {done.action} of {done.of} by {done.user} ({done.role}){override}:"
              f" review {done.record_id}, record {done.seq}"
              f"{', signed' if done.signed else ''}\n", None)
