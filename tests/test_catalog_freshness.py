"""Freshness of the service catalog as a check, not a hope (issue 13).

`rules lint` warns about knowledge entries checked too long ago and fails a service that takes
no new projects without saying when it closed and what replaces it; a ladder shows such
services in one line per availability; `rules services` and the reports say how current the
catalog is. Everything runs through the real rule base, engine, CLI and report templates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from engine.api import assess
from engine.cli import cli
from engine.errors import RuleBaseError
from engine.report.html import render_document
from engine.report.text import render_text
from engine.rulebase.lint import lint
from engine.rulebase.loading import default_rulebase, load_rulebase
from tests.test_rulebase import copy_rulebase
from tests.test_sectors_11 import project

RB = default_rulebase()
CATALOG = RB.knowledge.catalog
SERVICES = Path("knowledge") / "services.yaml"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def edit_catalog(root: Path, change: Any) -> Path:
    path = root / SERVICES
    doc = yaml.safe_load(path.read_text())
    change({s["id"]: s for s in doc["services"]}, doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def closed_services() -> list[Any]:
    return [s for s in CATALOG.services if not s.is_open]


def freshness_problems(rb: Any, today: dt.date) -> list[Any]:
    return [p for p in lint(rb, run_examples=False, today=today)
            if p.file.startswith("knowledge/")]


# ---------------------------------------------------------------- lint: dates


def test_the_bundled_catalog_is_fresh_and_complete_today() -> None:
    newest = CATALOG.checked_range()[1]  # type: ignore[index]
    assert freshness_problems(RB, newest) == []


def test_lint_warns_about_every_entry_checked_more_than_stale_after_days_ago() -> None:
    oldest, _ = CATALOG.checked_range()  # type: ignore[misc]
    limit = CATALOG.stale_after_days
    on_the_day = oldest + dt.timedelta(days=limit)
    assert freshness_problems(RB, on_the_day) == []  # 180 days is not yet "older than"
    later = on_the_day + dt.timedelta(days=1)
    problems = freshness_problems(RB, later)
    stale = {s.id for s in CATALOG.services if (later - s.checked).days > limit}
    assert stale and {p.rule for p in problems} == stale
    assert all(p.level == "warning" and p.file == "knowledge/services.yaml" and p.line > 0
               for p in problems)
    assert all(f"more than stale_after_days, {limit}" in p.message for p in problems)


def test_an_old_checked_date_is_a_warning_at_its_line(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)

    def age(services: dict[str, Any], _doc: Any) -> None:
        services["amazon-polly"]["checked"] = "2025-01-15"

    path = edit_catalog(root, age)
    problems = freshness_problems(load_rulebase(root), dt.date(2026, 12, 2))
    assert [(p.level, p.rule) for p in problems] == [("warning", "amazon-polly")]
    assert "checked 2025-01-15, 686 days ago" in problems[0].message
    line = path.read_text().splitlines()[problems[0].line - 1]
    assert line.strip() == "checked: '2025-01-15'"


def test_a_guidance_entry_with_a_checked_date_is_judged_too(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    path = root / "knowledge" / "guidance.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["phases"][0]["guidance"][0]["checked"] = "2024-03-01"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    rb = load_rulebase(root)
    problems = freshness_problems(rb, dt.date(2026, 12, 2))
    entry = doc["phases"][0]["guidance"][0]["id"]
    assert [(p.level, p.file, p.rule) for p in problems] == [
        ("warning", "knowledge/guidance.yaml", entry)]


def test_a_price_entry_checked_long_ago_is_a_warning_named_by_its_offer(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    prices = root / "knowledge" / "pricing.yaml"
    text = prices.read_text(encoding="utf-8")
    first = text.index("checked: ")
    prices.write_text(text[:first] + "checked: 2026-01-10" + text[first + 19:], encoding="utf-8")
    rb = load_rulebase(root)
    offer = rb.knowledge.pricing.offers[0].offer
    problems = freshness_problems(rb, dt.date(2026, 12, 2))
    assert [(p.level, p.rule) for p in problems if p.file == "knowledge/pricing.yaml"] == [
        ("warning", offer)]


# ---------------------------------------------------------------- lint: closed services


def test_every_closed_service_says_when_it_closed_and_what_replaces_it() -> None:
    assert closed_services()
    for service in closed_services():
        assert service.closed_on is not None and service.successor.strip(), service.id
        if service.closed_on == "unknown":
            assert "Searched" in service.closed_on_note, service.id


@pytest.mark.parametrize("missing", [["closed_on"], ["successor"], ["closed_on", "successor"]])
def test_a_closed_service_without_closed_on_or_successor_is_an_error(
        tmp_path: Path, missing: list[str]) -> None:
    root = copy_rulebase(tmp_path)

    def strip(services: dict[str, Any], _doc: Any) -> None:
        for key in missing:
            services["amazon-kendra"].pop(key)

    edit_catalog(root, strip)
    rb = load_rulebase(root)
    errors = [p for p in freshness_problems(rb, dt.date(2026, 12, 2)) if p.level == "error"]
    assert [p.rule for p in errors] == ["amazon-kendra"]
    assert f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing" \
        in errors[0].message
    assert errors[0].line > 0
    # the static lint (what `rules lint` runs before the examples) reports it as an error
    assert any(p.level == "error" and p.rule == "amazon-kendra"
               for p in lint(rb, run_examples=False))


def test_closed_on_unknown_needs_a_note_saying_where_it_was_looked_for(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)

    def unknown(services: dict[str, Any], _doc: Any) -> None:
        services["amazon-kendra"]["closed_on"] = "unknown"

    edit_catalog(root, unknown)
    with pytest.raises(RuleBaseError, match="closed_on_note"):
        load_rulebase(root)

    def noted(services: dict[str, Any], _doc: Any) -> None:
        services["amazon-kendra"]["closed_on_note"] = "Searched the API reference banner."

    edit_catalog(root, noted)
    assert freshness_problems(load_rulebase(root), dt.date(2026, 12, 2)) == []


def test_an_open_service_carries_no_closing_date(tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)

    def close_date(services: dict[str, Any], _doc: Any) -> None:
        services["amazon-polly"]["closed_on"] = "2026-01-01"

    edit_catalog(root, close_date)
    with pytest.raises(RuleBaseError, match="not generally available"):
        load_rulebase(root)


def test_rules_lint_cli_judges_freshness_as_of_the_day_given() -> None:
    today = run("rules", "lint", "--no-examples",
                "--today", CATALOG.checked_range()[1].isoformat())  # type: ignore[index]
    assert today.exit_code == 0, today.output
    assert "0 error(s), 0 warning(s)" in today.output
    assert CATALOG.checked_text() in today.output
    later = run("rules", "lint", "--no-examples", "--today", "2031-01-01")
    assert later.exit_code == 0  # stale entries warn, they do not fail the lint
    warnings = [line for line in later.output.splitlines() if ": warning: " in line]
    services = [w for w in warnings if w.startswith("knowledge/services.yaml:")]
    prices = [w for w in warnings if w.startswith("knowledge/pricing.yaml:")]
    assert len(services) == len(CATALOG.services)
    assert len(prices) == len(RB.knowledge.pricing.offers)
    assert len(services) + len(prices) == len(warnings)


# ---------------------------------------------------------------- the ladder


def pumps(**problem: Any) -> dict[str, Any]:
    answers = project(problem={"task": "anomaly-detection", **problem})
    return {"answers": answers, "benchmarks": None, "drift": None}


def test_retired_services_are_one_line_in_the_ladder_of_a_decision() -> None:
    decision = assess(pumps()).decision
    retired = [s for s in closed_services() if s.availability == "end-of-life"
               and "anomaly-detection" in {t for o in s.offers for t in o.tasks}]
    assert len(retired) >= 3
    lines = [o for o in decision["options"] if o.get("group") == "end-of-life"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["status"], line["service"]) == ("rejected", None)
    expected = "Retired: " + ", ".join(
        f"{s.name} (closed {s.closed_on.isoformat()})"  # type: ignore[union-attr]
        for s in sorted(retired, key=lambda s: s.name))
    assert line["reasons"][0] == expected
    assert {m["service"] for m in line["members"]} == {s.id for s in retired}
    assert all(m["status"] == "rejected" for m in line["members"])
    assert not any(o["service"] in {s.id for s in retired} for o in decision["options"])
    # the line names what AWS points to instead
    assert any(r.startswith(f"instead of {retired[0].name}: ") for r in line["reasons"])


def test_grouping_is_presentation_only_verdicts_and_strategies_do_not_move(
        tmp_path: Path) -> None:
    root = copy_rulebase(tmp_path)
    path = root / "knowledge" / "ladder.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["closed_groups"] = {}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    ungrouped = load_rulebase(root)
    for doc_in in (pumps(), pumps(deployment_target="edge"),
                   {"answers": project(problem={"task": "forecasting"}),
                    "benchmarks": None, "drift": None}):
        grouped_decision = assess(doc_in).decision
        rows = assess(doc_in, ungrouped).decision
        assert grouped_decision["verdict"] == rows["verdict"]
        assert grouped_decision["strategy"] == rows["strategy"]
        assert grouped_decision["findings"] == rows["findings"]
        # every option of the ungrouped ladder is there, as a row or inside a line
        def flat(decision: dict[str, Any]) -> list[tuple[Any, ...]]:
            return sorted((m["rung"], m["service"], m["offer"], m["status"])
                          for o in decision["options"]
                          for m in (o.get("members") or [o]))
        assert flat(grouped_decision) == flat(rows)
    separate = [o for o in assess(pumps(), ungrouped).decision["options"]
                if o["service"] and o["service"].startswith("amazon-lookout")]
    assert len(separate) == 3


def test_text_and_html_reports_show_the_retired_line_once() -> None:
    decision = assess(pumps()).model
    line = next(o for o in decision.options
                if (o.model_extra or {}).get("group") == "end-of-life").reasons[0]
    text = render_text(decision)
    flat_text = " ".join(text.split())
    assert flat_text.count(line) == 1
    assert "Amazon Lookout for Vision  " not in text  # no row of its own
    html, _ = render_document(decision, for_pdf=False)
    assert html.count(line) == 2  # the overview row and the option's heading
    assert html.count('class="closed-group"') + html.count('class="service closed-group"') >= 2


# ---------------------------------------------------------------- how current the catalog is


def test_reports_and_rules_list_show_the_catalog_checked_span() -> None:
    oldest, newest = (d.isoformat() for d in CATALOG.checked_range())  # type: ignore[union-attr]
    span = f"{oldest} to {newest}" if oldest != newest else oldest
    result = assess(pumps())
    assert result.decision["catalog"] == {"checked_oldest": oldest, "checked_newest": newest}
    assert f"Service catalog checked {span}" in render_text(result.model)
    html, context = render_document(result.model, for_pdf=False)
    assert ("Service catalog checked", span) in context["audit"]
    assert f"Service catalog checked</dt><dd><code>{span}</code>" in html
    listed = run("rules", "list")
    assert f"Service catalog checked {span}" in listed.output


def test_a_decision_from_before_the_span_was_recorded_still_renders() -> None:
    decision = json.loads(json.dumps(assess(pumps()).decision))
    decision.pop("catalog")
    html, context = render_document(decision, for_pdf=False)
    assert "Service catalog checked" not in html
    assert "Service catalog checked" not in render_text(decision)


def test_rules_services_json_lists_availability_closing_successor_and_dates() -> None:
    result = run("rules", "services", "--format", "json")
    assert result.exit_code == 0
    doc = {s["id"]: s for s in json.loads(result.output)}
    assert set(doc) == {s.id for s in CATALOG.services}
    for service in CATALOG.services:
        entry = doc[service.id]
        assert {"availability", "closed_on", "closed_on_note", "successor", "checked", "tasks",
                "offers", "docs"} <= set(entry)
        assert entry["checked"] == service.checked.isoformat()
        assert entry["tasks"] == sorted({t for o in service.offers for t in o.tasks})
        if service.is_open:
            assert (entry["closed_on"], entry["successor"]) == (None, "")
        else:
            assert entry["closed_on"] and entry["successor"]
        for offer in entry["offers"]:
            assert {"offer", "rung", "method", "runs", "tasks", "cost_tier"} <= set(offer)
    metrics = doc["amazon-lookout-for-metrics"]
    assert (metrics["availability"], metrics["closed_on"]) == ("end-of-life", "2025-10-09")
    assert doc["amazon-forecast"]["closed_on"] == "unknown"
    text = run("rules", "services").output
    assert "closed on 2025-10-09; successor:" in text
    oldest, newest = (d.isoformat() for d in CATALOG.checked_range())  # type: ignore[union-attr]
    assert f"checked {oldest} to {newest}" in text.splitlines()[-1]
