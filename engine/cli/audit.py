"""`mladvisor audit`: list, show, verify, replay, export, checkpoint and sign the decision log."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from engine.audit.record import AuditRecord, RecordSummary
from engine.audit.replaytext import replay_text
from engine.audit.review import Review, all_reviews, reviews_of, state_label, state_of
from engine.audit.store import MissingLogError
from engine.cli._common import (
    CONTEXT,
    audience_option,
    destination,
    emit,
    format_option,
    out_option,
)
from engine.errors import AuditError, InputError
from engine.util.canonical import sha256_hex
from engine.util.display import strategy_text
from engine.util.text import for_terminal


def _log() -> Any:
    """The existing log, read-only: reading commands never create one (MissingLogError)."""
    from engine.audit import open_log

    return open_log(create=False)


def _log_or_input_error(what: str, got: str | None = None) -> Any:
    """The existing log; none is bad input for commands that need records (exit 2)."""
    try:
        return _log()
    except MissingLogError as error:
        raise InputError(str(error.path), "", f"no audit log here, so no {what} (is"
                         " MLADVISOR_HOME or MLADVISOR_DATABASE right?)", got) from None


def _home() -> Path:
    from engine.paths import home_dir

    return home_dir()


# json escapes C0 controls itself; C1 controls, bidi overrides and lone surrogates it passes
# through raw. Written as JSON's own \u escapes, the output stays the same JSON value.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _dump(data: Any) -> bytes:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return (_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n").encode()


def _emit_text(text: str, out: Path | None) -> None:
    """Text output whose user-written parts cannot act on the terminal."""
    emit(for_terminal(text), out)


@click.group(context_settings=CONTEXT)
def audit() -> None:
    """The decision log: every recorded assessment, hash-chained and append-only.

    The log is MLADVISOR_HOME/audit.sqlite (default ~/.mladvisor), or the PostgreSQL database
    MLADVISOR_DATABASE names (postgresql://user@host/db). Signing is on when
    MLADVISOR_AUDIT_KEY names an Ed25519 PEM key, or after `mladvisor audit keygen`
    (MLADVISOR_AUDIT_KEY=off turns it off).

    \b
    Example:
        mladvisor audit list
        mladvisor audit verify
    """


@audit.command("list", context_settings=CONTEXT)
@click.option("--kind", type=click.Choice(["assessment", "report", "review", "all"]),
              default="assessment", show_default=True, help="Which records to list.")
@click.option("--respondent", help="Only records whose respondent contains this text.")
@click.option("--verdict", help="Only decisions with this verdict.")
@click.option("--since", help="Only records at or after this UTC time (ISO 8601 prefix).")
@click.option("--until", help="Only records at or before this UTC time (ISO 8601 prefix).")
@click.option("--limit", type=click.IntRange(min=0), help="Only the newest N records.")
@format_option(["text", "json"], "text")
@out_option
def list_cmd(kind: str, respondent: str | None, verdict: str | None, since: str | None,
             until: str | None, limit: int | None, fmt: str, out: Path | None) -> None:
    """List recorded decisions, oldest first, each with its review state when reviewed.

    \b
    Example:
        mladvisor audit list --since 2026-01 --verdict not-ready
    """
    until_bound = until + "\uffff" if until else None  # a prefix includes the whole period
    try:
        log = _log()
    except MissingLogError as error:
        click.echo(for_terminal(f"note: {error}"), err=True)
        rows: list[RecordSummary] = []
    else:
        rows = log.list(kind=None if kind == "all" else kind, respondent=respondent,
                        verdict=verdict, since=since, until=until_bound, limit=limit)
    reviews = all_reviews(log) if rows else {}
    if fmt == "json":
        emit(_dump([_list_row(row, reviews) for row in rows]), out)
        return
    lines = []
    for row in rows:
        if row.kind == "report":
            lines.append(f"{row.seq:>6}  {row.time[:19]}Z  {row.record_id}  report "
                         f"{row.format} of {row.of}")
        elif row.kind == "review":
            found = reviews.get(row.of or "", [])
            review = next((r for r in found if r.record_id == row.record_id), None)
            lines.append(f"{row.seq:>6}  {row.time[:19]}Z  {row.record_id}  review "
                         f"{review.action if review else '?'} of {row.of} by"
                         f" {review.user if review else '?'}")
        else:
            strategy = strategy_text({"rung": row.rung, "service": row.service}
                                     if row.rung else None, "/{}", none="-")
            state = _review_state(row, reviews)
            lines.append(f"{row.seq:>6}  {row.time[:19]}Z  {row.record_id}  "
                         f"{row.verdict or '-':<24} {strategy:<36} {row.project or ''}"
                         f" ({row.respondent or '?'})"
                         + (f"  [{state_label(state)}]" if state != "not-reviewed" else ""))
    if not lines:
        lines.append("no records")
    _emit_text("\n".join(lines) + "\n", out)


def _review_state(row: RecordSummary, reviews: dict[str, list[Review]]) -> str:
    """An assessment's own review state (a project's is `mladvisor project`'s)."""
    return state_of([row.record_id], reviews)[0]


def _list_row(row: RecordSummary, reviews: dict[str, list[Review]]) -> dict[str, Any]:
    data = row.to_dict()
    if row.kind == "assessment":
        data["review_state"] = _review_state(row, reviews)
    return data


@audit.command(context_settings=CONTEXT)
@click.argument("record_id")
@format_option(["json", "text"], "json")
@out_option
def show(record_id: str, fmt: str, out: Path | None) -> None:
    """Print one record: chain fields, input, rule base, decision, report hashes and reviews.

    RECORD_ID is the assessment id (or a unique prefix of it); an assessment is shown with
    the reviews recorded of it (action, user, role, comment, time, any override).

    \b
    Example:
        mladvisor audit show 0192f7a0
    """
    log = _log_or_input_error("record to show", record_id)
    record = log.get(record_id)
    later = log.reports_for(record.record_id) if record.kind == "assessment" else []
    reviews = reviews_of(log, record.record_id) if record.kind == "assessment" else []
    if fmt == "json":
        data = record.to_dict()
        if record.kind == "assessment":
            data["later_reports"] = [{"record_id": r.record_id, "time": r.time,
                                      "format": r.format, "sha256": r.sha256} for r in later]
            data["reviews"] = [_review_dict(r) for r in reviews]
        emit(_dump(data), out)
        return
    _emit_text(_show_text(record, later, reviews), out)


def _review_dict(review: Review) -> dict[str, Any]:
    """A review as `audit show` lists it: who did what, when, and the chain record it is."""
    return {"record_id": review.record_id, "seq": review.seq, "time": review.time,
            "action": review.action, "user": review.user, "role": review.role,
            "comment": review.comment, "account": review.account,
            "override": review.override, "signed": review.signed}


def _review_lines(review: Review) -> list[str]:
    lines = [f"review      {review.time}  {review.action} by {review.user} ({review.role}):"
             f" {review.comment}  ({review.record_id}"
             f"{', signed' if review.signed else ''})"]
    if review.override:
        lines.append(f"  override  of {', '.join(review.overridden)}: {review.justification}")
    return lines


def _show_text(record: AuditRecord, later: list[AuditRecord],
               reviews: list[Review] | None = None) -> str:
    lines = [f"record      {record.seq}  {record.record_id}  ({record.kind})",
             f"time        {record.time}"]
    if record.kind == "assessment":
        lines += _assessment_lines(record, later)
        for review in reviews or []:
            lines += _review_lines(review)
    elif record.kind == "review":
        lines.append(f"review of   {record.of}")
        lines += _review_lines(Review.from_record(record))
    else:
        lines.append(f"report of   {record.of}: {record.format} sha256 {record.sha256}")
    signed = f"{record.key_id} {record.signature}" if record.signature else "(unsigned)"
    lines += [f"prev_hash   {record.prev_hash}", f"entry_hash  {record.entry_hash}",
              f"signature   {signed}"]
    return "\n".join(lines) + "\n"


def _assessment_lines(record: AuditRecord, later: list[AuditRecord]) -> list[str]:
    decision = record.decision or {}
    strategy = decision.get("strategy")
    stored = record.body.get("rulebase")  # as stored: an edited one is shown, not hidden
    rulebase = stored if isinstance(stored, dict) else {}
    account = record.account
    lines = [
        f"respondent  {record.respondent}",
        *([f"submitted   by account {account.get('name')} ({account.get('role')})"]
          if account else []),
        f"project     {(decision.get('project') or {}).get('name')}",
        f"verdict     {decision.get('verdict')}",
        f"strategy    {strategy_text(strategy, ' {}', none='-')}",
        f"findings    {len(decision.get('findings') or [])}: "
        + ", ".join(f["rule"] for f in decision.get("findings") or []),
        f"rule base   {rulebase.get('version')}  {rulebase.get('sha256')}",
        f"input       sha256 {record.input_sha256}",
        f"engine      {record.engine_version}",
    ]
    for fmt_name, digest in sorted(record.reports.items()):
        lines.append(f"report      {fmt_name} sha256 {digest}")
    for event in later:
        lines.append(f"report      {event.format} sha256 {event.sha256} "
                     f"({event.time}, {event.record_id})")
    return lines


@audit.command(context_settings=CONTEXT)
@click.option("--checkpoint", "checkpoints", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint file saved earlier; detects a truncated tail. Repeatable.")
@click.option("--saved/--no-saved", default=True, show_default=True,
              help="Also check the head file beside the log (audit.head.json, rewritten after"
              " every append) and the checkpoints kept in MLADVISOR_HOME/checkpoints.")
@click.option("--pubkey", "pubkeys", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trusted Ed25519 public key (PEM); repeatable. When given, these keys and"
              " no others are trusted; otherwise the MLADVISOR_HOME/keys/*.pub files are.")
@click.option("--export", "export_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Verify a JSON Lines export (from `audit export`) instead of the log.")
@click.option("--require-signatures", is_flag=True, help="Fail on any unsigned record.")
@click.option("--allow-unsigned", is_flag=True,
              help="Only warn about unsigned records after signed ones (signing turned off).")
@format_option(["text", "json"], "text")
def verify(checkpoints: tuple[Path, ...], saved: bool, pubkeys: tuple[Path, ...],
           export_file: Path | None, require_signatures: bool, allow_unsigned: bool,
           fmt: str) -> None:
    """Recompute every hash, link and signature; exit 3 naming the first bad record.

    Edited, deleted, inserted or reordered records, a truncated tail, a corrupt file, altered
    rule base files and forged signatures are each reported. With --export, checks an
    unmasked JSON Lines export on its own (hashes, links, trusted signatures).

    A truncated tail is caught against the head file kept beside the log, the checkpoints in
    MLADVISOR_HOME/checkpoints and any --checkpoint FILE.

    \b
    Example:
        mladvisor audit checkpoint --out head.json
        mladvisor audit verify --checkpoint head.json
    """
    from engine.audit.signing import load_public_key, trusted_keys

    # --pubkey means exactly those keys: a writer of MLADVISOR_HOME/keys could otherwise add
    # a key of their own, re-sign a rewritten log and pass --require-signatures.
    trusted = dict(load_public_key(p) for p in pubkeys) if pubkeys else trusted_keys(_home())
    if export_file is not None:
        from engine.audit.verify import verify_export

        summary = verify_export(export_file, trusted)
        if fmt == "json":
            click.echo(json.dumps(summary, indent=2, sort_keys=True))
        else:
            click.echo(f"ok: {summary['records']} exported records, head {summary['head_hash']},"
                       f" {summary['gaps']} gap(s), {summary['signatures_checked']} of"
                       f" {summary['signed']} signatures checked")
        return
    try:
        log = _log()
    except MissingLogError as error:  # a log that vanished is a failed verification: exit 3
        where = "MLADVISOR_DATABASE" if isinstance(error.path, str) else "MLADVISOR_HOME"
        raise MissingLogError(error.path, "verification failed: no audit log here (deleted,"
                              f" or {where} points elsewhere)") from None
    try:
        summary = log.verify(checkpoints=list(checkpoints), trusted=trusted, saved=saved,
                                require_signatures=require_signatures,
                                allow_unsigned=allow_unsigned)
    except AuditError as error:
        if fmt == "json":  # every problem for the auditor; the first one still goes to stderr
            click.echo(json.dumps({"ok": False, "problems": getattr(error, "problems", [])},
                                  indent=2))
        raise
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    text = (f"ok: {summary['records']} records, head {summary['head_hash']}, "
            f"{summary['signed']} signed (keys {summary['keys']})")
    if summary.get("checkpoints"):
        text += f", matches {len(summary['checkpoints'])} checkpoint(s)"
    click.echo(text)
    for warning in summary.get("warnings", []):
        click.echo(for_terminal(f"warning: {warning}"), err=True)


@audit.command(context_settings=CONTEXT)
@click.argument("record_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every recorded assessment.")
@click.option("--recorded-only", is_flag=True,
              help="Only check that the recorded rule base reproduces each decision.")
@format_option(["text", "json"], "text")
@out_option
def replay(record_ids: tuple[str, ...], replay_all: bool, recorded_only: bool, fmt: str,
           out: Path | None) -> None:
    """Re-evaluate recorded inputs: with the recorded rule base (must reproduce the decision)
    and with the current one (what would change, and why).

    Exit 3 when a recorded decision is not reproduced.

    \b
    Example:
        mladvisor audit replay --all
        mladvisor audit replay 0192f7a0 --format json
    """
    from engine.audit.replay import replay as run

    if replay_all == bool(record_ids):
        raise InputError("audit replay", "ID|--all", "record ids or --all (not both)",
                         " ".join(record_ids) or None)
    log = _log_or_input_error("assessment to replay",
                              " ".join(record_ids) or None)
    results = run(log, None if replay_all else list(record_ids), current=not recorded_only)
    if fmt == "json":
        emit(_dump(results), out)
    else:
        _emit_text(replay_text(results), out)
    failed = [r for r in results if not r["reproduced"]]
    if failed:
        first = failed[0]
        what = first.get("error") or "differs in " + ", ".join(first["differences"])
        raise AuditError(f"replay: {len(failed)} of {len(results)} decisions not reproduced;"
                         f" first: record {first['seq']} ({first['record_id']}): {what}")


@audit.command(context_settings=CONTEXT)
@format_option(["jsonl", "csv"], "jsonl")
@click.option("--mask", is_flag=True,
              help="Mask the answers the questionnaire marks personal (and the respondent).")
@click.option("--kind", type=click.Choice(["assessment", "report", "review", "all"]),
              default="all", show_default=True)
@click.option("--since", help="Only records at or after this UTC time.")
@click.option("--until", help="Only records at or before this UTC time.")
@out_option
def export(fmt: str, mask: bool, kind: str, since: str | None, until: str | None,
           out: Path | None) -> None:
    """Export the log for auditors as JSON Lines or CSV.

    Each JSON line holds a record with its prev_hash, entry_hash and signature: unmasked, an
    auditor can recompute entry_hash = sha256(prev_hash + RFC 8785 JSON of the record).

    \b
    Example:
        mladvisor audit export --format csv --mask --out decisions.csv
    """
    log = _log_or_input_error("records to export")
    destination(out)  # never the log itself
    with _text_out(out) as stream:  # line by line: a large log is never held in memory
        log.export(stream, fmt, mask=mask, kind=None if kind == "all" else kind, since=since,
                   until=until + "\uffff" if until else None)


@contextmanager
def _text_out(out: Path | None) -> Iterator[IO[str]]:
    """A UTF-8 text stream to standard output, or to a temporary file beside --out that
    replaces it only when complete (a failed export leaves no half-written file)."""
    if out is None:
        sys.stdout.flush()
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stream
            stream.flush()
        finally:
            stream.detach()
        return
    from engine.util.files import atomic_text

    with atomic_text(out, "--out") as handle:
        yield handle


@audit.command(context_settings=CONTEXT)
@click.option("--save/--no-save", default=True, show_default=True,
              help="Also keep a copy in MLADVISOR_HOME/checkpoints (checked by verify).")
@out_option
def checkpoint(save: bool, out: Path | None) -> None:
    """Print the (signed) head of the log: record count and head hash.

    Keep the output somewhere the log's writers cannot change it; `verify --checkpoint FILE`
    then detects records cut off the end.

    \b
    Example:
        mladvisor audit checkpoint --out /secure/audit-head.json
    """
    from engine.audit.checkpoint import dump_checkpoint, save_checkpoint

    log = _log()
    log.verify()  # never vouch for a log that does not verify
    head = log.checkpoint()
    if save:
        save_checkpoint(_home(), head)
    emit(dump_checkpoint(head), out)


@audit.command(context_settings=CONTEXT)
@click.option("--force", is_flag=True, help="Replace the current signing key (old public keys"
              " stay trusted).")
def keygen(force: bool) -> None:
    """Create an Ed25519 signing key in MLADVISOR_HOME/keys; later records are signed.

    \b
    Example:
        mladvisor audit keygen
    """
    from engine.audit.signing import keygen as make

    key_id, private, public = make(_home(), force=force)
    click.echo(f"key {key_id}\nprivate {private}\npublic {public}")


@audit.command("report", context_settings=CONTEXT)
@click.argument("record_id")
@format_option(["html", "pdf"], "html")
@audience_option("audit")
@click.option("--no-record", is_flag=True, help="Do not record the report's hash in the log.")
@out_option
def report_cmd(record_id: str, fmt: str, audience: str, no_record: bool,
               out: Path | None) -> None:
    """Render a recorded decision as HTML or PDF and record the report's sha256 (the audit
    edition, with the full trace, unless --audience says otherwise).

    \b
    Example:
        mladvisor audit report 0192f7a0 --format pdf --out report.pdf
    """
    if fmt == "pdf" and out is None:
        raise click.UsageError("--format pdf needs --out FILE")
    log = _log_or_input_error("assessment to render", record_id)
    record = log.get(record_id)
    decision = record.decision
    if record.kind != "assessment" or decision is None:
        raise InputError(str(log.path), "record_id", "the id of a recorded assessment",
                         record_id)
    from engine.report import render_html, render_pdf

    reviews = [review.to_dict() for review in reviews_of(log, record.record_id)]
    data = (render_pdf if fmt == "pdf" else render_html)(decision, audience, reviews)
    emit(data, out)
    if not no_record:
        from engine.audit import open_log

        with open_log() as writer:
            writer.append_report(record.record_id, fmt, sha256_hex(data))
