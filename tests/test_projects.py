"""Projects from the audit log: ids, history with diffs and review state, and the portfolio
(text, CSV, JSON), through the real CLI on real SQLite logs."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.audit import open_log
from engine.errors import InputError
from engine.projects.history import history
from engine.projects.ids import project_of, slugify
from engine.projects.portfolio import portfolio
from tests.review_flow import answers, assess, blockers, run


def test_slugify_and_explicit_ids() -> None:
    assert slugify("Support ticket routing") == "support-ticket-routing"
    assert slugify("  Détection  d'anomalies (v2) ") == "detection-d-anomalies-v2"
    assert slugify("客服") == slugify("客服") != slugify("工单")
    assert slugify("客服").startswith("project-")
    assert slugify("") == "unnamed"
    assert len(slugify("x" * 300)) == 64
    assert project_of({"project": {"name": "Churn", "id": "churn-2026"}}) == (
        "churn-2026", "Churn")
    assert project_of({"project": {"name": "Churn"}}) == ("churn", "Churn")


def test_project_id_is_optional_and_validated(tmp_path: Path, home: Path) -> None:
    doc = answers("churn-idea.yaml", **{"project.id": "Not A Slug"})
    path = tmp_path / "bad.yaml"
    import yaml

    path.write_text(yaml.safe_dump(doc))
    result = run("assess", str(path))
    assert result.exit_code == 2 and "project.id" in result.stderr
    assert result.stderr.count("\n") == 1
    decision = assess(tmp_path, answers("churn-idea.yaml"))
    assert "id" not in decision["input"]["answers"]["project"]  # absent, not null
    assert "project.id" not in decision["input"]["defaulted"]
    schema = json.loads(run("schema", "answers").stdout)
    assert "id" in json.dumps(schema["$defs"]["Project"]["properties"])


def test_history_ties_assessments_and_tracks_review_state(
        tmp_path: Path, home: Path, backend: str) -> None:
    first = assess(tmp_path, answers("churn-idea.yaml"), "a.yaml")
    other = assess(tmp_path, answers("support-ticket-routing.yaml"), "b.yaml")
    run("review", first["assessment_id"], "request-changes", "--as", "Ada",
        "--comment", "Agree a KPI first")
    renamed = answers("churn-idea.yaml", **{"project.name": "Churn (renamed)",
                                             "project.id": "subscriber-churn",
                                             "business.objective_measurable": True,
                                             "business.kpi": "monthly churn rate"})
    second = assess(tmp_path, renamed, "c.yaml")
    with open_log(create=False) as log:
        found = history(log, "subscriber-churn")
        assert [m.record_id for m in found.milestones] == [first["assessment_id"],
                                                           second["assessment_id"]]
        assert found.name == "Churn (renamed)" and found.state == "re-assessed"
        change = found.milestones[1].changes
        assert change is not None
        assert {c["path"] for c in change["answers"]} >= {"business.objective_measurable",
                                                          "business.kpi", "project.name"}
        removed = {f["rule"] for f in change["findings"]["removed"]}
        assert removed == set(blockers(first)) - set(blockers(second))
        assert found.milestones[0].reviews[0].action == "request-changes"
        # by one of its assessments' ids (a prefix) as well
        assert history(log, second["assessment_id"][:13]).project_id == "subscriber-churn"
        with pytest.raises(InputError) as error:
            history(log, "no-such-project")
        assert "subscriber-churn" in str(error.value)
    assert other["assessment_id"] not in run("project", "subscriber-churn").stdout
    text = run("project", "subscriber-churn").stdout
    assert "re-assessed, awaiting review" in text and "answers changed" in text
    run("review", second["assessment_id"], "approve", "--as", "Ada", "--comment", "ok",
        "--justification", "pilot on exported data")
    data = json.loads(run("project", "subscriber-churn", "--format", "json").stdout)
    assert data["review_state"] == "approved" and len(data["assessments"]) == 2
    assert data["assessments"][1]["reviews"][0]["override"]["justification"]


def test_portfolio_sorts_blockers_and_stale_first(tmp_path: Path, home: Path, backend: str) -> None:
    routing = assess(tmp_path, answers("support-ticket-routing.yaml"), "r.yaml")
    churn = assess(tmp_path, answers("churn-idea.yaml"), "c.yaml")
    fraud = assess(tmp_path, answers("fraud-deployed.yaml"), "f.yaml")
    run("review", routing["assessment_id"], "approve", "--as", "Ada", "--comment", "go")
    with open_log(create=False) as log:
        later = datetime.now(UTC) + timedelta(days=10)
        rows = portfolio(log, now=later)
    assert rows[0].project_id == "subscriber-churn"  # open blockers first
    assert rows[0].blockers == blockers(churn) and rows[0].cost_low_usd_per_month is None
    # then the stalest: routing was assessed before fraud
    assert [r.project_id for r in rows[1:]] == ["support-ticket-routing", "card-fraud-scoring"]
    assert all(r.age_days == 10 for r in rows)
    by_id = {r.project_id: r for r in rows}
    assert by_id["support-ticket-routing"].review_state == "approved"
    assert by_id["support-ticket-routing"].reviewed_by == "Ada"
    assert by_id["card-fraud-scoring"].review_state == "not-reviewed"
    selected = next(o for o in fraud["options"] if o["status"] == "selected")
    assert by_id["card-fraud-scoring"].cost_low_usd_per_month == pytest.approx(
        selected["cost"]["low_usd_per_month"])
    assert by_id["card-fraud-scoring"].expected_value_usd_per_month == \
        fraud["input"]["answers"]["business"]["expected_value_usd_per_month"]

    text = run("portfolio").stdout
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["PROJECT", "VERDICT", "STRATEGY", "BLOCKERS"]
    assert lines[1].startswith("subscriber-churn") and "not-ready" in lines[1]
    assert f"subscriber-churn: {', '.join(blockers(churn))}" in text
    table = csv.DictReader(io.StringIO(run("portfolio", "--format", "csv").stdout))
    rows_csv = list(table)
    assert [r["project_id"] for r in rows_csv] == [r.project_id for r in rows]
    assert rows_csv[0]["blockers"] == ";".join(blockers(churn))
    assert rows_csv[0]["blocker_count"] == str(len(blockers(churn)))
    doc = json.loads(run("portfolio", "--format", "json").stdout)
    assert doc["schema"] == "mladvisor.portfolio/1"
    assert doc["projects"][0]["blockers"] == blockers(churn)
    labels = {p["project_id"]: p["review_state_label"] for p in doc["projects"]}
    assert labels == {"subscriber-churn": "not reviewed", "card-fraud-scoring": "not reviewed",
                      "support-ticket-routing": "approved"}


def test_portfolio_without_a_log_says_so(home: Path, backend: str) -> None:
    result = run("portfolio")
    assert result.exit_code == 0 and result.stdout.startswith("no projects")
    assert json.loads(run("portfolio", "--format", "json").stdout)["projects"] == []
    assert not (home / "audit.sqlite").exists()
    result = run("project", "anything")
    assert result.exit_code == 2 and "nothing recorded" in result.stderr


def test_portfolio_csv_cells_cannot_run_as_formulas(tmp_path: Path, home: Path) -> None:
    assess(tmp_path, answers("churn-idea.yaml", **{"project.name": "=HYPERLINK(1)"}))
    text = run("portfolio", "--format", "csv").stdout
    assert ",'=HYPERLINK(1)," in text
