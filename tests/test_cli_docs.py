"""The command reference is generated from --help and must be current; every command has help."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def _reference():
    path = ROOT / "docs" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_docs_cli_md_is_current() -> None:
    expected = _reference().render()
    actual = (ROOT / "docs" / "cli.md").read_text()
    assert actual == expected, "docs/cli.md is stale: run python docs/cli_reference.py"


def test_every_command_and_subcommand_has_a_description() -> None:
    import click

    from engine.cli import cli

    module = _reference()
    root = click.Context(cli, info_name="mladvisor")
    for path, command in module._commands(cli, root, "mladvisor"):
        assert (command.help or "").strip(), f"{path} has no help text"
