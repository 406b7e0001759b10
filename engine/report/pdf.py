"""The PDF report: the HTML report through WeasyPrint, reproducible and sealed.

Reproducible: dates come from the assessment id, the attachment's dates are pinned, and
SOURCE_DATE_EPOCH is set while fonts are subset. Sealed: the only fetcher can read bundled
assets and data: URLs, and the only attachment is the canonical decision JSON.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from engine.model.decision import DECISION_SCHEMA, Decision, load_decision
from engine.report.html import templates_dir

EPOCH_FALLBACK = datetime(2000, 1, 1, tzinfo=UTC)
# One render at a time per process: SOURCE_DATE_EPOCH is process-wide, and WeasyPrint's
# font machinery is not documented as thread-safe (the web server may render from threads).
_RENDER_LOCK = threading.Lock()


# Added to a decision only for the report (by `assess --format pdf`), never part of it.
REPORT_ONLY_KEYS = ("explanation", "counterfactuals")


def canonical_json(decision: Decision | Mapping[str, Any]) -> bytes:
    """The decision JSON exactly as `assess --format json` writes it (sorted keys, indented,
    UTF-8, final newline), using the core helper so the bytes always agree. Report-only
    additions such as the explanation are left out: they are not the decision."""
    from engine.util.canonical import pretty_bytes

    model = load_decision("decision", decision, partial=True)
    decision = {k: v for k, v in model.dump().items() if k not in REPORT_ONLY_KEYS}
    try:
        return pretty_bytes(decision)
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8: attach them as U+FFFD
        from engine.util.text import encodable

        return pretty_bytes(encodable(decision))


@contextmanager
def _source_date(moment: datetime) -> Iterator[None]:
    """Font subsetting stamps the current time unless SOURCE_DATE_EPOCH is set."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = previous or str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for one render: WeasyPrint builds tens of thousands of
    boxes and style dicts, which set off collections that walk every object of the process
    (2 % of a first render's instructions, more in a process that has rendered before). The
    render's cycles go in the first collection after it. Only the pause that turned the
    collector off turns it back on: nested pauses, and a caller's own `gc.disable()`, hold."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def html_to_pdf(html: str, *, metadata: Mapping[str, Any], attachment: bytes,
                fetcher: Any = None) -> bytes:
    """Lay out `html` and write a tagged PDF/A-3u carrying `attachment` as decision.json."""
    import pydyf
    from weasyprint import HTML, Attachment

    from engine.report.fetcher import SafeFetcher

    root = templates_dir()
    fetcher = fetcher or SafeFetcher(root / "assets")
    known = metadata.get("moment")
    moment = known or EPOCH_FALLBACK
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    with _RENDER_LOCK, collector_paused(), _source_date(moment):
        document = HTML(string=html, base_url=(root / "assets").as_uri() + "/",
                        url_fetcher=fetcher).render(pdf_variant="pdf/a-3u", pdf_tags=True)
        meta = document.metadata
        meta.title = metadata["title"]
        meta.authors = [metadata["respondent"]] if metadata.get("respondent") else []
        meta.description = metadata["subject"]
        meta.keywords = list(metadata["keywords"])
        meta.generator = "mladvisor"
        # the assessment's time; no date at all rather than an invented one
        stamp = known.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if known else None
        meta.created = meta.modified = stamp
        meta.lang = "en"
        meta.attachments = []  # nothing from the page itself is ever embedded
        decision_file = Attachment(string=attachment, url_fetcher=fetcher, name="decision.json",
                                   description="The decision this report renders "
                                               f"({DECISION_SCHEMA}, canonical JSON)",
                                   created=naive, modified=naive, relationship="Source")

        def finish(_document: Any, pdf: Any) -> None:
            pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array(
                [0, pydyf.Dictionary({"S": "/D"})])})
            if "AF" in pdf.catalog:  # WeasyPrint 70 lists the embedded file twice in /AF
                unique = list(dict.fromkeys(bytes(ref) if isinstance(ref, bytes) else ref
                                            for ref in pdf.catalog["AF"]))
                pdf.catalog["AF"] = pydyf.Array(unique)

        return document.write_pdf(pdf_variant="pdf/a-3u", pdf_tags=True,
                                  attachments=[decision_file], finisher=finish)
