"""What a drift run is asked for, as the CLI passes it."""

from __future__ import annotations

from dataclasses import dataclass

from engine.evidence.tables import DEFAULT_BATCH_ROWS


@dataclass
class Options:
    target: str | None = None
    prediction: str | None = None
    sensitive: tuple[str, ...] = ()
    positive_label: str | None = None
    multivariate: bool = True
    batch_rows: int = DEFAULT_BATCH_ROWS
