"""engine/util/table.py: the one terminal table of `benchmark` and `drift`."""

from __future__ import annotations

from engine.util.table import table_lines


def test_columns_are_as_wide_as_their_widest_cell() -> None:
    lines = table_lines(["name", "f1"], [["majority-baseline", "0.5000"], ["x", "-"]])
    assert lines == ["name               f1    ",
                     "majority-baseline  0.5000",
                     "x                  -     "]


def test_strip_drops_the_trailing_padding() -> None:
    lines = table_lines(["column", "drifted"], [["a", "DRIFT"], ["longer", "-"]], strip=True)
    assert lines == ["column  drifted", "a       DRIFT", "longer  -"]


def test_a_table_without_rows_is_its_header() -> None:
    assert table_lines(["a", "bb"], []) == ["a  bb"]
