"""HTML, PDF and Markdown recommendation reports rendered from a decision document, each for
one of three readers (engine.model.vocab.AUDIENCES): executive, architect (the default), audit.

Imports stay light: Jinja2 and WeasyPrint load only when a report is rendered, WeasyPrint
through engine.report.quickload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.model.decision import Decision, load_decision
from engine.model.vocab import DEFAULT_AUDIENCE
from engine.report import quickload

quickload.install()  # whoever imports WeasyPrint next (we, or a caller first) gets it quicker

__all__ = ["render_html", "render_markdown", "render_pdf"]


# Reviews, where given, are the audit log's review events of the assessment as the caller read
# them (engine.audit.review.Review.to_dict()): the report gains a sign-off section.
Reviews = Sequence[Mapping[str, Any]] | None


def render_html(decision: Decision | Mapping[str, Any],
                audience: str = DEFAULT_AUDIENCE, reviews: Reviews = None) -> bytes:
    """Self-contained HTML (inline CSS and SVG, no network) for a browser or a printer."""
    from engine.report.html import render_document

    html, _ = render_document(decision, for_pdf=False, audience=audience, reviews=reviews)
    return html.encode("utf-8")


def render_pdf(decision: Decision | Mapping[str, Any],
               audience: str = DEFAULT_AUDIENCE, reviews: Reviews = None) -> bytes:
    """An A4 PDF/A-3u of the same report, tagged, with the decision JSON attached (the same
    attachment whoever the report is written for, so any of them can be verified)."""
    from engine.report.html import render_document
    from engine.report.pdf import canonical_json, collector_paused, html_to_pdf

    with collector_paused():  # the view model and template too, not only the layout
        decision = load_decision("decision", decision, partial=True)
        html, context = render_document(decision, for_pdf=True, audience=audience,
                                        reviews=reviews)
        return html_to_pdf(html, metadata=context, attachment=canonical_json(decision))


def render_markdown(decision: Decision | Mapping[str, Any],
                    audience: str = DEFAULT_AUDIENCE, reviews: Reviews = None) -> bytes:
    """GitHub-flavoured Markdown of the same report, for wikis and pull requests."""
    from engine.report.markdown import render_markdown as markdown

    return markdown(decision, audience, reviews).encode("utf-8")
