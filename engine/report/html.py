"""The HTML report: one autoescaped Jinja2 template, CSS and SVG charts inlined."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.model.decision import Decision, load_decision
from engine.model.vocab import AUDIENCES, DEFAULT_AUDIENCE
from engine.report.limits import BREAK

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
SCREEN_STYLESHEET = "report-screen.css"  # media features: a browser's only


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


# Where an identifier may break across lines: after `_`, after `-` and `.` between a word and
# a letter (a minus sign or a decimal point never). Pango breaks after a hyphen by itself, but
# WeasyPrint's overflow-wrap cuts a long identifier before the hyphen; an explicit break wins.
_BREAK_POINT = re.compile(r"(?<=_)(?=[^\s_])|(?<=[A-Za-z0-9]-)(?=[A-Za-z])|(?<=\.)(?=[A-Za-z])")


def wbr(value: Any) -> Any:
    """The value escaped, with a zero-width space at the break points of identifiers (rule
    ids, answer paths, fact names), so a narrow column wraps `disparate_impact` as
    `disparate_` + `impact`, never `disparate_impa` + `ct`. Not <wbr>: WeasyPrint ignores it
    inside <code>."""
    from markupsafe import Markup, escape

    return Markup(_BREAK_POINT.sub(BREAK, str(escape(value))))


@lru_cache(maxsize=8)
def _stylesheet(root: str, for_pdf: bool) -> str:
    """The report's CSS, read once per process; a browser also gets the phone layout."""
    parts = [STYLESHEET] if for_pdf else [STYLESHEET, SCREEN_STYLESHEET]
    return "\n".join((Path(root) / name).read_text(encoding="utf-8") for name in parts)


@lru_cache(maxsize=4)
def _environment(root: str) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(root), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)
    environment.filters["wbr"] = wbr
    return environment


def render_document(decision: Decision | Mapping[str, Any], *, for_pdf: bool,
                    audience: str = DEFAULT_AUDIENCE,
                    reviews: Sequence[Mapping[str, Any]] | None = None) -> tuple[str, dict]:
    """The HTML text and the view model (the PDF step reuses its metadata). A decision given
    as JSON is read partially (see load_decision): the report shows what it can. `audience`
    chooses the depth (AUDIENCES); every depth carries the same audit block."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    from markupsafe import Markup

    from engine.report.charts import build_charts
    from engine.report.context import build_context
    from engine.report.labels import labels
    from engine.report.limits import bounded, more_note
    from engine.report.signoff import signoff_rows

    decision = load_decision("decision", decision, partial=True)
    # every string clean, cut and breakable before layout; the shapes stay, so it reads again
    decision = Decision.model_validate(bounded(decision.dump()))
    context = build_context(decision, labels())
    charts = [] if audience == "executive" else [
        dict(chart, svg=Markup(chart["svg"])) for chart in build_charts(decision)]
    root = templates_dir()
    css = _stylesheet(str(root), for_pdf)
    template = _environment(str(root)).get_template(TEMPLATE)
    html = template.render(r=context, charts=charts, css=Markup(css), for_pdf=for_pdf,
                           more_note=more_note, audience=audience,
                           signoff=signoff_rows(reviews))
    return html, context
