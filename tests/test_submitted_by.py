"""The team account that submits an assessment is recorded in its audit record (the respondent
is what the answers say; the account is who sent them), shown by the result page and `audit
show`, exported (and masked as personal), and absent from records made without accounts.

Real audit log, real worker process and rule engine, the app through TestClient."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from engine.audit import open_log
from engine.cli import cli
from engine.web import Settings, create_app
from tests.audit_standin import make_assessment
from tests.test_web import VALID
from tests.test_web_team import client_for, csrf_of, login, make_accounts


def test_the_submitting_account_is_recorded_and_shown(home: Path) -> None:
    make_accounts(home, "stakeholder")
    app = create_app(Settings(home=home))
    try:
        client = client_for(app)
        login(client, "stakeholder")
        sent = client.post("/assess", data={"csrf_token": csrf_of(client, "/"), **VALID})
        assert sent.status_code == 303, sent.text[:300]
        record_id = sent.headers["location"].rsplit("/", 1)[1]
        page = client.get(f"/assessments/{record_id}")
        assert 'submitted by <span id="submitted-by">stakeholder (stakeholder)</span>' in page.text
    finally:
        app.state.web.assessor.close()  # type: ignore[attr-defined]
    with open_log(home, create=False) as log:
        record = log.get(record_id)
        assert record.account == {"name": "stakeholder", "role": "stakeholder"}
        assert log.verify()["records"] == 1  # the member is hashed and signed like the rest
    shown = CliRunner().invoke(cli, ["audit", "show", record_id, "--format", "text"],
                               env={"MLADVISOR_HOME": str(home)})
    assert shown.exit_code == 0, shown.output
    assert "submitted   by account stakeholder (stakeholder)" in shown.output


def test_records_without_accounts_have_no_account_member(home: Path) -> None:
    with open_log(home) as log:
        record = log.get(log.append(make_assessment(1)))
    assert record.account is None and "account" not in record.body


def test_exports_carry_the_account_and_mask_its_name(home: Path) -> None:
    with open_log(home) as log:
        log.append(make_assessment(1), account={"name": "dana.k", "role": "stakeholder"})
        plain, masked, table = io.StringIO(), io.StringIO(), io.StringIO()
        log.export(plain, "jsonl")
        log.export(masked, "jsonl", mask=True)
        log.export(table, "csv")
    assert json.loads(plain.getvalue())["record"]["account"] == {"name": "dana.k",
                                                                "role": "stakeholder"}
    assert "dana.k" not in masked.getvalue()
    assert json.loads(masked.getvalue())["record"]["account"]["role"] == "stakeholder"
    row = next(csv.DictReader(io.StringIO(table.getvalue())))
    assert (row["account_name"], row["account_role"]) == ("dana.k", "stakeholder")
