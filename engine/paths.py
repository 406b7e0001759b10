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
SQLITE_SCHEME = "sqlite:///"


def _database(given: str | None) -> tuple[str | None, str]:
    """The URL asked for (`--database`, else MLADVISOR_DATABASE) and where it came from."""
    if given is not None:
        return given or None, "--database"
    return os.environ.get(DATABASE_ENV) or None, DATABASE_ENV


def database_url(given: str | None = None) -> str | None:
    """The PostgreSQL URL that keeps accounts, projects and the audit log (`serve --database`,
    else MLADVISOR_DATABASE), or None for the embedded SQLite files (in MLADVISOR_HOME, or in
    the folder a `sqlite:///PATH` URL names: see `sqlite_home`).

    Checked here, once, so every command refuses a mistyped URL with the same one line."""
    from engine.errors import InputError

    url, source = _database(given)
    if not url or url.startswith(SQLITE_SCHEME):
        return None
    if not url.startswith(DATABASE_SCHEMES):
        raise InputError(source, "url", "a PostgreSQL URL (postgresql://user@host/db) or "
                         "sqlite:///PATH (a folder for the SQLite files)", redact_url(url))
    return url


def redact_url(url: str) -> str:
    """The URL without its password (in the user part or a `password=` parameter), for every
    message, file name and line printed about a database."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = userinfo.split(":", 1)[0] + "@" + host
    query = "&".join(p for p in parts.query.split("&")
                     if p and not p.lower().startswith("password="))
    # not urlunsplit: it drops the `//` of an empty host (postgresql:///db?host=/socket)
    return (f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


def without_secrets(text: str, url: str) -> str:
    """A driver's message with the URL's password replaced, wherever the driver repeated it."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    secrets = [parts.password] if parts.password else []
    secrets += [unquote(p.split("=", 1)[1]) for p in parts.query.split("&")
                if p.lower().startswith("password=") and "=" in p]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def sqlite_home(given: str | None = None, home: Path | None = None) -> Path:
    """The folder of the SQLite files (audit.sqlite with its head file and checkpoints,
    team.sqlite): PATH of a `sqlite:///PATH` URL (`--database`, else MLADVISOR_DATABASE;
    `sqlite:////abs/path` or `sqlite:///relative/path`, as SQLAlchemy writes them), else
    `home`, else MLADVISOR_HOME. A URL naming a file is refused: the stores are two files."""
    from engine.errors import InputError

    url, source = _database(given)
    if url and url.startswith(SQLITE_SCHEME):
        folder = url[len(SQLITE_SCHEME):]
        if not folder:
            return Path(home) if home is not None else home_dir()
        path = Path(folder)
        if path.suffix in (".sqlite", ".db", ".sqlite3") or path.is_file():
            raise InputError(source, "url", "sqlite:///PATH naming a folder (the audit log and "
                             "the accounts are two files in it)", url)
        return path
    return Path(home) if home is not None else home_dir()
