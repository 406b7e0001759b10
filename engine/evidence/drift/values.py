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
        array = pc.fill_null(array, float("nan"))
    if len(array) == 0:
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array),
                         offset=array.offset * 8)


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
    import pyarrow as pa

    values = floats(array)
    finite = np.isfinite(values)
    if np.all(values[finite] == np.floor(values[finite])):
        return pa.array(np.where(finite, values, 0).astype(np.int64), mask=~finite)
    return pa.array(values, mask=~finite)


def count_keys(counter: Counter[Any], keys: Any) -> None:
    """Add the non-null values of a string array to `counter`."""
    import pyarrow.compute as pc

    counted = pc.value_counts(keys)
    for key, count in zip(counted.field("values").to_pylist(),
                          counted.field("counts").to_pylist(), strict=True):
        if key is not None:
            counter[key] += count
