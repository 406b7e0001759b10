"""Untrusted answers cannot reach the file system or the network through the report."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import StreamObject

from engine.report import render_html, render_pdf
from engine.report.fetcher import BlockedURL, SafeFetcher
from engine.report.html import templates_dir
from engine.report.pdf import html_to_pdf

FIXTURES = Path(__file__).parent / "fixtures" / "report"
IMG = '<img src="file:///etc/hostname">'
LINK = '<link rel="attachment" href="file:///etc/passwd">'
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/"
HOSTILE = f"{IMG} {LINK} see {METADATA_URL} <script>alert(1)</script>"
PASSWD_MARK = b"root:x:0:0"


def hostile_decision() -> dict:
    decision = json.loads((FIXTURES / "decision-sample.json").read_text(encoding="utf-8"))
    decision = copy.deepcopy(decision)
    decision["project"]["name"] = f"Routing {IMG}"
    answers = decision["input"]["answers"]
    answers["project"]["name"] = decision["project"]["name"]
    answers["business"]["problem_statement"] = HOSTILE
    answers["business"]["kpi"] = LINK
    decision["findings"][0]["title"] = HOSTILE
    decision["findings"][0]["facts"] = {"business.kpi": LINK}
    decision["options"][0]["reasons"] = [METADATA_URL, IMG]
    decision["options"][0]["evidence"][0]["candidate"] = f"{IMG} $x$"
    decision["actions"][0] = HOSTILE
    decision["trace"][0]["matched"] = {"case": {"business.problem_statement": HOSTILE}}
    decision["input"]["drift"]["features"][0]["name"] = LINK
    return decision


@pytest.fixture(scope="module")
def decision() -> dict:
    return hostile_decision()


@pytest.fixture(scope="module")
def rendered(decision: dict) -> tuple[bytes, list[str]]:
    seen: list[str] = []
    original = SafeFetcher.fetch

    def spy(self: SafeFetcher, url: str, headers: object = None):  # type: ignore[no-untyped-def]
        seen.append(url)
        return original(self, url, headers)

    SafeFetcher.fetch = spy  # type: ignore[method-assign]
    try:
        pdf = render_pdf(decision)
    finally:
        SafeFetcher.fetch = original  # type: ignore[method-assign]
    return pdf, seen


def test_html_shows_hostile_text_escaped(decision: dict) -> None:
    html = render_html(decision).decode("utf-8")
    assert "&lt;img src=&#34;file:///etc/hostname&#34;&gt;" in html
    assert "&lt;link rel=&#34;attachment&#34; href=&#34;file:///etc/passwd&#34;&gt;" in html
    assert METADATA_URL in html  # shown as text
    assert "<img" not in html and "<link" not in html and "<script" not in html
    elements = _elements(html)
    assert not {"img", "link", "script", "iframe", "object"} & {tag for tag, _ in elements}
    for _tag, attrs in elements:
        for _name, value in attrs:
            assert "file:" not in (value or "") and "169.254" not in (value or "")


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_pdf_fetches_nothing_and_embeds_nothing(rendered: tuple[bytes, list[str]]) -> None:
    pdf, seen = rendered
    assert [u for u in seen if not u.startswith("data:")] == []
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["decision.json"]
    assert all(not page.images for page in reader.pages)
    numbers = set(reader.xref_objStm)
    for table in reader.xref.values():
        numbers.update(table)
    assert len(numbers) > 50
    for number in sorted(numbers):
        obj = reader.get_object(number)
        if isinstance(obj, StreamObject):
            assert PASSWD_MARK not in obj.get_data()
    hostname = Path("/etc/hostname").read_bytes().strip()
    (attached,) = reader.attachments["decision.json"]
    # the hostname only ever appears if it was in the decision itself
    assert (hostname in attached) == (hostname in json.dumps(hostile_decision()).encode())


def test_pdf_shows_hostile_text_as_text(rendered: tuple[bytes, list[str]]) -> None:
    reader = PdfReader(io.BytesIO(rendered[0]))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert 'file:///etc/hostname">' in text
    assert "169.254.169.254" in text


def test_even_raw_html_cannot_fetch_or_attach_local_files() -> None:
    """Defence in depth: were markup ever to slip through, the fetcher still refuses it."""
    fetcher = SafeFetcher(templates_dir() / "assets")
    html = (f"<html><head>{LINK}<link rel=stylesheet href='{METADATA_URL}'></head>"
            f"<body><p>x</p>{IMG}<img src='{METADATA_URL}'>"
            "<img src='file:///proc/self/environ'></body></html>")
    from datetime import UTC, datetime

    pdf = html_to_pdf(html, metadata={"title": "t", "respondent": "r", "subject": "s",
                                      "keywords": [], "moment": datetime(2026, 1, 1, tzinfo=UTC)},
                      attachment=b"{}\n", fetcher=fetcher)
    reader = PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["decision.json"]
    assert not reader.pages[0].images
    assert "file:///etc/hostname" in fetcher.refused
    assert METADATA_URL in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused or not any(
        "passwd" in u for u in fetcher.requested)
    assert PASSWD_MARK not in pdf


@pytest.mark.parametrize("url", [
    "file:///etc/hostname", "file:///etc/passwd", METADATA_URL, "https://example.com/x.png",
    "ftp://example.com/x", "file://otherhost/etc/passwd", "gopher://x",
])
def test_fetcher_refuses_everything_but_assets_and_data(url: str) -> None:
    fetcher = SafeFetcher(templates_dir() / "assets")
    with pytest.raises(BlockedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_paths_escaping_the_asset_folder(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("secret")
    fetcher = SafeFetcher(assets)
    assert fetcher.fetch((assets / "logo.svg").as_uri()).read().startswith(b"<svg")
    with pytest.raises(BlockedURL):
        fetcher.fetch(assets.as_uri() + "/../secret.txt")
    with pytest.raises(BlockedURL):
        fetcher.fetch((tmp_path / "secret.txt").as_uri())


def test_fetcher_serves_data_urls() -> None:
    fetcher = SafeFetcher(None)
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    assert fetcher.fetch("data:text/plain,hi%20there").read() == b"hi there"


def test_control_bidi_and_surrogate_characters_are_shown_as_replacement() -> None:
    decision = json.loads((FIXTURES / "decision-sample.json").read_text(encoding="utf-8"))
    decision["project"]["name"] = "Bad \x00nul \x1b[31mesc \ud800 \u202eevil"
    decision["findings"][0]["facts"] = {"x\x07": "\ud83d"}
    html = render_html(decision).decode("utf-8")
    assert "Bad \ufffdnul \ufffd[31mesc \ufffd \ufffdevil" in html
    assert "\x00" not in html and "\u202e" not in html
    reader = PdfReader(io.BytesIO(render_pdf(decision)))
    assert "Bad \ufffdnul" in reader.pages[0].extract_text()
    (attached,) = reader.attachments["decision.json"]
    # the attachment keeps every character JSON can carry; only lone surrogates are replaced
    assert json.loads(attached)["project"]["name"] == "Bad \x00nul \x1b[31mesc \ufffd \u202eevil"


def test_fetcher_trusts_no_certificate_and_loads_no_ca_store() -> None:
    """The HTTPS handler urllib gives every fetcher holds a context with no CA at all: the
    system's store is not read for each report, and any HTTPS use would fail verification."""
    import ssl
    from urllib.request import HTTPSHandler

    fetcher = SafeFetcher(templates_dir() / "assets")
    contexts = [handler._context for handler in fetcher.handlers  # type: ignore[attr-defined]
                if isinstance(handler, HTTPSHandler)]
    assert len(contexts) == 1
    context = contexts[0]
    assert context.cert_store_stats() == {"crl": 0, "x509_ca": 0, "x509": 0}
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
