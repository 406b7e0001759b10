"""`mladvisor questionnaire`: the terminal wizard, or a commented answers template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from engine.cli._common import CONTEXT, destination, emit, out_option, say
from engine.util.files import atomic_write, is_stdout
from engine.util.text import for_terminal

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C

DEFAULT_PROGRESS = Path("answers.yaml.partial")


def progress_path(out: Path | None, resume: Path | None) -> Path:
    """Where progress is saved after each answer: beside --out, else the resumed file."""
    if out is not None and not is_stdout(out):
        return out.with_name(out.name + ".partial")
    if resume is not None:
        return resume
    return DEFAULT_PROGRESS


def run_wizard(stdin: TextIO, prompts: TextIO, out: Path | None, resume: Path | None,
               do_assess: bool, record: bool) -> None:
    """The whole interactive session; split from the click command so tests can call it."""
    from engine.errors import InputError
    from engine.model.answers import parse_answers, read_document
    from engine.questionnaire.fields import check_document, dump_answers, read_defaulted
    from engine.questionnaire.wizard import InputEnded, Wizard

    answers: dict[str, Any] = {}
    defaulted: set[str] = set()
    if resume is not None:
        answers = check_document(read_document(resume), str(resume))
        defaulted = read_defaulted(resume.read_text(encoding="utf-8"))
    progress = progress_path(out, resume)
    target = destination(out)  # an unwritable --out is said before the questions, not after
    destination(progress)

    def save(doc: dict[str, Any], left: list[str]) -> None:
        atomic_write(progress, dump_answers(doc, left).encode("utf-8"))

    wizard = Wizard(stdin=stdin, out=prompts, answers=answers, on_progress=save,
                    defaulted=defaulted)
    if resume is not None:
        wizard.say(f"Resuming from {resume}: answered questions are not asked again.")
    try:
        doc = wizard.run()
    except KeyboardInterrupt:
        _interrupted(wizard, save, progress)
    except InputEnded:
        if not _started(wizard):
            raise InputError("<stdin>", "", "the questionnaire was not finished (no answer "
                             "was given)") from None
        save(wizard.answers, sorted(wizard.defaulted))
        raise InputError("<stdin>", "", "the questionnaire was not finished; progress saved in "
                         f"{progress}, continue with --resume {progress}") from None
    parse_answers(doc, str(out or "<answers>"))
    data = dump_answers(doc, wizard.defaulted).encode("utf-8")
    emit(data, target)
    if target is not None:
        wizard.say(f"Answers written to {out}.")
    if (target is not None or progress != resume) and progress.exists():
        progress.unlink()  # FILE.partial has served its purpose once FILE is written
    if do_assess:
        _assess(doc, prompts if target is None else sys.stdout, record)


def _started(wizard: Any) -> bool:
    return bool(wizard.answers.keys() - {"schema"} or wizard.defaulted)


def _interrupted(wizard: Any, save: Any, progress: Path) -> NoReturn:
    """Ctrl-C is the person's choice, not bad input: keep what was answered, say where, and
    exit 130 as an interrupted command does."""
    if _started(wizard):
        try:
            save(wizard.answers, sorted(wizard.defaulted))
        except KeyboardInterrupt:  # a second Ctrl-C while saving: the last save stands
            pass
        say(f"\nInterrupted: progress saved in {progress}; continue with --resume {progress}")
    else:
        say("\nInterrupted before any answer: nothing saved.")
    sys.exit(EXIT_INTERRUPTED)


def _assess(doc: dict[str, Any], stream: TextIO, record: bool) -> None:
    from engine.api import assess
    from engine.questionnaire.wizard import summary_text

    assessment = assess({"answers": doc, "benchmarks": None, "drift": None})
    if record:
        from engine.audit import open_log

        with open_log() as log:
            log.append(assessment, None)
    stream.write("\n" + for_terminal(summary_text(assessment.model)))
    stream.flush()


@click.command(context_settings=CONTEXT)
@out_option
@click.option("--template", is_flag=True,
              help="Print a commented answers file (every question, its help, choices and "
                   "default) instead of asking.")
@click.option("--resume", type=click.Path(dir_okay=False, exists=False, path_type=Path),
              help="Continue from a partial answers file; answered questions are skipped.")
@click.option("--assess", "do_assess", is_flag=True,
              help="Assess the answers at the end and print the verdict and strategy.")
@click.option("--no-record", is_flag=True,
              help="With --assess: do not append the decision to the audit log.")
def questionnaire(out: Path | None, template: bool, resume: Path | None, do_assess: bool,
                  no_record: bool) -> None:
    """Answer the questionnaire phase by phase in the terminal, or print a template.

    Each answer is checked as it is typed and asked again with the reason when invalid;
    questions that do not apply are skipped. Progress is saved after every answer (to
    FILE.partial with --out FILE), so an interrupted session continues with --resume. The
    session ends with a review, then the answers file is written to --out or standard output
    (questions go to standard error).

    \b
    Example:
        mladvisor questionnaire --out answers.yaml --assess
        mladvisor questionnaire --resume answers.yaml.partial --out answers.yaml
        mladvisor questionnaire --template > answers.yaml
    """
    if template:
        if resume is not None or do_assess:
            raise click.UsageError("--template cannot be combined with --resume or --assess")
        from engine.questionnaire.fields import template_text

        emit(template_text(), out)
        return
    run_wizard(sys.stdin, sys.stderr, out, resume,
               do_assess, not no_record)
