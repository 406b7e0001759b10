"""The HTML report: one autoescaped Jinja2 template, CSS and SVG charts inlined."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.model.decision import Decision, load_decision

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


def templates_dir() -> Path:
    """reports/ beside the package (or inside a wheel); a replayed rule base snapshot may
    override the data root without carrying templates, so fall back to our own copy."""
    from engine.paths import reports_dir

    here = Path(__file__).resolve().parent
    for candidate in (reports_dir(), here.parent / "_data" / "reports",
                      here.parent.parent / "reports"):
        if (candidate / TEMPLATE).is_file():
            return candidate
    raise FileNotFoundError(f"report template {TEMPLATE} not found (looked beside the package)")


@lru_cache(maxsize=4)
def _environment(root: str) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(root), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render_document(decision: Decision | Mapping[str, Any], *,
                    for_pdf: bool) -> tuple[str, dict]:
    """The HTML text and the view model (the PDF step reuses its metadata). A decision given
    as JSON is read partially (see load_decision): the report shows what it can."""
    from markupsafe import Markup

    from engine.report.charts import build_charts
    from engine.report.context import build_context
    from engine.report.labels import labels
    from engine.report.limits import bounded, more_note

    decision = load_decision("decision", decision, partial=True)
    # every string clean, cut and breakable before layout; the shapes stay, so it reads again
    decision = Decision.model_validate(bounded(decision.dump()))
    context = build_context(decision, labels())
    charts = [dict(chart, svg=Markup(chart["svg"])) for chart in build_charts(decision)]
    root = templates_dir()
    css = (root / STYLESHEET).read_text(encoding="utf-8")
    template = _environment(str(root)).get_template(TEMPLATE)
    html = template.render(r=context, charts=charts, css=Markup(css), for_pdf=for_pdf,
                           more_note=more_note)
    return html, context
