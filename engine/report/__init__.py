"""HTML, PDF and Markdown recommendation reports rendered from a decision document.

Imports stay light: Jinja2, matplotlib and WeasyPrint load only when a report is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model.decision import Decision, load_decision

__all__ = ["render_html", "render_markdown", "render_pdf"]


def render_html(decision: Decision | Mapping[str, Any]) -> bytes:
    """Self-contained HTML (inline CSS and SVG, no network) for a browser or a printer."""
    from engine.report.html import render_document

    html, _ = render_document(decision, for_pdf=False)
    return html.encode("utf-8")


def render_pdf(decision: Decision | Mapping[str, Any]) -> bytes:
    """An A4 PDF/A-3u of the same report, tagged, with the decision JSON attached."""
    from engine.report.html import render_document
    from engine.report.pdf import canonical_json, html_to_pdf

    decision = load_decision("decision", decision, partial=True)
    html, context = render_document(decision, for_pdf=True)
    return html_to_pdf(html, metadata=context, attachment=canonical_json(decision))


def render_markdown(decision: Decision | Mapping[str, Any]) -> bytes:
    """GitHub-flavoured Markdown of the same report, for wikis and pull requests."""
    from engine.report.markdown import render_markdown as markdown

    return markdown(decision).encode("utf-8")
