"""A URL fetcher that can read nothing but our own bundled assets and `data:` URLs.

WeasyPrint's default fetcher follows `file://`, `http://` and more; with answers typed by
anyone in the page, an `<img>` or `<link rel=attachment>` could embed a local file or reach
an internal address. This one refuses every such URL and remembers what it was asked for,
so tests (and the curious) can see that nothing else was touched.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from engine.report.quickload import untrusting_context


class BlockedURL(ValueError):
    """A URL outside the bundled assets: refused, never fetched."""


class SafeFetcher(URLFetcher):
    """Serve `data:` URLs and files under `asset_root`; refuse everything else."""

    def __init__(self, asset_root: Path | None) -> None:
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False,
                         fail_on_errors=False, ssl_context=untrusting_context())
        self.asset_root = asset_root.resolve() if asset_root else None
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        self.requested.append(url)
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return _data_url(url)
        if scheme == "file" and self.asset_root is not None:
            parts = urlsplit(url)
            if parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(self.asset_root) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes(),
                                              {"Content-Type": _mime(path)})
        self.refused.append(url)
        raise BlockedURL(f"refused to fetch {url[:80]!r}: only bundled report assets")

    def __call__(self, url: str) -> URLFetcherResponse:
        return self.fetch(url)


def _mime(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
            ".ttf": "font/ttf", ".woff2": "font/woff2", ".icc": "application/vnd.iccprofile"
            }.get(path.suffix.lower(), "application/octet-stream")


def _data_url(url: str) -> URLFetcherResponse:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise BlockedURL("malformed data: URL")
    params = header.split(";")
    mime = params[0] or "text/plain"
    if "base64" in params[1:]:
        body = base64.b64decode(unquote(payload), validate=False)
    else:
        body = unquote_to_bytes(payload)
    return URLFetcherResponse(url, body, {"Content-Type": mime})
