"""The project an assessment belongs to: `project.id` when the answers give one, else the slug
of the project's name, so that assessments of one project find each other without any set-up.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from engine.util import dotted

MAX_SLUG = 64  # as the answers model's Slug
UNNAMED = "unnamed"


def slugify(name: str) -> str:
    """Lower-case ASCII words joined by hyphens ("Support ticket routing" ->
    "support-ticket-routing"); accents are folded ("Détection" -> "detection"). A name with no
    Latin letter or digit at all gets a short hash of itself, so two such names stay apart."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:MAX_SLUG].strip("-")
    if slug:
        return slug
    if not name.strip():
        return UNNAMED
    return "project-" + hashlib.sha256(name.strip().encode("utf-8", "replace")).hexdigest()[:8]


def project_of(answers: Mapping[str, Any] | None) -> tuple[str, str]:
    """(project id, project name) from an answers document (as given or effective)."""
    project = answers.get("project") if isinstance(answers, Mapping) else None
    project = project if isinstance(project, Mapping) else {}
    name = project.get("name")
    name = name.strip() if isinstance(name, str) else ""
    given = project.get("id")
    if isinstance(given, str) and given.strip():
        return given.strip(), name or given.strip()
    return slugify(name), name or UNNAMED


def project_of_record(body: Mapping[str, Any]) -> tuple[str, str]:
    """(project id, name) of a recorded assessment: from the input it was made from, else
    from the decision's own copy of the answers and its project block."""
    for path in ("input.answers", "decision.input.answers"):
        answers = dotted.get(body, path, None)
        if isinstance(answers, Mapping) and isinstance(answers.get("project"), Mapping):
            return project_of(answers)
    name = dotted.get(body, "decision.project.name", None)
    return project_of({"project": {"name": name if isinstance(name, str) else ""}})
