"""Aligned plain-text tables for the terminal, written once.

Columns are left-aligned and separated by two spaces, each as wide as its widest cell. The
caller formats every cell as text first (numbers included), so that alignment never depends on
how a value would print.
"""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]], *,
                strip: bool = False) -> list[str]:
    """The header line, then one line per row. `strip` drops the padding at each line's end
    (the last column's), which a diff or a terminal copy would otherwise keep."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    out = []
    for cells in (header, *rows):
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        out.append(line.rstrip() if strip else line)
    return out
