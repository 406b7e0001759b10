"""Options and helpers several commands share, written once."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from engine.model.vocab import AUDIENCES, DEFAULT_AUDIENCE
from engine.paths import home_dir
from engine.util.files import Destination, check_destination, is_stdout, unwritable
from engine.util.text import for_terminal

CONTEXT = {"help_option_names": ["-h", "--help"]}


OUT_HELP = "Write to this file (atomically; - for standard output) instead of standard output."
OUT_FIELD = "--out"


def out_option(func: Callable[..., Any] | None = None, *, help: str = OUT_HELP) -> Any:
    """--out FILE; usable bare (@out_option) or with its own help (@out_option(help=...))."""

    def decorate(inner: Callable[..., Any]) -> Callable[..., Any]:
        # directories are refused by engine.util.files, in the one-line form of every other case
        return click.option("--out", "-o", type=click.Path(allow_dash=True, path_type=Path),
                            default=None, help=help)(inner)

    return decorate(func) if func is not None else decorate


def format_option(choices: list[str], default: str) -> Callable[[Callable[..., Any]], Any]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format", "-f", "fmt", type=click.Choice(choices), default=default,
            show_default=True, help="Output format.",
        )(func)
    return decorate


def audience_option(default: str = DEFAULT_AUDIENCE) -> Callable[[Callable[..., Any]], Any]:
    """--audience: who the html, pdf or markdown report is written for (the same decision,
    hashes and attachment in each)."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--audience", "-a", type=click.Choice(AUDIENCES), default=default,
            show_default=True,
            help="Who the html, pdf or markdown report is for: executive (one or two pages: "
                 "decision, cost, next steps), architect (ladder, evidence, findings) or "
                 "audit (adds the full decision trace).",
        )(func)
    return decorate


def destination(out: Path | None, *inputs: Path | None) -> Destination | None:
    """Check --out before any work is done (exit 2 naming the path when it cannot be written);
    None means standard output. --out may not name one of the command's own inputs, nor the
    audit log or its keys: one mistyped option must not destroy what it reads or the log."""
    if out is None or is_stdout(out):
        return None
    target = check_destination(out, OUT_FIELD)
    for given in inputs:
        if given is not None and _same_file(target.target, Path(given)):
            raise unwritable(out, f"it is an input of this command ({given})", OUT_FIELD)
    home = Path(os.path.realpath(home_dir()))
    if target.target.parent == home and target.target.name.startswith("audit."):
        raise unwritable(out, "it is part of the audit log (MLADVISOR_HOME)", OUT_FIELD)
    if home / "keys" in target.target.parents:
        raise unwritable(out, "it is in the audit log's keys folder (MLADVISOR_HOME)", OUT_FIELD)
    return target


def _same_file(target: Path, other: Path) -> bool:
    try:
        return os.path.samefile(target, other)
    except OSError:  # either is missing or unreadable: then they are not one file we know of
        return False


def stdout_is_terminal(out: Path | Destination | None) -> bool:
    return (out is None or isinstance(out, Path) and is_stdout(out)) and sys.stdout.isatty()


def refuse_binary_on_terminal(fmt: str, out: Path | None) -> None:
    """Binary output goes to a file or a pipe, never to a terminal, where it would garble it."""
    if fmt == "pdf" and stdout_is_terminal(out):
        raise click.UsageError("--format pdf writes binary data: give --out FILE or redirect "
                               "standard output")


def emit(data: bytes | str, out: Path | Destination | None) -> None:
    """Send output to --out (checked now unless already checked) or to standard output."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(out, Path):
        out = destination(out)
    if out is None:
        click.echo(data, nl=False)
    else:
        out.write(data)


def emit_text(text: str, out: Path | Destination | None) -> None:
    """Human-readable output: control characters from users' text shown as visible escapes, in
    a file as on a terminal (JSON output escapes them itself)."""
    emit(for_terminal(text), out)


def say(text: str) -> None:
    """A status line on standard error, safe to show on a terminal."""
    click.echo(for_terminal(text), err=True)
