"""Reading CSV or Parquet whole or in chunks, with input errors a person can act on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.util import limits

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}
# Rows per chunk when streaming: small enough to bound memory, large enough to amortise numpy calls.
DEFAULT_BATCH_ROWS = 131_072
# Bytes per CSV block; pyarrow infers column types from the first block.
CSV_BLOCK_BYTES = 16 << 20
# Files larger than this on disk are sampled in a stream instead of read whole.
WHOLE_READ_BYTES = 256 << 20
# glibc mallopt parameters (malloc.h) and the values a streaming pass uses.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD_BYTES = 64 << 20
MMAP_THRESHOLD_BYTES = 16 << 20


def is_parquet(path: Path) -> bool:
    """Parquet by suffix, or by its magic bytes when the suffix says nothing."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    if path.suffix.lower() in {".csv", ".tsv", ".txt", ".gz"}:
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def _check_exists(path: Path) -> None:
    """A regular file (a FIFO would hang, a device never end) with unique column names."""
    if not path.exists():
        raise InputError(str(path), "", "expected a readable CSV or Parquet file", "no such file")
    if not path.is_file():
        raise InputError(str(path), "", "expected a CSV or Parquet file (a regular file), got "
                         "a directory, device, pipe or socket")
    _check_columns(path, _column_names(path))


def _column_names(path: Path) -> list[str]:
    """The header's names as written (pandas would rename a duplicate to `name.1`)."""
    import csv
    import gzip
    import io

    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as handle:
            head = handle.readline(limits.MAX_HEADER_BYTES + 1)
    except Exception:  # noqa: BLE001 - the reader proper reports an unreadable file
        return []
    if len(head) > limits.MAX_HEADER_BYTES:
        raise InputError(str(path), "header", f"expected a header line of at most "
                         f"{limits.MAX_HEADER_BYTES // 1024} KiB (the input limit)")
    text = head.decode("utf-8-sig", errors="replace")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _check_columns(path: Path, names: list[str]) -> None:
    if len(names) > limits.MAX_DATA_COLUMNS:
        raise InputError(str(path), "header", f"expected at most {limits.MAX_DATA_COLUMNS} "
                         "columns (the input limit)", f"{len(names)} columns")
    first: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in first:
            raise InputError(str(path), name, f"duplicate column (columns {first[name]} and "
                             f"{position}): each column may appear once")
        first[name] = position


def check_values(file: str, column: str, values: Any, first_row: int) -> None:
    """Infinite values, and values too large for the statistics downstream, are refused
    naming column and row (1 = the first data row); NaN stays a missing value."""
    import numpy as np

    array = np.asarray(values, dtype="float64")
    if len(array) == 0:
        return
    # The range first, ignoring NaN, in two passes without temporaries: most data passes.
    fmin: Any = np.fmin
    fmax: Any = np.fmax
    low, high = float(fmin.reduce(array)), float(fmax.reduce(array))
    if -limits.MAX_DATA_VALUE <= low <= high <= limits.MAX_DATA_VALUE:
        return
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.isinf(array) | (np.abs(array) > limits.MAX_DATA_VALUE))
    if len(bad):
        value = float(array[bad[0]])
        expected = ("expected a finite number" if math.isinf(value) else
                    f"expected a value of at most {limits.MAX_DATA_VALUE:g} in size (the input "
                    "limit; larger values overflow the statistics)")
        raise InputError(file, f"column {column}, row {first_row + int(bad[0])}", expected,
                         repr(value))


def _check_frame(path: Path, frame: pd.DataFrame) -> None:
    """Every float column of a frame read whole (rows numbered as in the file)."""
    for name in frame.columns:
        if frame[name].dtype.kind == "f":
            check_values(str(path), str(name), frame[name].to_numpy(), 1)


def _check_batch(path: Path, batch: pa.RecordBatch, first_row: int) -> None:
    """Every floating-point column of a record batch read in file order."""
    import pyarrow as pa

    from engine.evidence.drift.values import floats

    for field, array in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_floating(field.type):
            check_values(str(path), field.name, floats(array), first_row)


def read_frame(path: Path, max_rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The file as a DataFrame (benchmarks train in memory).

    A file that is large on disk (or a Parquet file with more than `max_rows` rows) is streamed
    and a uniform random sample of `max_rows` rows kept, so a file larger than memory can still
    be benchmarked; a smaller file is read whole by pandas.
    """
    import pandas as pd

    _check_exists(path)
    if max_rows is not None and _too_big(path, max_rows):
        source = TableSource(path)
        sample = Reservoir(max_rows, seed)
        for batch in source.batches():
            sample.add(batch)
        return sample.table(source.schema).to_pandas()
    try:
        if is_parquet(path):
            frame = pd.read_parquet(path)
        else:
            frame = _read_csv_strictly(path)
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure is unreadable input
        raise InputError(str(path), "", "expected a readable CSV or Parquet file",
                         _first_line(error)) from None
    _check_frame(path, frame)
    return frame


def _read_csv_strictly(path: Path) -> pd.DataFrame:
    """pandas makes the first column an index when every row has one value more than the
    header, shifting every column under the wrong name; refuse such a file instead."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",",
                               index_col=False)
        except pd.errors.ParserWarning:
            raise InputError(str(path), "", "expected rows with as many values as the header has "
                             "columns", "rows with more values than the header") from None


def _too_big(path: Path, max_rows: int) -> bool:
    if path.stat().st_size > WHOLE_READ_BYTES:
        return True
    if is_parquet(path):
        try:
            import pyarrow.parquet as pq

            return bool(pq.ParquetFile(path).metadata.num_rows > max_rows)
        except Exception:  # noqa: BLE001 - the whole read below reports it
            return False
    return False


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def tune_memory_for_streaming() -> None:
    """Allocator settings for a command that streams large files once in a fresh process.

    Arrow's allocations from jemalloc: its default, mimalloc, spends about a fifth more CPU time
    here (most of it in the kernel, on fresh pages) and peaks higher. Arrow reads the choice
    when pyarrow loads, so that part does nothing once it has (nor against the user's own
    ARROW_DEFAULT_MEMORY_POOL); pyarrow's Linux and macOS wheels have jemalloc.

    glibc's malloc then keeps up to TRIM_THRESHOLD_BYTES free at the top of its heap and serves
    blocks under MMAP_THRESHOLD_BYTES from it. By default it hands the top back to the kernel
    once a few MB are free there, so numpy's temporaries of a record batch's column (1 MB at
    131,072 rows) fault in fresh zeroed pages thousands of times over a pass: a third of the
    run's kernel time (bench/bench_drift.py), for a few MB more at the peak. The environment
    variable is inherited by child processes, the malloc settings are not.
    """
    import os
    import sys

    if "pyarrow" not in sys.modules and sys.platform in ("linux", "darwin"):
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    if sys.platform == "linux":
        import ctypes

        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (AttributeError, OSError):   # not glibc (or no symbol): nothing to tune
            return
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


class TableSource:
    """A file read as a sequence of Arrow record batches, never whole.

    CSV column types are inferred from the first block (see `_inspect`).
    """

    def __init__(self, path: Path, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        _check_exists(path)
        self.path = path
        self.batch_rows = batch_rows
        self.parquet = is_parquet(path)
        self.original_types: dict[str, pa.DataType] = {}
        try:
            self.schema, self.num_rows = self._inspect()
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001
            raise InputError(str(path), "", "expected a readable CSV or Parquet file",
                             _first_line(error)) from None

    def _inspect(self) -> tuple[pa.Schema, int | None]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.parquet:
            meta = pq.ParquetFile(self.path)
            self.original_types = {f.name: f.type for f in meta.schema_arrow}
            return meta.schema_arrow, meta.metadata.num_rows
        reader = self._open_csv(None)
        schema = reader.schema
        reader.close()
        self.original_types = {f.name: f.type for f in schema}
        # Integers widen to float64 and all-blank columns to strings, so that a later block
        # with a decimal point, a blank or a first value does not break the stream.
        fields = [pa.field(f.name, pa.float64()) if pa.types.is_integer(f.type)
                  else pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                  for f in schema]
        return pa.schema(fields), None

    def _open_csv(self, schema: pa.Schema | None, columns: list[str] | None = None) -> Any:
        import pyarrow.csv as pcsv

        read = pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
        parse = pcsv.ParseOptions(delimiter="\t" if self.path.suffix.lower() == ".tsv" else ",")
        convert = pcsv.ConvertOptions(
            column_types={f.name: f.type for f in schema} if schema is not None else None,
            strings_can_be_null=True,
            include_columns=columns,
        )
        return pcsv.open_csv(self.path, read_options=read, parse_options=parse,
                             convert_options=convert)

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Record batches of at most `batch_rows` rows, of all columns or only `columns`.

        Parquet string columns arrive dictionary-encoded (as stored), which is cheaper to read
        and to count than plain strings.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            row = 1
            if self.parquet:
                strings = [f.name for f in self.schema
                           if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
                handle = pq.ParquetFile(self.path, read_dictionary=strings, pre_buffer=False)
                # Threads decode the columns of a batch in parallel: a pass reads about four
                # times faster on two cores, at the cost of one batch's buffers per thread.
                for part in handle.iter_batches(batch_size=self.batch_rows, columns=columns,
                                                use_threads=True):
                    _check_batch(self.path, part, row)
                    row += part.num_rows
                    yield part
                return
            reader = self._open_csv(self.schema, columns)
            for batch in reader:
                _check_batch(self.path, batch, row)
                row += batch.num_rows
                for start in range(0, batch.num_rows, self.batch_rows):
                    yield batch.slice(start, self.batch_rows)
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001 - a bad block half-way is unreadable input
            raise InputError(str(self.path), "", "expected consistent CSV or Parquet rows",
                             _first_line(error)) from None


class Reservoir:
    """A uniform random sample of k rows of a stream (bottom-k by random priority)."""

    def __init__(self, k: int, seed: int) -> None:
        import numpy as np

        self.k = k
        self.rng = np.random.default_rng(seed)
        self.parts: list[pa.RecordBatch] = []
        self.priorities: list[np.ndarray] = []
        self.size = 0
        self.threshold = math.inf

    def add(self, batch: pa.RecordBatch) -> None:
        import numpy as np

        from engine.evidence.drift.values import arrow_array

        priority = self.rng.random(batch.num_rows)
        keep = np.flatnonzero(priority < self.threshold)
        if len(keep) > self.k:
            # Only a batch's own k smallest can be among the k smallest of the stream: taking
            # (and decoding) more rows than that would be thrown away at the next compaction.
            cut = np.partition(priority[keep], self.k - 1)[self.k - 1]
            keep = keep[priority[keep] <= cut]
        if len(keep) == 0:
            return
        whole = len(keep) == batch.num_rows
        self.parts.append(_dense(batch if whole else batch.take(arrow_array(keep))))
        self.priorities.append(priority[keep])
        self.size += len(keep)
        if self.size > 2 * self.k:
            self._compact()

    def _compact(self) -> None:
        import numpy as np
        import pyarrow as pa

        from engine.evidence.drift.values import arrow_array

        if not self.parts:
            return
        table = pa.Table.from_batches(self.parts)
        priority = np.concatenate(self.priorities)
        order = np.argsort(priority, kind="stable")[: self.k]
        if len(order) == self.k:
            self.threshold = float(priority[order[-1]])
        table = table.take(arrow_array(order)).combine_chunks()
        self.parts = table.to_batches() or []
        self.priorities = [priority[order]]
        self.size = len(order)

    def table(self, schema: pa.Schema) -> pa.Table:
        """The sample in priority order: any prefix is itself a uniform sample."""
        import pyarrow as pa

        self._compact()
        if not self.parts:
            return schema.empty_table()
        return pa.Table.from_batches(self.parts)


class PositionSample:
    """A uniform random sample of k rows of a stream whose length is known (Parquet): the
    positions are drawn first, so each batch gives exactly its rows in the sample, where a
    Reservoir takes and later drops several times k."""

    def __init__(self, k: int, seed: int, num_rows: int) -> None:
        import numpy as np

        rng = np.random.default_rng(seed)
        self.order = rng.choice(num_rows, size=min(k, num_rows), replace=False)
        self.positions = np.sort(self.order)
        self.parts: list[pa.RecordBatch] = []
        self.start = 0

    def add(self, batch: pa.RecordBatch) -> None:
        import numpy as np

        from engine.evidence.drift.values import arrow_array

        end = self.start + batch.num_rows
        low, high = np.searchsorted(self.positions, [self.start, end])
        if high > low:
            rows = self.positions[low:high] - self.start
            self.parts.append(_dense(batch.take(arrow_array(rows))))
        self.start = end

    def table(self, schema: pa.Schema) -> pa.Table:
        """The sample in the random order drawn: any prefix is itself a uniform sample."""
        import numpy as np
        import pyarrow as pa

        from engine.evidence.drift.values import arrow_array

        if not self.parts:
            return schema.empty_table()
        table = pa.Table.from_batches(self.parts)
        if table.num_rows != len(self.positions):   # the file was shorter than it said
            return table
        return table.take(arrow_array(np.searchsorted(self.positions, self.order)))


def row_sample(k: int, seed: int, num_rows: int | None) -> Reservoir | PositionSample:
    """A sample of k rows: by positions drawn in advance when the row count is known."""
    if num_rows is None:
        return Reservoir(k, seed)
    return PositionSample(k, seed, num_rows)


def _dense(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Dictionary columns decoded, so that samples from different row groups concatenate."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(f.type) for f in batch.schema):
        return batch
    arrays = [a.dictionary_decode() if pa.types.is_dictionary(a.type) else a
              for a in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
