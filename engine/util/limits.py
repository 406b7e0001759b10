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
# YAML aliases (*name) are refused outright, not counted: answers and saved decisions never
# need them, and each alias can multiply the document ("billion laughs"). Tags other than the
# JSON types (!!binary, !!set, !!timestamp, ...) are refused; dates stay text.

# --- Answers (mladvisor.answers/1) ---------------------------------------------------------
# Money per month in US dollars (value, budget). Anything past ~1e12 is not real, but the
# engine handles large numbers and its robustness tests assess up to 1e20 as users reported
# them; the cap keeps out the absurd (1e300) while leaving those alone.
MAX_USD_PER_MONTH = 1e21
# Labelled examples and requests per month: beyond a trillion is not a real count.
MAX_COUNT = 10**12
# Classes (labels) of a classification or detection task: ImageNet-21k has about 21,000;
# past this no per-class count can be real.
MAX_CLASSES = 100_000
# Required p95 latency: one day, in milliseconds.
MAX_LATENCY_MS = 86_400_000.0
# A success criterion's threshold, in either direction.
MAX_ABS_THRESHOLD = 1e12

# --- Evidence --------------------------------------------------------------------------------
# Benchmark rows: one per candidate solution tried; a real benchmark lists tens. Measured
# here: 1,000 rows assess in 1.3 s, 3,000 in 6.9 s, 13,000 in minutes.
MAX_BENCHMARK_ROWS = 1_000
# Columns of a benchmark file (candidate, rung, service and the measured metrics).
MAX_BENCHMARK_COLUMNS = 100
# Features in a drift summary (one per column compared) and bias checks in it. Measured
# here: `assess examples/fraud-deployed.yaml --drift F` at both limits takes 1.2 s against
# 1.1 s with the example summary (the HTML report of it takes far longer: 10-30 s).
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
# Rows counted in a drift summary (reference_rows, current_rows, ...).
MAX_ROWS = 10**12

# --- Data files (CSV / Parquet read by `mladvisor benchmark` and `mladvisor drift`) ----------
# No byte or row limit: they are streamed and sampled. Columns and the header line are capped.
# Any number in them: no real measurement is this large; scikit-learn's float32 ends at
# 3.4e38 and squares of larger values soon overflow float64 (inf is refused too).
MAX_DATA_VALUE = 1e30
# Columns: as many as a drift summary may hold features, so that what `mladvisor drift`
# writes `assess --drift` can always read.
MAX_DATA_COLUMNS = MAX_DRIFT_FEATURES
# The header line, read before anything else to find duplicate column names.
MAX_HEADER_BYTES = 1 << 20
