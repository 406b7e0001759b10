"""Arrow arrays as numpy floats or string keys, and the rounding of every reported number."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def sig(value: float | None) -> float | None:
    """Six significant digits: stable output without flattening tiny p-values to zero."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def floats(array: Any) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_float64(array.type):
        array = pc.cast(array, pa.float64())
    return float64_view(array)


def float64_view(array: Any) -> np.ndarray:
    """A float64 Arrow array's values (missing as NaN), read-only, from its buffer: pyarrow's
    own to_numpy imports pandas (most of a second) to look for extension types."""
    import numpy as np
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, _scalar(np.float64("nan")))
    if len(array) == 0:
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array),
                         offset=array.offset * 8)


def int_codes(array: Any) -> np.ndarray:
    """A signed-integer Arrow array (dictionary indices) as numpy, missing as -1, from its
    buffer for the same reason as float64_view."""
    import numpy as np
    import pyarrow.compute as pc

    dtype = np.dtype(f"int{array.type.bit_width}")
    if array.null_count:
        array = pc.fill_null(array, _scalar(dtype.type(-1)))
    if len(array) == 0:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                         offset=array.offset * dtype.itemsize)


def arrow_array(values: np.ndarray, valid: np.ndarray | None = None) -> Any:
    """A numpy array of fixed-width numbers as an Arrow array sharing its buffer (missing where
    `valid` is False): pa.array, and pyarrow's conversion of numpy indices for `take`, import
    pandas."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    bitmap = None
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [bitmap, pa.py_buffer(values)])


def _scalar(value: Any) -> Any:
    """An Arrow scalar of a numpy scalar's type (pa.scalar imports pandas)."""
    import numpy as np

    return arrow_array(np.array([value]))[0]


def strings(array: Any) -> Any:
    """Category keys as strings; integral floats print without a decimal point."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        array = _numbers_as_keys(array)
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return array


def _numbers_as_keys(array: Any) -> Any:
    """Floats that are all whole numbers become integers, so 3.0 is the category "3"."""
    import numpy as np

    values = floats(array)
    finite = np.isfinite(values)
    if np.all(values[finite] == np.floor(values[finite])):
        return arrow_array(np.where(finite, values, 0).astype(np.int64), finite)
    return arrow_array(values, finite)


def count_keys(counter: Counter[Any], keys: Any) -> None:
    """Add the non-null values of a string array to `counter`."""
    import pyarrow.compute as pc

    counted = pc.value_counts(keys)
    for key, count in zip(counted.field("values").to_pylist(),
                          counted.field("counts").to_pylist(), strict=True):
        if key is not None:
            counter[key] += count
