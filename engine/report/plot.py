"""Horizontal bar and range charts written directly as small SVG documents.

The report's charts are rows of bars or ranges against one x axis, with threshold lines: this
draws them without matplotlib, whose import and font setup took about a second of a cold PDF
render and whose SVG held several times the elements for WeasyPrint to paint. The output is
deterministic by construction (no ids, dates or hashes) and its text stays <text>, drawn by
the page's own fonts. One unit is one point: the charts are 504 units wide, the width of the
PDF's text column, so 9-unit labels print at 9 pt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from unicodedata import east_asian_width

WIDTH = 504.0       # A4's 210 mm less the report's 16 mm side margins, in points
FONT = 9.0          # tick, row and title labels
SMALL = 7.5         # legend and "no data"
TITLE = 8.0         # a panel's title, beside its neighbours
ROW = 24.0          # height of one bar's row
BAR = 0.62          # a bar's share of its row
TICK = 3.5          # tick length, and the gap between a tick and its label
MAX_HEIGHT = 590.0  # 21 cm less a little: a chart never needs a page of its own
INK = "#1f2933"
GRID = "#d9dee3"
SPINE = "#9aa5b1"
NEUTRAL = "#546e7a"
FAMILY = "DejaVu Sans, sans-serif"

# DejaVu Sans advance widths of ' ' to '~' in thousandths of an em: enough to leave room for
# labels (the renderer measures and draws the real text; anchors keep it aligned).
_ASCII = (
    "318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 "
    "636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 656 "
    "557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 613 "
    "635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 "
    "592 592 525 636 337 636 838")
_WIDTHS = {chr(32 + i): int(w) / 1000 for i, w in enumerate(_ASCII.split())}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of `text` in points: DejaVu Sans for ASCII, an em for East Asian wide
    characters, and a generous 0.7 em for anything else."""
    return size * sum(_WIDTHS.get(ch) or (1.0 if east_asian_width(ch) in "WF" else 0.7)
                      for ch in text)


def _text(value: str) -> str:
    """Text content safe in XML: escaped (labels were already cleaned of characters XML
    cannot hold)."""
    return escape(value, quote=True)


def _n(value: float) -> str:
    """A coordinate with two decimals at most, no trailing zeros (stable, short output)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass
class Line:
    """A vertical line across the plot (a threshold, a budget), optionally in the legend."""

    x: float
    colour: str = INK
    width: float = 1.1
    dashed: bool = False
    label: str = ""


@dataclass
class Panel:
    """One plot: per row a bar (value, colour; None draws "no data") or a range (low, high,
    colour), vertical lines, a title above and an axis label below."""

    bars: Sequence[tuple[float | None, str]] = ()
    ranges: Sequence[tuple[float, float, str]] = ()
    lines: Sequence[Line] = ()
    title: Sequence[str] = ()
    xlabel: str = ""
    log: bool = False
    ticks: list[tuple[float, str]] = field(default_factory=list)
    minor: list[float] = field(default_factory=list)
    lo: float = 0.0
    hi: float = 1.0

    def values(self) -> list[float]:
        found = [v for v, _ in self.bars if v is not None]
        found += [x for low, high, _ in self.ranges for x in (low, high)]
        return found + [line.x for line in self.lines]

    def at(self, value: float, left: float, width: float) -> float:
        """The x coordinate of `value` in a plot starting at `left`, `width` wide."""
        if self.log:
            share = (math.log10(value) - self.lo) / (self.hi - self.lo)
        else:
            share = (value - self.lo) / (self.hi - self.lo)
        return left + share * width


def _decimals(step: float) -> int:
    for places in range(10):
        if abs(round(step, places) - step) <= 1e-9 * step:
            return places
    return 10


def _number(value: float, places: int) -> str:
    """A tick label: fixed decimals (0.00, 0.25, ...), a minus sign, never "-0"."""
    text = f"{value:.{places}f}"
    if text.strip("-0.") == "":
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def linear_axis(panel: Panel, length: float) -> None:
    """Limits from zero (bars grow from it) to the data plus 5%, and round ticks (steps of
    1, 2, 2.5 or 5 times a power of ten) as many as fit without their labels touching."""
    values = panel.values() or [0.0]
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = hi - lo or 1.0
    if hi == lo:
        hi = lo + 1.0
    hi = hi + 0.05 * span if hi > 0 else hi
    lo = lo - 0.05 * span if lo < 0 else lo
    panel.lo, panel.hi = lo, hi
    for bins in range(max(1, min(9, int(length // (FONT * 3)))), 0, -1):
        raw = (hi - lo) / bins
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw * 0.999)
        places = _decimals(step)
        first = math.ceil(lo / step - 1e-9)
        ticks = [(k * step, _number(k * step, places))
                 for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
        spacing = length * step / (hi - lo)
        if max(text_width(label) for _, label in ticks) + 4 < spacing or bins == 1:
            panel.ticks = ticks
            return


def log_axis(panel: Panel, length: float) -> None:
    """Decades of a base-10 axis, padded by 5% each side, labelled in plain figures (every
    n-th decade when all would not fit), with unlabelled minor ticks."""
    logs = [math.log10(v) for v in panel.values() if v > 0] or [0.0]
    lo, hi = min(logs), max(logs)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if math.floor(hi) - math.ceil(lo) < 1:  # at least two labelled decades
        lo, hi = math.floor(lo), max(math.ceil(hi), math.floor(lo) + 1)
    panel.lo, panel.hi = lo, hi
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    widest = max(text_width(_plain(10.0 ** d)) for d in decades)
    stride = max(1, math.ceil((widest + 4) * (hi - lo) / length))
    panel.ticks = [(10.0 ** d, _plain(10.0 ** d)) for d in decades[::stride]]
    panel.minor = [k * 10.0 ** d for d in range(math.floor(lo), math.ceil(hi))
                   for k in range(2, 10) if lo <= d + math.log10(k) <= hi]


def _plain(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


@dataclass
class Label:
    """A text of the chart: `y` is its baseline, `anchor` the SVG text-anchor."""

    x: float
    y: float
    text: str
    anchor: str = "start"
    size: float = FONT
    colour: str = ""

    def svg(self) -> str:
        attributes = f'x="{_n(self.x)}" y="{_n(self.y)}"'
        if self.anchor != "start":
            attributes += f' text-anchor="{self.anchor}"'
        if self.size != FONT:
            attributes += f' font-size="{_n(self.size)}"'
        if self.colour:
            attributes += f' fill="{self.colour}"'
        return f"<text {attributes}>{_text(self.text)}</text>"

    def style(self) -> str:
        """CSS placing the same text over the chart's picture, in points from its top left
        (line-height 1: DejaVu's baseline sits 0.85 em below the line's top). Every label
        gets a width, ample for its text (which never wraps), aligned to its anchor: without
        one, WeasyPrint lays each label out twice more to find its shrink-to-fit width."""
        top = f"top:{_n(self.y - 0.85 * self.size)}pt"
        room = text_width(self.text, self.size) * 1.5 + 20
        if self.anchor == "end":
            place = f"right:{_n(WIDTH - self.x)}pt;width:{_n(room)}pt;text-align:right"
        elif self.anchor == "middle":
            place = f"left:{_n(self.x - room / 2)}pt;width:{_n(room)}pt;text-align:center"
        else:
            place = f"left:{_n(self.x)}pt;width:{_n(room)}pt"
        extra = (f";font-size:{_n(self.size)}pt" if self.size != FONT else "") + (
            f";color:{self.colour}" if self.colour else "")
        return f"{place};{top}{extra}"


@dataclass
class Drawing:
    """A chart: the whole SVG (for a browser), or its shapes alone and its labels (for the
    PDF, where WeasyPrint lays SVG text out letter by letter, kerning lost, at many times the
    cost of the same text in HTML)."""

    height: float
    shapes: list[str]
    labels: list[Label]
    order: list[int]  # where each label goes among the shapes, for the whole SVG

    def _svg(self, parts: list[str]) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
                f'width="{_n(WIDTH)}pt" height="{_n(self.height)}pt" '
                f'viewBox="0 0 {_n(WIDTH)} {_n(self.height)}">'
                f'<g font-family="{FAMILY}" font-size="{_n(FONT)}" fill="{INK}">'
                + "".join(parts) + "</g></svg>")

    def svg(self) -> str:
        parts, pending = [], list(zip(self.order, self.labels, strict=True))
        for index, shape in enumerate([*self.shapes, ""]):
            while pending and pending[0][0] == index:
                parts.append(pending.pop(0)[1].svg())
            parts.append(shape)
        return self._svg(parts)

    def shapes_svg(self) -> str:
        return self._svg(self.shapes)


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.labels: list[Label] = []
        self.order: list[int] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x: float, y: float, value: str, anchor: str = "start",
             size: float = FONT, colour: str = "") -> None:
        self.order.append(len(self.parts))
        self.labels.append(Label(x, y, _NOT_XML.sub("", value), anchor, size, colour))

    def vline(self, x: float, top: float, bottom: float, line: Line) -> None:
        dash = (f' stroke-dasharray="{_n(3.7 * line.width)} {_n(1.6 * line.width)}"'
                if line.dashed else "")
        self.add(f'<path d="M{_n(x)} {_n(top)}V{_n(bottom)}" stroke="{line.colour}" '
                 f'stroke-width="{_n(line.width)}"{dash}/>')


def _legend(canvas: _Canvas, entries: Sequence[Line], left: float, baseline: float) -> None:
    x = left
    for entry in entries:
        y = baseline - SMALL * 0.35
        dash = (f' stroke-dasharray="{_n(3.7 * entry.width)} {_n(1.6 * entry.width)}"'
                if entry.dashed else "")
        canvas.add(f'<path d="M{_n(x)} {_n(y)}H{_n(x + 14)}" stroke="{entry.colour}" '
                   f'stroke-width="{_n(entry.width)}"{dash}/>')
        canvas.text(x + 18, baseline, entry.label, size=SMALL)
        x += 18 + text_width(entry.label, SMALL) + 14


@dataclass
class _Plot:
    """Where one panel is drawn: its box on the canvas."""

    panel: Panel
    left: float
    width: float
    top: float
    rows: int
    row: float = ROW
    room: float = WIDTH  # how wide a title may run from the plot's left

    @property
    def bottom(self) -> float:
        return self.top + self.rows * self.row + 6

    def centre(self, row: int) -> float:
        return self.top + 3 + self.row * (row + 0.5)

    def at(self, value: float) -> float:
        return self.panel.at(value, self.left, self.width)


def _marks(canvas: _Canvas, plot: _Plot) -> None:
    """Grid, then bars or ranges, then lines, so that lines and data stay in front."""
    panel = plot.panel
    grid = "".join(f"M{_n(plot.at(v))} {_n(plot.top)}V{_n(plot.bottom)}" for v, _ in panel.ticks)
    if grid:
        canvas.add(f'<path d="{grid}" stroke="{GRID}" stroke-width="0.6"/>')
    height = plot.row * BAR
    origin = plot.left if panel.log else plot.at(max(panel.lo, 0.0))
    for row, (value, colour) in enumerate(panel.bars):
        if value is None:
            canvas.text(origin + 2, plot.centre(row) + SMALL * 0.35, "no data", size=SMALL,
                        colour=NEUTRAL)
            continue
        start, end = sorted((origin, plot.at(value)))
        canvas.add(f'<rect x="{_n(start)}" y="{_n(plot.centre(row) - height / 2)}" '
                   f'width="{_n(end - start)}" height="{_n(height)}" fill="{colour}"/>')
    for row, (low, high, colour) in enumerate(panel.ranges):
        y, x1, x2 = plot.centre(row), _n(plot.at(low)), _n(plot.at(high))
        canvas.add(f'<path d="M{x1} {_n(y)}H{x2}" stroke="{colour}" stroke-width="7"/>')
        canvas.add(f'<path d="M{x1} {_n(y - 4.5)}v9M{x2} {_n(y - 4.5)}v9" stroke="{INK}"/>')
    for line in panel.lines:
        canvas.vline(plot.at(line.x), plot.top, plot.bottom, line)


def _axes(canvas: _Canvas, plot: _Plot) -> None:
    """The left and bottom spines, x ticks and their labels, the axis label, the title."""
    panel, bottom = plot.panel, plot.bottom
    canvas.add(f'<path d="M{_n(plot.left)} {_n(plot.top)}V{_n(bottom)}'
               f'H{_n(plot.left + plot.width)}" stroke="{SPINE}" stroke-width="0.8" '
               f'fill="none"/>')
    marks = "".join(f"M{_n(plot.at(v))} {_n(bottom)}v{TICK}" for v, _ in panel.ticks)
    marks += "".join(f"M{_n(plot.at(v))} {_n(bottom)}v2" for v in panel.minor)
    if marks:
        canvas.add(f'<path d="{marks}" stroke="{INK}" stroke-width="0.8"/>')
    for value, label in panel.ticks:
        canvas.text(plot.at(value), bottom + 2 * TICK + FONT * 0.76, label, anchor="middle")
    if panel.xlabel:
        canvas.text(plot.left + plot.width / 2, bottom + 2 * TICK + FONT * 2.1, panel.xlabel,
                    anchor="middle")
    for index, title in enumerate(reversed(panel.title)):
        canvas.text(plot.left, plot.top - 4 - index * FONT * 1.2,
                    _fit(title, plot.room, TITLE), size=TITLE)


def _fit(text: str, room: float, size: float) -> str:
    """`text` cut with an ellipsis to `room` points, so that a title never runs into the
    next panel or off the page."""
    while len(text) > 1 and text_width(text, size) > room:
        text = text[:-2].rstrip() + "…"
    return text


def chart(labels: Sequence[str], panels: Sequence[Panel], legend: Sequence[Line] = ()
          ) -> Drawing:
    """`labels` name the rows (top to bottom) left of the first panel, the panels sit side by
    side sharing the rows, `legend` entries run above them. Rows get thinner when there are
    many, so that a chart stays within MAX_HEIGHT."""
    rows = max(len(labels), 1)
    left = (max(map(text_width, labels)) + TICK + 4) if labels else 8.0
    right = 8.0
    gap = 0.18
    for _ in range(2):  # the last tick label may stick out: leave it room, then re-place
        each = (WIDTH - left - right) / (len(panels) + gap * (len(panels) - 1))
        for panel in panels:
            (log_axis if panel.log else linear_axis)(panel, each)
        overhang = max((text_width(label) / 2 - (each - (panel.at(value, 0, each)))
                        for panel in panels for value, label in panel.ticks[-1:]), default=0)
        right = max(8.0, overhang + 2)
    titled = max((len(p.title) for p in panels), default=0)
    top = 4 + (SMALL * 1.6 if legend else 0) + (titled * FONT * 1.2 + 4 if titled else 0)
    below = 6 + 2 * TICK + FONT * (2.5 if any(p.xlabel for p in panels) else 1.2) + 4
    row = min(ROW, (MAX_HEIGHT - top - below) / rows)
    canvas = _Canvas()
    for index, label in enumerate(labels):
        canvas.text(left - TICK - 1, top + 3 + row * (index + 0.5) + FONT * 0.35, label,
                    anchor="end")
    for index, panel in enumerate(panels):
        start = left + index * each * (1 + gap)
        plot = _Plot(panel, start, each, top, rows, row, room=min(each * (1 + gap) - 4,
                                                                 WIDTH - start))
        _marks(canvas, plot)
        _axes(canvas, plot)
    if legend:
        _legend(canvas, legend, left, 4 + SMALL)
    return Drawing(top + rows * row + below, canvas.parts, canvas.labels, canvas.order)
