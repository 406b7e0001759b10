"""Generate docs/cli.md from the commands' own --help, so the reference cannot drift.

Run `python docs/cli_reference.py` after changing a command; tests/test_cli_docs.py fails when
the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _commands(group: click.Group, ctx: click.Context, prefix: str):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx)
            yield from _commands(command, sub, path)


def render() -> str:
    from engine.cli import cli

    settings = {"terminal_width": 100, "max_content_width": 100,
                "help_option_names": ["-h", "--help"]}  # as every command declares them
    root = click.Context(cli, info_name="mladvisor", **settings)
    parts = ["# Command reference", "",
             "Generated from `--help` by `docs/cli_reference.py`; do not edit by hand.", "",
             "```text", cli.get_help(root), "```", ""]
    for path, command in _commands(cli, root, "mladvisor"):
        ctx = click.Context(command, info_name=path, **settings)
        parts += [f"## {path}", "", "```text", command.get_help(ctx), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    (ROOT / "docs" / "cli.md").write_text(render())
    print("wrote docs/cli.md")
