"""`mladvisor benchmark` and `mladvisor drift`: parse, call engine.evidence, print or write."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli._common import CONTEXT, emit, format_option, out_option, write_atomic
from engine.evidence.benchmark import TASK_ALIASES


@click.command(context_settings=CONTEXT)
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", required=True, help="The column to predict.")
@click.option("--task", type=click.Choice(sorted(TASK_ALIASES)), default=None,
              help="Inferred when omitted: a numeric target with many values is regression.")
@click.option("--text-column", default=None,
              help="A free-text column: TF-IDF and a linear model (text classification).")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True,
              help="Cross-validation folds (fewer when a class is rare).")
@click.option("--max-rows", type=click.IntRange(10), default=50_000, show_default=True,
              help="Train on a fixed random sample of at most this many rows.")
@click.option("--curve-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the learning-curve points as JSON.")
@out_option
@format_option(["text", "csv", "json"], "text")
def benchmark(data: Path, target: str, task: str | None, text_column: str | None, folds: int,
              max_rows: int, curve_out: Path | None, out: Path | None, fmt: str) -> None:
    """Train simple baselines with scikit-learn and write benchmark rows.

    Candidates: a majority (or mean) baseline and a one-rule tree (rung no-ml), a linear model
    and gradient boosting (rung from-scratch), cross-validated, with a learning curve. With
    --out, writes CSV (JSON when the name ends in .json) in the format `assess --benchmarks`
    reads, and prints the table.

    Example:

        mladvisor benchmark tickets.csv --target team --text-column body --out bench.csv
    """
    import json

    from engine.evidence.benchmark import run_benchmark, to_csv, to_json, to_table

    result = run_benchmark(data, target, task=task, text_column=text_column, folds=folds,
                           max_rows=max_rows)
    if out is not None:
        body = to_json(result.rows) if out.suffix.lower() == ".json" else to_csv(result.rows)
        write_atomic(out, body.encode("utf-8"))
    if curve_out is not None:
        write_atomic(curve_out, (json.dumps(result.curve, indent=2) + "\n").encode("utf-8"))
    if fmt == "csv" and out is None:
        emit(to_csv(result.rows), None)
    elif fmt == "json" and out is None:
        emit(to_json(result.rows), None)
    else:
        emit(to_table(result), None)
