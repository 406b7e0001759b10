"""Compliance replays a recorded decision in the browser's page: the same re-run as `mladvisor
audit replay ID`, in the assessment worker, with the recorded rule base and today's.

Real audit log, real rule engine in the real worker process, the app through TestClient."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.paths import data_root
from engine.web import Settings, create_app
from engine.web.logpages import replay_view
from tests.test_web_team import client_for, login, make_accounts, record_one


def _app(home: Path) -> object:
    make_accounts(home, "compliance")
    return create_app(Settings(home=home))


def test_compliance_replays_a_decision_that_is_reproduced(home: Path) -> None:
    record_id = record_one(home)
    app = _app(home)
    try:
        client = client_for(app)
        login(client, "compliance")
        result = client.get(f"/assessments/{record_id}")
        assert f'href="/assessments/{record_id}/replay"' in result.text
        page = client.get(f"/assessments/{record_id}/replay")
        assert page.status_code == 200, page.text[:300]
        assert "Reproduced." in page.text and "No change" in page.text
        assert "Not reproduced" not in page.text
        missing = client.get("/assessments/0192f7a0-0000-7000-8000-000000000000/replay")
        assert missing.status_code == 404
    finally:
        app.state.web.assessor.close()  # type: ignore[attr-defined]


def test_the_page_names_what_todays_rule_base_would_change(home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    record_id = record_one(home)
    edited = tmp_path / "rulebase"
    for part in ("rules", "knowledge", "reports"):
        shutil.copytree(data_root() / part, edited / part)
    rules = edited / "rules" / "business-goal.yaml"
    text = rules.read_text()
    marker = ("  - id: business-goal.value-unknown\n    phase: business-goal\n"
              "    severity: recommendation")
    assert marker in text
    rules.write_text(text.replace(marker, marker.replace("recommendation", "warning")))
    monkeypatch.setenv("MLADVISOR_RULEBASE", str(edited))  # the worker starts with it
    app = _app(home)
    try:
        client = client_for(app)
        login(client, "compliance")
        page = client.get(f"/assessments/{record_id}/replay")
        assert page.status_code == 200, page.text[:300]
        assert "Reproduced." in page.text  # its own rule base still gives the recorded one
        assert "would change this decision" in page.text
        assert ("finding severity of business-goal.value-unknown: recommendation -&gt; warning"
                in page.text)
        assert ("because rule business-goal.value-unknown was modified in the current rule base"
                in page.text)
    finally:
        app.state.web.assessor.close()  # type: ignore[attr-defined]


def test_replay_view_keeps_six_reasons_and_counts_the_rest() -> None:
    change = {"what": "verdict", "from": "proceed", "to": "not-ready",
              "why": [f"rule r{i} (changed)" for i in range(9)]}
    view = replay_view({"record_id": "x", "reproduced": False, "differences": ["verdict"],
                        "engine": {"recorded": "1", "replayed": "2"},
                        "current": {"unchanged": False, "changes": [change]}})
    assert view["changes"] == [{"text": "verdict proceed -> not-ready",
                                "why": [f"rule r{i} (changed)" for i in range(6)], "more": 3}]
    assert view["engines_differ"] is True
