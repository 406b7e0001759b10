"""The random rows kept from each side, for the tests that need values rather than counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SAMPLE_ROWS = 20_000             # random reference/current rows kept (bottom-k sampling)
SEED = 0


@dataclass(frozen=True)
class Samples:
    """Both sides' samples; `cur_rows` says whether the current one is the whole file."""

    ref_table: pa.Table
    cur_table: pa.Table
    cur_rows: int
