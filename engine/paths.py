"""Where the rule base, knowledge, templates and the user's data live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding rules/, knowledge/ and reports/.

    A source checkout (editable install) keeps them beside the package; a wheel carries them
    inside it under _data/. MLADVISOR_RULEBASE points elsewhere, e.g. at a replayed snapshot.
    """
    override = os.environ.get("MLADVISOR_RULEBASE")
    if override:
        return Path(override)
    bundled = _PACKAGE / "_data"
    if (bundled / "rules").is_dir():
        return bundled
    return _PACKAGE.parent


def rules_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "rules"


def knowledge_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "knowledge"


def reports_dir() -> Path:
    return data_root() / "reports"


def home_dir() -> Path:
    """MLADVISOR_HOME, default ~/.mladvisor: the audit log and keys."""
    return Path(os.environ.get("MLADVISOR_HOME") or Path.home() / ".mladvisor")


DATABASE_ENV = "MLADVISOR_DATABASE"
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def database_url(given: str | None = None) -> str | None:
    """The PostgreSQL URL that keeps accounts, projects and the audit log (`serve --database`,
    else MLADVISOR_DATABASE), or None for the embedded SQLite files in MLADVISOR_HOME.

    Checked here, once, so every command refuses a mistyped URL with the same one line."""
    from engine.errors import InputError

    url = given if given is not None else os.environ.get(DATABASE_ENV)
    if not url:
        return None
    if not url.startswith(DATABASE_SCHEMES):
        source = "--database" if given is not None else DATABASE_ENV
        shown = url.split("@")[-1] if "@" in url else url  # never echo a password
        raise InputError(source, "url", "a PostgreSQL URL (postgresql://user@host/db)", shown)
    return url
