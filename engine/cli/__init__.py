"""The `mladvisor` command: a thin layer over the library.

Commands live in their own modules and are imported only when run, so that `mladvisor --help`
and `--version` start without pandas, scikit-learn or WeasyPrint.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click
from click.exceptions import NoArgsIsHelpError as NoArgsIsHelp

from engine import __version__
from engine.errors import MladvisorError
from engine.util.text import for_terminal

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a process a closed pipe ended

# command name -> "module:attribute"; a module not yet present is simply not offered.
COMMANDS: dict[str, str] = {
    "assess": "engine.cli.assess:assess",
    "explain": "engine.cli.explain:explain",
    "diff": "engine.cli.explain:diff",
    "report": "engine.cli.report:report",
    "questionnaire": "engine.cli.questionnaire:questionnaire",
    "schema": "engine.cli.schema:schema",
    "rules": "engine.cli.rules:rules",
    "benchmark": "engine.cli.evidence:benchmark",
    "drift": "engine.cli.evidence:drift",
    "audit": "engine.cli.audit:audit",
    "serve": "engine.cli.serve:serve",
    "users": "engine.cli.users:users",
    "review": "engine.cli.review:review",
    "portfolio": "engine.cli.projects:portfolio",
    "project": "engine.cli.projects:project",
}


class SystemRefusal(click.ClickException):
    """An OSError no library layer turned into its own error: still one line, not a trace."""

    exit_code = 2


class ToolError(click.ClickException):
    """A library error at the CLI edge: one line on stderr, the error's own exit code."""

    def __init__(self, error: MladvisorError) -> None:
        super().__init__(for_terminal(str(error)))  # file names and values come from users
        self.exit_code = error.exit_code  # type: ignore[misc]  # per error, as click allows


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, target in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _available(target):
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except MladvisorError as error:
            raise ToolError(error) from None
        except KeyboardInterrupt:  # Ctrl-C: the shell's convention, not click's "Aborted!" (1)
            click.echo("\nInterrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # `mladvisor audit export | head`: the reader left; end quietly
            _discard_stdout()
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as error:  # the system refused: a full disk, a name too long, no access
            raise SystemRefusal(for_terminal(_system_error(error))) from None


def _system_error(error: OSError) -> str:
    """One line naming what the system refused (exit 2): the file, or standard output."""
    where = error.filename if error.filename is not None else "<standard output>"
    return f"{where}: {error.strerror or type(error).__name__}"


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _available(target: str) -> bool:
    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mladvisor")
def cli() -> None:
    """Decision support for ML projects: assess a project against the ML lifecycle guidance.

    \b
    Example:
        mladvisor questionnaire --template > answers.yaml
        mladvisor assess answers.yaml --format pdf --out report.pdf
    """


def main() -> None:
    """Run the CLI; a usage error is one line too (contract: exit 2, one line, no usage dump)."""
    try:
        code = cli.main(prog_name="mladvisor", standalone_mode=False)
    except NoArgsIsHelp as error:  # `mladvisor` or `mladvisor audit` alone: the help, as before
        click.echo(error.format_message(), err=True)
        sys.exit(error.exit_code)
    except click.UsageError as error:
        hint = f" (see: {error.ctx.command_path} --help)" if error.ctx is not None else ""
        message = " ".join(error.format_message().split())
        click.echo(f"Error: {for_terminal(message)}{hint}", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:  # a prompt ended by Ctrl-C or end of input
        click.echo("\nInterrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
