"""`mladvisor benchmark` and `mladvisor drift`: parse, call engine.evidence, print or write."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli._common import CONTEXT, destination, emit, format_option, out_option
from engine.evidence.benchmark import TASK_ALIASES
from engine.util.text import for_terminal

if TYPE_CHECKING:
    from engine.evidence.drift.options import Options


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
@click.option("--exclude", multiple=True, metavar="COLUMN",
              help="Leave this column out of the features (repeat for several).")
@click.option("--keep", multiple=True, metavar="COLUMN",
              help="Use this column even if it looks like an identifier (repeat for several).")
@click.option("--positive-label", default=None,
              help="The positive class of a binary target, for f1 and auc (default: the larger "
                   "label when sorted, e.g. 1, true, yes).")
@click.option("--curve-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the learning-curve points as JSON.")
@out_option
@format_option(["text", "csv", "json"], "text")
def benchmark(data: Path, target: str, task: str | None, text_column: str | None, folds: int,
              max_rows: int, exclude: tuple[str, ...], keep: tuple[str, ...],
              positive_label: str | None, curve_out: Path | None, out: Path | None,
              fmt: str) -> None:
    """Train simple baselines with scikit-learn and write benchmark rows.

    Candidates: a majority (or mean) baseline and a one-rule tree (rung no-ml), a linear model
    and gradient boosting (rung from-scratch), cross-validated, with a learning curve. With
    --out, writes CSV (JSON when the name ends in .json) in the format `assess --benchmarks`
    reads, and prints the table.

    Identifier-like columns (named like an id with mostly distinct values, or distinct per row
    and rising with the row order) and free text are left out; a feature that alone scores
    near-perfectly is flagged as likely leakage. Such notes, and which class is positive for
    f1 and auc, go to standard error.

    \b
    Example:
        mladvisor benchmark tickets.csv --target team --text-column body --out bench.csv
        mladvisor benchmark houses.parquet --target price --out bench.json --curve-out curve.json
    """
    import json

    from engine.evidence.benchmark import run_benchmark, to_csv, to_json, to_table

    destination(out, data)  # before minutes of training: not the data itself, not the log
    destination(curve_out, data)
    result = run_benchmark(data, target, task=task, text_column=text_column, folds=folds,
                           max_rows=max_rows, exclude=exclude, keep=keep,
                           positive_label=positive_label)
    for level, message in result.notes():
        click.echo(for_terminal(f"{level}: {message}"), err=True)
    if out is not None:
        body = to_json(result.rows) if out.suffix.lower() == ".json" else to_csv(result.rows)
        emit(body, out)
    if curve_out is not None:
        emit(json.dumps(result.curve, indent=2) + "\n", curve_out)
    if fmt == "csv" and out is None:
        emit(to_csv(result.rows), None)
    elif fmt == "json" and out is None:
        emit(to_json(result.rows), None)
    else:
        emit(to_table(result), None)


@click.command(context_settings=CONTEXT)
@click.argument("reference", type=click.Path(path_type=str))
@click.argument("current", type=click.Path(path_type=str))
@click.option("--target", default=None, help="The label column (performance, equal opportunity).")
@click.option("--prediction", default=None, help="The model's prediction column.")
@click.option("--sensitive", multiple=True,
              help="A sensitive attribute for bias checks (repeat for several).")
@click.option("--positive-label", default=None,
              help="The favourable outcome for bias checks (default: 1/true, else the larger "
                   "label).")
@click.option("--no-multivariate", is_flag=True,
              help="Skip the domain classifier (reference vs current rows).")
@click.option("--batch-rows", type=click.IntRange(1000), default=131_072, show_default=True,
              help="Rows per chunk read; lower it to use less memory.")
@click.option("--engine", type=click.Choice(["pyarrow", "spark"]), default="pyarrow",
              show_default=True, help="spark: PySpark jobs summarise the data (files, folders "
              "or object-store URLs); needs the mladvisor[spark] extra and Java.")
@click.option("--spark-master", default=None, metavar="URL",
              help="Spark master, e.g. local[2] (default: spark-submit's, else local).")
@out_option
@format_option(["text", "json"], "text")
def drift(reference: str, current: str, target: str | None, prediction: str | None,
          sensitive: tuple[str, ...], positive_label: str | None, no_multivariate: bool,
          batch_rows: int, engine: str, spark_master: str | None, out: Path | None,
          fmt: str) -> None:
    """Compare current data with the reference and write the drift summary.

    Per column, the test Evidently picks by default (K-S, chi-square or z-test for a reference
    of up to 1,000 rows; normalised Wasserstein or Jensen-Shannon distance above), plus PSI,
    the change in missing values and a domain classifier. With --target and --prediction, the
    model's metric on both; with --sensitive, disparate impact and parity differences. Files
    are read in chunks, so they may be larger than memory. With --out, writes
    mladvisor.drift/1 JSON and prints the table. With --engine spark, Spark jobs compute the
    same per-column summaries (for data beyond one machine; see README).

    \b
    Example:
        mladvisor drift train.parquet last_week.parquet --out drift.json
        mladvisor drift ref.csv cur.csv --target churned --prediction predicted \\
            --sensitive region --out drift.json
        mladvisor drift --engine spark s3://logs/ref/ s3://logs/2026-12/ --out drift.json
    """
    from engine.evidence.tables import tune_memory_for_streaming

    if engine == "pyarrow":
        tune_memory_for_streaming()   # before pyarrow loads
    from engine.evidence.drift import Options, compute_drift, to_json, to_table

    options = Options(target=target, prediction=prediction, sensitive=tuple(sensitive),
                      positive_label=positive_label, multivariate=not no_multivariate,
                      batch_rows=batch_rows)
    destination(out, Path(reference), Path(current))  # before the passes over the data
    if engine == "spark":
        doc = _spark_drift(reference, current, options, spark_master)
    else:
        doc = compute_drift(Path(reference), Path(current), options)
    if out is not None:
        emit(to_json(doc), out)
    emit(to_json(doc) if fmt == "json" and out is None else to_table(doc), None)


def _spark_drift(reference: str, current: str, options: Options,
                 master: str | None) -> dict[str, Any]:
    """The Spark engine, or one line saying what to install when it cannot start."""
    from engine.evidence.drift.spark_session import missing_requirement

    problem = missing_requirement()
    if problem is not None:
        raise click.BadParameter(f"spark {problem}", param_hint="'--engine'")
    from engine.evidence.drift.spark import compute_drift_spark

    return compute_drift_spark(reference, current, options, master)
