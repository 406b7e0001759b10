"""What a reader notices on a PDF page, measured: how full each page is (from its picture),
the text in drawing order, and the characters drawn as empty boxes (no glyph in any font).

Used by the report picture tests; poppler-utils (pdftoppm, pdftotext) come from
scripts/system-deps.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

# The report's page box (reports/report.css @page): A4, 20 mm top and 18 mm bottom margins.
PAGE_MM = 297
TOP_MM, BOTTOM_MM = 20, 18
INK = 200  # a grey level below this (0-255) is ink


def page_fills(pdf: bytes, dpi: int = 30) -> list[float]:
    """For each page, the share of the content area (between the margins) above its lowest
    ink: 1.0 is a full page, 0.1 a page with a few lines at the top."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source),
                        str(Path(tmp) / "page")], check=True)
        fills = []
        for png in sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem[5:])):
            image = Image.open(png).convert("L")
            width, height = image.size
            top = int(height * TOP_MM / PAGE_MM)
            bottom = int(height * (PAGE_MM - BOTTOM_MM) / PAGE_MM)
            body = image.crop((0, top, width, bottom)).point(lambda v: 255 if v < INK else 0)
            box = body.getbbox()  # the rectangle holding all ink, None when blank
            fills.append(round(box[3] / (bottom - top), 3) if box else 0.0)
        return fills


def text_lines(pdf: bytes, first: int | None = None, last: int | None = None) -> list[str]:
    """The text in drawing order (pdftotext -raw): a table cell's lines stay together, so a
    word broken across lines shows as the end of one line and the start of the next."""
    args = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(pdf)
        out = subprocess.run([*args, str(source), "-"], check=True, capture_output=True)
    text = out.stdout.decode("utf-8").replace("\u200b", "").replace("\u00ad", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


ALLOWED_BREAK_AFTER = "_-./ "


def split_identifiers(lines: list[str], identifiers: set[str]) -> list[str]:
    """Identifiers broken across two lines anywhere but after `_`, `-`, `.` or `/`:
    `disparate_impa` + `ct`, never `disparate_` + `impact`."""
    found = []
    for upper, lower in zip(lines, lines[1:], strict=False):
        left, right = upper.split(" ")[-1], lower.split(" ")[0]
        if not left or not right or left[-1] in ALLOWED_BREAK_AFTER:
            continue
        joined = left + right
        for identifier in identifiers:
            start = joined.find(identifier)
            while start != -1:
                if start < len(left) < start + len(identifier):
                    found.append(f"{left} / {right}")
                start = joined.find(identifier, start + 1)
    return found


_BFCHAR = re.compile(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_CIDCHAR = re.compile(r"<([0-9a-fA-F]+)>\s+(\d+)")


def missing_glyphs(pdf: bytes) -> set[str]:
    """Characters the PDF draws with glyph 0 (.notdef, the empty box) of its fonts: a
    character no font in the stack has. Read from each font's ToUnicode map and its code to
    glyph encoding (WeasyPrint writes Identity-H, or its own CMap when several characters
    share one glyph, as missing ones do)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    boxes: set[str] = set()
    seen: set[int] = set()
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if id(font) in seen or "/ToUnicode" not in font:
                continue
            seen.add(id(font))
            to_unicode = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            encoding = font.get("/Encoding")
            glyph_of: dict[int, int] | None = None  # None: Identity, code = glyph
            if encoding is not None and not isinstance(encoding.get_object(), str):
                stream = encoding.get_object()
                if hasattr(stream, "get_data"):
                    text = stream.get_data().decode("latin-1")
                    glyph_of = {int(code, 16): int(cid) for code, cid in _CIDCHAR.findall(text)}
            for code, unicode in _BFCHAR.findall(to_unicode.split("beginbfchar", 1)[-1]):
                number = int(code, 16)
                glyph = number if glyph_of is None else glyph_of.get(number, number)
                if glyph == 0 and len(unicode) % 4 == 0:
                    chars = bytes.fromhex(unicode).decode("utf-16-be", "replace")
                    boxes.update(ch for ch in chars if not ch.isspace())
    return boxes
