"""Every limit on what a user's input may hold, in one place.

A limit exists so that no input can crash the process or cost minutes and gigabytes; each is
far above what a real file needs, and the message that enforces it names it. README's
"Limits" section lists these values: change both together.
"""

from __future__ import annotations

# --- Files -------------------------------------------------------------------------------
# Bytes of an answers file, saved decision, drift summary, benchmark file or checkpoint.
# Real ones are kilobytes (a decision with a full trace is ~20 KB); reading stops one byte
# past this, so /dev/zero-like or huge files cost no memory.
MAX_DOCUMENT_BYTES = 8 << 20
# YAML is composed in Python (0.5-2 MB/s measured here): a smaller cap keeps a parse within
# a few seconds. A larger document can be given as JSON, which is parsed in C.
MAX_YAML_BYTES = 1 << 20

# --- Structure of YAML / JSON documents ----------------------------------------------------
# Nesting depth of mappings and lists. The deepest real document (a decision's trace) is
# under 10 levels; Python's parsers recurse and die near 1,000.
MAX_DEPTH = 64
# Integers must survive JSON round trips and canonical JSON (RFC 8785), which allow only
# what an IEEE double holds exactly.
MAX_SAFE_INTEGER = 2**53
# Digits of a number literal: a longer one is refused before Python converts it (converting
# a 100,000-digit integer costs seconds and is refused by Python past 4,300 digits).
MAX_NUMBER_DIGITS = 40
# YAML aliases (*name) are refused outright: answers and saved decisions never need them,
# and each alias can multiply the document ("billion laughs").
ALLOW_YAML_ALIASES = False

# --- Answers (mladvisor.answers/1) ---------------------------------------------------------
# Money per month in US dollars (value, budget): more than any company's annual revenue.
MAX_USD_PER_MONTH = 1e12
# Labelled examples and requests per month: beyond a trillion is not a real count.
MAX_COUNT = 10**12
# Required p95 latency: one day, in milliseconds.
MAX_LATENCY_MS = 86_400_000.0
# A success criterion's threshold, in either direction.
MAX_ABS_THRESHOLD = 1e12

# --- Evidence --------------------------------------------------------------------------------
# Benchmark rows: one per candidate solution tried; a real benchmark lists tens.
MAX_BENCHMARK_ROWS = 1_000
# Columns of a benchmark file (candidate, rung, service and the measured metrics).
MAX_BENCHMARK_COLUMNS = 100
# Features in a drift summary (one per column compared) and bias checks in it; each becomes
# facts for the engine, so an assessment at these limits stays within a few seconds.
MAX_DRIFT_FEATURES = 1_000
MAX_BIAS_CHECKS = 200
# Groups per bias check, and entries of the drift summary's thresholds map.
MAX_GROUPS = 1_000
MAX_THRESHOLDS = 100
# Names and free text inside evidence (column names, method names, metric names).
MAX_NAME_CHARS = 1_000
# A value in a benchmark row or a drift summary (metrics, statistics). Larger than any real
# measurement; kept loose because a benchmark's r2 on wild data can be hugely negative.
MAX_ABS_MEASURE = 1e100

# --- Data files (CSV / Parquet read by `mladvisor benchmark` and `mladvisor drift`) ----------
# No byte or row limit: they are streamed and sampled. Columns and the header line are capped.
# Any number in them: no real measurement is this large; scikit-learn's float32 ends at
# 3.4e38 and squares of larger values soon overflow float64 (inf is refused too).
MAX_DATA_VALUE = 1e30
MAX_DATA_COLUMNS = 10_000
MAX_HEADER_BYTES = 1 << 20
# Rows counted in a drift summary (reference_rows, current_rows, ...).
MAX_ROWS = 10**12
