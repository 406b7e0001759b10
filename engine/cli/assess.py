"""`mladvisor assess`: evaluate an answers file (and evidence) and print or write the decision."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from engine.cli._common import (
    CONTEXT,
    audience_option,
    destination,
    emit,
    format_option,
    out_option,
    refuse_binary_on_terminal,
    say,
    stdout_is_terminal,
)
from engine.model.vocab import BLOCKING_VERDICTS, DEFAULT_AUDIENCE

EXIT_BLOCKED = 1


def render(assessment: Any, fmt: str, colour: bool = False,
           audience: str = DEFAULT_AUDIENCE) -> bytes:
    """The decision in the requested format; reports get the counterfactuals when available."""
    decision = assessment.decision
    if fmt == "json":
        return assessment.decision_json
    if fmt == "text":
        from engine.report.text import render_text

        return render_text(assessment.model, colour=colour).encode("utf-8")
    from engine import report

    decision = dict(decision)
    explanation = _explanation(assessment)
    if explanation is not None:
        decision["explanation"] = explanation
    renderers = {"html": report.render_html, "pdf": report.render_pdf,
                 "markdown": report.render_markdown}
    return renderers[fmt](decision, audience)


def _explanation(assessment: Any) -> dict[str, Any] | None:
    try:
        from engine.explain.why import explain
    except ImportError:
        return None
    result = explain(assessment)
    return {"counterfactuals": result.get("counterfactuals", [])}


@click.command(context_settings=CONTEXT)
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--benchmarks", "-b", type=click.Path(dir_okay=False, path_type=Path),
              help="Benchmark results of candidate solutions (CSV or JSON).")
@click.option("--drift", "-d", type=click.Path(dir_okay=False, path_type=Path),
              help="Drift summary of a deployed model (mladvisor.drift/1 JSON).")
@format_option(["text", "json", "html", "pdf", "markdown"], "text")
@audience_option()
@out_option(help="Write to this file (atomically; - for standard output) instead of standard "
                 "output; pdf needs it on a terminal.")
@click.option("--no-record", is_flag=True, help="Do not append this decision to the audit log.")
@click.option("--fail-on-blocker", is_flag=True,
              help=f"Exit 1 when the verdict is {' or '.join(BLOCKING_VERDICTS)}.")
def assess(answers: Path, benchmarks: Path | None, drift: Path | None, fmt: str,
           audience: str, out: Path | None, no_record: bool, fail_on_blocker: bool) -> None:
    """Evaluate ANSWERS against the rule base and print or write the decision.

    The decision is appended to the audit log (MLADVISOR_HOME) unless --no-record.

    \b
    Example:
        mladvisor assess answers.yaml
        mladvisor assess answers.yaml --benchmarks bench.csv --format json
        mladvisor assess answers.yaml --format pdf --out report.pdf
        mladvisor assess answers.yaml --format markdown --out report.md
        mladvisor assess answers.yaml --format pdf --audience executive --out summary.pdf
    """
    from engine.api import assess_files
    from engine.audit import open_log
    from engine.util.canonical import sha256_hex

    refuse_binary_on_terminal(fmt, out)
    target = destination(out, answers, benchmarks, drift)  # fails before any work is done
    assessment = assess_files(answers, benchmarks, drift)  # bad input: nothing created yet
    # An unusable log fails before anything is written; the record is appended only once the
    # output exists, so the log never names a report that does not.
    with open_log() if not no_record else nullcontext() as log:
        data = render(assessment, fmt, colour=stdout_is_terminal(out), audience=audience)
        emit(data, target)
        if log is not None:
            reports = {fmt: sha256_hex(data)} if fmt in ("html", "pdf", "markdown") else None
            log.append(assessment, reports)
    if target is not None:
        say(f"{assessment.decision['verdict']}: wrote {out}")
    if fail_on_blocker and assessment.decision["verdict"] in BLOCKING_VERDICTS:
        sys.exit(EXIT_BLOCKED)
