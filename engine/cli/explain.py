"""`mladvisor explain` and `mladvisor diff`: why a decision came out as it did, what would change
it, and what changed between two decisions of one project."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.cli._common import CONTEXT, destination, emit, emit_text, format_option, out_option

_FILE = click.Path(dir_okay=False, path_type=Path)


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@click.command(context_settings=CONTEXT)
@click.argument("answers", type=_FILE)
@click.option("--benchmarks", "-b", type=_FILE,
              help="Benchmark results of candidate solutions (CSV or JSON).")
@click.option("--drift", "-d", type=_FILE,
              help="Drift summary of a deployed model (mladvisor.drift/1 JSON).")
@click.option("--limit", "-n", type=click.IntRange(0, 50), default=10, show_default=True,
              help="At most this many counterfactuals.")
@click.option("--all", "every_answer", is_flag=True,
              help="Vary every answer and keep every outcome (for rule authors), not only the "
                   "levers a team can change towards a better outcome.")
@format_option(["text", "json"], "text")
@out_option
def explain(answers: Path, benchmarks: Path | None, drift: Path | None, limit: int,
            every_answer: bool, fmt: str, out: Path | None) -> None:
    """Explain the decision on ANSWERS: why, why not, and what would change it.

    Every change listed under "What would change this recommendation" was applied to the
    answers and assessed again; the verdict and strategy shown are that run's. Only answers a
    team can change (the questionnaire's levers: budget, labelled examples, data quality, ...)
    are changed, alone or in pairs, and only towards a better verdict or another strategy;
    --all varies every answer.

    \b
    Example:
        mladvisor explain answers.yaml
        mladvisor explain answers.yaml --benchmarks bench.csv --format json
        mladvisor explain answers.yaml --all
    """
    from engine.api import assess_files
    from engine.explain.why import explain as explain_assessment

    target = destination(out, answers, benchmarks, drift)
    assessment = assess_files(answers, benchmarks, drift)
    result = explain_assessment(assessment, limit=limit, levers_only=not every_answer)
    if fmt == "json":
        emit(_json(result), target)
    else:
        from engine.explain.text import render_text

        emit_text(render_text(assessment.model, result), target)


@click.command(context_settings=CONTEXT)
@click.argument("a", type=_FILE)
@click.argument("b", type=_FILE)
@format_option(["text", "json"], "text")
@out_option
def diff(a: Path, b: Path, fmt: str, out: Path | None) -> None:
    """Compare two answers files or two saved decisions (A before, B after).

    Shows the answers that changed, the findings added and removed, and whether the verdict
    and the strategy moved. A side that is an answers file is assessed with the installed
    rule base; a saved decision (mladvisor.decision/1) is read as it is.

    \b
    Example:
        mladvisor diff answers-march.yaml answers-june.yaml
        mladvisor diff decision-old.json answers.yaml --format json
    """
    from engine.explain.diff import diff as diff_decisions
    from engine.explain.diff import load_side, render_text

    target = destination(out, a, b)
    result = diff_decisions(load_side(a), load_side(b))
    if fmt == "json":
        emit(_json(result), target)
    else:
        emit_text(render_text(result, str(a), str(b)), target)
