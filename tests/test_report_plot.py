"""The hand-drawn SVG charts: round ticks that cover the data and do not collide, plain log
labels, escaped text, valid XML, the same bytes every time, and no matplotlib on the way."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.report.plot import Line, Panel, chart, linear_axis, log_axis, text_width

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


def _spacing_fits(panel: Panel, length: float) -> bool:
    """Neighbouring tick labels leave a gap between them."""
    xs = [panel.at(v, 0, length) for v, _ in panel.ticks]
    widths = [text_width(label) for _, label in panel.ticks]
    return all(b - a > (wa + wb) / 2 for a, b, wa, wb in
               zip(xs, xs[1:], widths, widths[1:], strict=False))


def test_linear_ticks_are_round_cover_the_data_and_fit() -> None:
    panel = Panel(bars=[(0.58, "red"), (0.9, "green")], lines=[Line(0.85)])
    linear_axis(panel, 120)
    assert panel.lo == 0 and 0.9 < panel.hi <= 0.9 * 1.05 + 1e-9
    assert [label for _, label in panel.ticks] == ["0.00", "0.25", "0.50", "0.75"]
    wide = Panel(bars=[(20000.0, "red")])
    linear_axis(wide, 390)
    assert wide.ticks[0] == (0, "0") and wide.ticks[-1][1] == "20000"
    assert _spacing_fits(wide, 390)
    narrow = Panel(bars=[(123456789.0, "red")])
    linear_axis(narrow, 100)
    assert len(narrow.ticks) >= 2 and _spacing_fits(narrow, 100)


def test_negative_values_get_a_minus_sign_and_room_left_of_zero() -> None:
    panel = Panel(bars=[(-0.4, "red"), (0.2, "green")])
    linear_axis(panel, 300)
    assert panel.lo < -0.4 and panel.hi > 0.2
    labels = [label for _, label in panel.ticks]
    assert "\u22120.4" in labels and "0.0" in labels and "-0.0" not in labels


def test_log_ticks_are_plain_decades_thinned_to_fit() -> None:
    panel = Panel(ranges=[(168.0, 840.0, "green"), (90.0, 860.0, "green")],
                  lines=[Line(20000.0), Line(250000.0)], log=True)
    log_axis(panel, 390)
    assert [label for _, label in panel.ticks] == ["100", "1,000", "10,000", "100,000"]
    assert all(10 ** panel.lo < m < 10 ** panel.hi for m in panel.minor)
    cheap = Panel(ranges=[(0.01, 1e9, "green")], log=True)
    log_axis(cheap, 150)
    assert cheap.ticks[0][1] == "0.01" and _spacing_fits(cheap, 150)


def test_chart_is_valid_escaped_svg_with_one_bar_per_value() -> None:
    labels = ["<script>alert(1)</script>", "a & b", "ctrl\x01char", "顧客"]
    drawing = chart(labels, [Panel(bars=[(1.0, "red"), (2.0, "green"), (None, "grey"),
                                         (3.0, "green")], lines=[Line(2.5, dashed=True)])])
    svg = drawing.svg()
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert labels[0] in texts and "a & b" in texts and "ctrlchar" in texts and "顧客" in texts
    assert "no data" in texts
    assert len(list(root.iter(f"{SVG}rect"))) == 3
    assert "<script" not in svg and "stroke-dasharray" in svg
    assert svg == chart(labels, [Panel(bars=[(1.0, "red"), (2.0, "green"), (None, "grey"),
                                             (3.0, "green")],
                                       lines=[Line(2.5, dashed=True)])]).svg()
    shapes = ET.fromstring(drawing.shapes_svg())  # the PDF's picture: the same, without text
    assert not list(shapes.iter(f"{SVG}text"))
    assert len(list(shapes.iter())) + len(texts) == len(list(root.iter()))
    assert [label.text for label in drawing.labels] == texts


def test_long_labels_widen_the_left_margin() -> None:
    short = ET.fromstring(chart(["a"], [Panel(bars=[(1.0, "red")])]).svg())
    long = ET.fromstring(chart(["a" * 40], [Panel(bars=[(1.0, "red")])]).svg())

    def bar_x(root: ET.Element) -> float:
        return float(next(root.iter(f"{SVG}rect")).get("x", "0"))

    assert bar_x(long) - bar_x(short) == pytest.approx(text_width("a" * 39), rel=0.01)


def test_building_the_charts_never_imports_matplotlib() -> None:
    code = ("import json, sys; from engine.model.decision import load_decision; "
            "from engine.report.charts import build_charts; "
            "d = load_decision('d', json.load(open(sys.argv[1])), partial=True); "
            "charts = build_charts(d); "
            "print(json.dumps([len(charts), 'matplotlib' in sys.modules]))")
    sample = ROOT / "tests" / "fixtures" / "report" / "decision-sample.json"
    out = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == [3, False]


def test_labels_over_the_pdf_picture_sit_where_the_svg_puts_them() -> None:
    drawing = chart(["row one", "row two"], [Panel(bars=[(1.0, "red"), (2.0, "green")],
                                                   title=["A metric with a long long name"],
                                                   xlabel="axis")])
    styles = {label.text: label.style() for label in drawing.labels}
    row = next(label for label in drawing.labels if label.text == "row one")
    right, width, top = re.fullmatch(r"right:([\d.]+)pt;width:([\d.]+)pt;text-align:right;"
                                     r"top:([\d.]+)pt", styles["row one"]).groups()
    assert float(right) == pytest.approx(504 - row.x, abs=0.01)
    assert float(width) > text_width("row one")  # a width: no shrink-to-fit layout
    assert float(top) == pytest.approx(row.y - 0.85 * 9, abs=0.01)
    assert "text-align:center" in styles["axis"] and styles["axis"].startswith("left:")
    assert styles["A metric with a long long name"].startswith("left:")


def test_many_rows_stay_within_the_page_and_titles_within_their_panel() -> None:
    many = chart([f"candidate {i}" for i in range(24)], [Panel(bars=[(1.0, "red")] * 24)])
    assert many.height <= 590
    narrow = chart(["a"], [Panel(bars=[(1.0, "red")], title=["x" * 60]) for _ in range(3)])
    titles = [label.text for label in narrow.labels if label.text.startswith("x")]
    assert len(titles) == 3 and all(t.endswith("…") and text_width(t, 8) < 170 for t in titles)
