"""Options and helpers several commands share, written once."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"]}


OUT_HELP = "Write to this file (atomically) instead of standard output."


def out_option(func: Callable[..., Any] | None = None, *, help: str = OUT_HELP) -> Any:
    """--out FILE; usable bare (@out_option) or with its own help (@out_option(help=...))."""

    def decorate(inner: Callable[..., Any]) -> Callable[..., Any]:
        return click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
                            default=None, help=help)(inner)

    return decorate(func) if func is not None else decorate


def format_option(choices: list[str], default: str) -> Callable[[Callable[..., Any]], Any]:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format", "-f", "fmt", type=click.Choice(choices), default=default,
            show_default=True, help="Output format.",
        )(func)
    return decorate


def write_atomic(path: Path, data: bytes) -> None:
    """Write all or nothing: a failed render never leaves a half-written file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def emit(data: bytes | str, out: Path | None) -> None:
    """Send output to --out (atomically) or to standard output."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if out is None:
        click.echo(data, nl=False)
    else:
        write_atomic(out, data)
