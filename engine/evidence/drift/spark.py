"""`mladvisor drift --engine spark`: the same `mladvisor.drift/1` document, summaries by Spark.

For data a machine cannot read in reasonable time (prediction logs in Parquet on object
storage, billions of rows): Spark computes per-column summaries that merge across partitions
(spark_passes.py) and the default engine's code finishes the job on the driver: each column's
kind, the test Evidently's preset would choose, the verdicts and the document. Where a figure
rests on an approximation the default engine does not make, or that a reader should know of,
the feature says so (`approximate`, `approximated`). Labels (performance, bias) stay with the
default engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.evidence.drift import spark_passes as jobs
from engine.evidence.drift.binning import GRID_STEP_STD, prepare_bins
from engine.evidence.drift.columns import Column, decide_kind
from engine.evidence.drift.labels import Labels
from engine.evidence.drift.options import Options
from engine.evidence.drift.samples import SAMPLE_ROWS, SEED, Samples
from engine.evidence.drift.spark_session import spark_session
from engine.evidence.drift.summary import summarise

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

ENGINE = "spark"
SAMPLE_OVERDRAW = 1.2            # Bernoulli sample this much larger than needed, then cut


def compute_drift_spark(reference: str, current: str, options: Options,
                        master: str | None = None) -> dict[str, Any]:
    """The `mladvisor.drift/1` document for two Parquet (or CSV) files or folders."""
    if options.target or options.prediction or options.sensitive:
        raise InputError(reference, "--target/--prediction/--sensitive", "expected none with "
                         "--engine spark (performance and bias run on the default engine)")
    spark = spark_session(master)
    ref_df, cur_df = _read(spark, reference), _read(spark, current)
    columns = plan_columns(ref_df, cur_df, reference, current)
    ref_distinct, deciles = jobs.moments(ref_df, columns, "ref", reference)
    cur_distinct, _ = jobs.moments(cur_df, columns, "cur", current)
    for file, which in ((reference, "ref"), (current, "cur")):
        if getattr(columns[0], which).rows == 0:
            raise InputError(file, "", "expected at least one data row", "no rows")
    jobs.value_counts(ref_df, columns, "ref", ref_distinct)
    jobs.value_counts(cur_df, columns, "cur", cur_distinct)
    csv = not _is_parquet(reference)
    samples = Samples(_sample(ref_df, columns[0].ref.rows, SEED),
                      _sample(cur_df, columns[0].cur.rows, SEED + 1), columns[0].cur.rows)
    jobs.prepare_grids(columns, {})
    for column in columns:
        decide_kind(column, csv=csv)
        if column.arrow_numeric:
            prepare_bins(column, samples.ref_table)   # the grid is kept; K-S values, if small
    jobs.prepare_grids(columns, deciles)              # PSI edges from the whole reference
    jobs.binned(ref_df, columns, "ref")
    jobs.binned(cur_df, columns, "cur")
    if columns[0].cur.rows > SAMPLE_ROWS:
        jobs.ks_counts(cur_df, columns)
    doc = summarise(columns, samples, Labels(options, current), options)
    annotate(doc, columns)
    return doc


def annotate(doc: dict[str, Any], columns: list[Column]) -> None:
    """Mark each feature whose figures are approximated, saying what and how closely."""
    by_name = {c.name: c for c in columns}
    doc["engine"] = ENGINE
    for feature in doc["features"]:
        column = by_name[feature["name"]]
        notes = []
        if feature["method"] == "wasserstein" and column.grid is not None:
            notes.append(f"wasserstein: values binned on a fixed grid of {column.grid[2]} bins "
                         f"of {GRID_STEP_STD} reference std; error under half a bin")
        if feature.get("psi") is not None and column.decile_edges is not None \
                and column.kind != "categorical":
            notes.append(f"psi: deciles by percentile_approx (rank error at most "
                         f"1/{jobs.QUANTILE_ACCURACY})")
        feature["approximate"] = bool(notes)
        if notes:
            feature["approximated"] = notes


def _is_parquet(path: str) -> bool:
    lowered = path.rstrip("/").lower()
    return not lowered.endswith((".csv", ".tsv", ".txt", ".csv.gz"))


def _read(spark: SparkSession, path: str) -> DataFrame:
    """Parquet (a file or a folder of files), or CSV with a header by its suffix."""
    try:
        if _is_parquet(path):
            return spark.read.parquet(path)
        return spark.read.csv(path, header=True, inferSchema=True,
                              sep="\t" if path.lower().endswith(".tsv") else ",")
    except Exception as error:  # noqa: BLE001 - Spark's own errors are many and long
        text = str(error).strip().splitlines()
        raise InputError(path, "", "expected a readable Parquet or CSV file or folder",
                         text[0] if text else type(error).__name__) from None


def plan_columns(ref_df: DataFrame, cur_df: DataFrame, reference: str,
                 current: str) -> list[Column]:
    """The columns both sides share, numbers or text (dates, bytes and nested values are not
    distributions we test), as the default engine plans them."""
    from pyspark.sql import types as T

    ref_types = {f.name: f.dataType for f in ref_df.schema.fields}
    cur_types = {f.name: f.dataType for f in cur_df.schema.fields}
    if set(ref_types) != set(cur_types):
        missing = sorted(set(ref_types) - set(cur_types))[:5]
        extra = sorted(set(cur_types) - set(ref_types))[:5]
        raise InputError(current, "columns", f"expected the same columns as {reference}",
                         f"missing {', '.join(missing)}; extra {', '.join(extra)}")
    columns = []
    for name, ref_type in ref_types.items():
        kinds = [_kind(t, T) for t in (ref_type, cur_types[name])]
        if None in kinds:
            continue
        if kinds[0] != kinds[1]:
            raise InputError(current, f"column {name}", f"expected {kinds[0]} as in {reference}",
                             cur_types[name].simpleString())
        numeric = kinds[0] == "numbers"
        columns.append(Column(name, numeric, numeric and isinstance(ref_type, T.IntegralType)))
    if not columns:
        raise InputError(reference, "columns", "expected at least one column to compare", "none")
    return columns


def _kind(data_type: Any, T: Any) -> str | None:
    if isinstance(data_type, T.NumericType):
        return "numbers"
    if isinstance(data_type, (T.StringType, T.BooleanType)):
        return "categories"
    return None


def _sample(df: DataFrame, rows: int, seed: int) -> pa.Table:
    """About SAMPLE_ROWS random rows (all when there are fewer), in random order so that any
    prefix is a uniform sample too (the domain classifier takes one)."""
    import numpy as np

    if rows > SAMPLE_ROWS:
        df = df.sample(False, min(1.0, SAMPLE_OVERDRAW * SAMPLE_ROWS / rows), seed)
    table = df.toArrow()
    order = np.random.default_rng(seed).permutation(table.num_rows)[:SAMPLE_ROWS]
    return table.take(order)
