"""The past-assessments list (filter, paging both ways), the icon and the downloaded answers
file, through Starlette's TestClient against a real audit log (issue 17, its web part)."""

from __future__ import annotations

import re
import sqlite3
import warnings
from pathlib import Path

import pytest
import yaml

from engine.api import Sources, assess
from engine.audit import open_log
from engine.audit.search import normalise, words
from engine.web import Settings, create_app
from tests.test_web import BASE, VALID, submit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NAMES = ["Fraud alerts", "Ticket routing", "Invoice OCR", "Ticket triage", "Straße Prüfung",
         "Churn model", "Fraud scoring"]


def fill(home: Path, names: list[str]) -> list[str]:
    """One assessment per name, oldest first; returns their record ids."""
    ids = []
    with open_log(home) as log:
        for name in names:
            answers = {"schema": "mladvisor.answers/1",
                       "project": {"name": name, "respondent": "Tester"},
                       "business": {"problem_statement": "Route tickets"}}
            done = assess({"answers": answers, "benchmarks": None, "drift": None},
                          sources=Sources(answers="test"))
            ids.append(log.append(done, None))
    return ids


def listed(text: str) -> list[str]:
    return re.findall(r'<a href="/assessments/([0-9a-fA-F-]+)">', text)


def link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', text)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture()
def small_pages(home: Path) -> TestClient:
    return TestClient(create_app(Settings(home=home, page_size=3)), base_url=BASE)


def test_filter_words_are_case_and_separator_blind() -> None:
    assert normalise("Proceed-with_conditions") == "proceed with conditions"
    assert words("  NOT-ready  ") == ["not", "ready"]
    assert words("STRASSE") == ["strasse"] and "strasse" in normalise("Straße")
    assert words("") == [] and words(" - ") == []


def test_filter_finds_names_verdicts_and_strategies(small_pages: TestClient,
                                                    home: Path) -> None:
    ids = fill(home, NAMES)
    by_name = dict(zip(NAMES, ids, strict=True))
    page = small_pages.get("/assessments", params={"q": "fraud"})
    assert page.status_code == 200
    assert listed(page.text) == [by_name["Fraud scoring"], by_name["Fraud alerts"]]
    assert 'value="fraud"' in page.text and "matching <q>fraud</q>" in page.text
    # every word must match; case and Unicode case-folding do not matter
    assert listed(small_pages.get("/assessments?q=TICKET+triage").text) == [
        by_name["Ticket triage"]]
    assert listed(small_pages.get("/assessments?q=strasse").text) == [by_name["Straße Prüfung"]]
    # the verdict matches as shown ("Not ready") or as its id ("not-ready")
    with open_log(home) as log:
        verdicts = {r.record_id: r.verdict for r in log.list()}
    verdict = verdicts[ids[0]]
    same = [i for i in reversed(ids) if verdicts[i] == verdict]
    shown = listed(small_pages.get("/assessments", params={"q": verdict.replace("-", " ")}).text)
    assert shown == same[:3]
    nothing = small_pages.get("/assessments?q=no+such+project+zz")
    assert listed(nothing.text) == [] and "No assessments match" in nothing.text


def test_filter_matches_the_strategy(client_home: tuple[TestClient, Path]) -> None:
    client, home = client_home
    record_id = submit(client, VALID).headers["location"].rsplit("/", 1)[1]
    fill(home, ["Other project"])
    with open_log(home) as log:
        strategy = log.get(record_id).decision["strategy"]
    assert strategy and strategy["service"], "these answers lead to a service"
    assert record_id in listed(client.get("/assessments", params={"q": strategy["rung"]}).text)
    assert listed(client.get("/assessments", params={"q": strategy["service"]}).text) == [
        record_id]


@pytest.fixture()
def client_home(home: Path) -> tuple[TestClient, Path]:
    return TestClient(create_app(Settings(home=home)), base_url=BASE), home


def test_paging_goes_older_and_back_newer_keeping_the_filter(small_pages: TestClient,
                                                           home: Path) -> None:
    ids = fill(home, [f"Ticket {n}" if n % 3 else f"Other {n}" for n in range(14)])
    newest_first = list(reversed(ids))
    tickets = [i for n, i in reversed(list(enumerate(ids))) if n % 3]
    pages, url = [], "/assessments?q=ticket"
    while url:
        page = small_pages.get(url)
        assert page.status_code == 200
        pages.append((url, listed(page.text)))
        assert "q=ticket" in (link(page.text, "next") or "q=ticket")
        url = link(page.text, "next")
        assert len(pages) < 10
    assert [i for _, rows in pages for i in rows] == tickets
    assert [len(rows) for _, rows in pages] == [3, 3, 3]
    # back towards the newest, page by page: the same pages in reverse
    back, text = [], small_pages.get(pages[-1][0]).text
    while link(text, "prev"):
        text = small_pages.get(link(text, "prev")).text
        back.append(listed(text))
    assert back == [rows for _, rows in reversed(pages[:-1])]
    assert "Newest" not in text  # the first page has no link to itself
    # unfiltered, paging covers every record once
    seen, url = [], "/assessments"
    while url:
        text = small_pages.get(url).text
        seen += listed(text)
        url = link(text, "next")
    assert seen == newest_first
    for bad in ("before=abc", "after=-1", "after=1&before=3", f"before={'1' * 40}"):
        assert small_pages.get(f"/assessments?{bad}").status_code == 400, bad


def test_filter_skips_an_unreadable_record(small_pages: TestClient, home: Path) -> None:
    ids = fill(home, ["Ticket a", "Ticket b", "Ticket c"])
    with sqlite3.connect(home / "audit.sqlite") as db:
        db.execute("DROP TRIGGER records_no_update")
        db.execute("UPDATE records SET body=X'00' WHERE seq=1")
    page = small_pages.get("/assessments?q=ticket")
    assert page.status_code == 200 and listed(page.text) == [ids[2], ids[1]]


def test_long_filter_text_is_cut_not_refused(small_pages: TestClient, home: Path) -> None:
    fill(home, ["Ticket a"])
    page = small_pages.get("/assessments", params={"q": "ticket " + "x" * 5000})
    assert page.status_code == 200 and listed(page.text) == []
    assert 'maxlength="200"' in page.text


def test_favicon_is_an_svg_linked_from_every_page(small_pages: TestClient) -> None:
    page = small_pages.get("/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text
    for url in ("/static/favicon.svg", "/favicon.ico"):
        icon = small_pages.get(url)
        assert icon.status_code == 200, url
        assert icon.headers["content-type"].startswith("image/svg+xml"), url
        assert icon.content.startswith(b"<svg") and b"<script" not in icon.content
        assert icon.headers["x-content-type-options"] == "nosniff"
    missing = small_pages.get("/assessments/nothing-here-zz")
    assert '<link rel="icon"' in missing.text and missing.status_code == 404


def test_favicon_needs_no_token(home: Path) -> None:
    client = TestClient(create_app(Settings(home=home, token="s3cret-token")), base_url=BASE)
    assert client.get("/favicon.ico").status_code == 200
    assert client.get("/").status_code == 401
    assert client.get("/favicon.icon").status_code == 401  # only the icon itself is public


def test_downloaded_answers_name_the_web_form(client_home: tuple[TestClient, Path]) -> None:
    client, _ = client_home
    record_id = submit(client, VALID).headers["location"].rsplit("/", 1)[1]
    saved = client.get(f"/assessments/{record_id}/answers.yaml").text
    head = saved.splitlines()[:2]
    assert head[0] == ("# mladvisor answers file, downloaded from the web questionnaire "
                       "(`mladvisor serve`)")
    assert head[1].startswith(f"# the answers of assessment {record_id}, recorded 20")
    assert "mladvisor questionnaire`" not in saved
    assert yaml.safe_load(saved)["project"]["name"] == "Ticket routing"


def test_verdicts_are_named_as_in_the_report(small_pages: TestClient, home: Path) -> None:
    from engine.api import assess_files
    from tests.conftest import EXAMPLES

    with open_log(home) as log:
        done = assess_files(EXAMPLES / "invoice-approval-rules.yaml")
        assert done.decision["verdict"] == "ml-not-recommended"
        record_id = log.append(done, None)
    assert ">ML not recommended</span>" in small_pages.get("/assessments").text
    result = small_pages.get(f"/assessments/{record_id}").text
    assert '<span class="verdict-name">ML not recommended</span>' in result
    assert listed(small_pages.get("/assessments?q=ML+not+recommended").text) == [record_id]
