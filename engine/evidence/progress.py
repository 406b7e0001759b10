"""A progress bar on stderr for long runs, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from typing import Any


def progress(total: int | None, desc: str, unit: str = "rows", position: int = 0) -> Any:
    """A tqdm bar (disabled, at no cost, when stderr is redirected or captured by tests);
    `position` is its line, for bars shown at the same time."""
    from tqdm import tqdm

    enabled = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False,
                disable=not enabled, file=sys.stderr, position=position)
