"""`mladvisor assess`: formats, output files, exit codes and the audit record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.cli import cli
from tests.conftest import EXAMPLES, ROOT

TICKETS = str(EXAMPLES / "support-ticket-routing.yaml")


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_text_summary_names_verdict_strategy_and_blockers() -> None:
    result = run("assess", TICKETS, "--no-record")
    assert result.exit_code == 0
    assert "Verdict:  proceed-with-conditions" in result.output
    assert "Strategy: hosted-custom / amazon-comprehend" in result.output
    assert "The ladder" in result.output
    churn = run("assess", str(EXAMPLES / "churn-idea.yaml"), "--no-record")
    assert "not-ready" in churn.output and "[blocker]" in churn.output


def test_json_follows_the_contract() -> None:
    result = run("assess", TICKETS, "--format", "json", "--no-record")
    decision = json.loads(result.output)
    assert decision["schema"] == "mladvisor.decision/1"
    for key in ("assessment_id", "verdict", "strategy", "findings", "options", "trace",
                "rulebase", "input_sha256"):
        assert key in decision
    assert set(decision["rulebase"]) == {"version", "sha256"}
    for finding in decision["findings"]:
        assert set(finding) >= {"rule", "phase", "severity", "title", "rationale", "facts",
                                "guidance"}
    assert {o["status"] for o in decision["options"]} <= {"selected", "eligible", "rejected",
                                                          "not-evaluated"}
    assert all({"rule", "matched", "asserted"} <= set(t) for t in decision["trace"])


def test_fail_on_blocker_exit_codes() -> None:
    assert run("assess", TICKETS, "--no-record", "--fail-on-blocker").exit_code == 0
    for name in ("churn-idea.yaml", "invoice-approval-rules.yaml"):
        result = run("assess", str(EXAMPLES / name), "--no-record", "--fail-on-blocker")
        assert result.exit_code == 1
        assert run("assess", str(EXAMPLES / name), "--no-record").exit_code == 0


def test_out_writes_the_file_and_records_the_decision(tmp_path: Path, isolated_home: Path) -> None:
    out = tmp_path / "decision.json"
    result = run("assess", TICKETS, "--format", "json", "--out", str(out))
    assert result.exit_code == 0
    decision = json.loads(out.read_text())
    from engine.audit import open_log

    with open_log(isolated_home) as log:
        record = log.get(decision["assessment_id"])
    assert record.decision["verdict"] == decision["verdict"]


def test_no_record_leaves_the_log_alone(isolated_home: Path) -> None:
    run("assess", TICKETS, "--no-record", "--format", "json")
    assert not (isolated_home / "audit.sqlite").exists()


def test_missing_file_and_bad_evidence_are_exit_2() -> None:
    result = CliRunner().invoke(cli, ["assess", "nope.yaml"])
    assert result.exit_code == 2 and "nope.yaml" in result.output
    result = CliRunner().invoke(cli, ["assess", TICKETS, "--benchmarks", TICKETS])
    assert result.exit_code == 2


def test_version_and_help_start_without_heavy_imports() -> None:
    code = ("import sys; from engine.cli import cli; "
            "sys.argv=['mladvisor','--help'];\n"
            "try:\n    cli()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('pandas','sklearn','weasyprint','matplotlib','durable') "
            "if m in sys.modules]; print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert "HEAVY []" in out
    assert "assess" in out


def test_every_command_has_help_with_an_example() -> None:
    from engine.cli import COMMANDS, LazyGroup

    group = cli
    assert isinstance(group, LazyGroup)
    for name in group.list_commands(None):  # type: ignore[arg-type]
        assert name in COMMANDS
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"{name} --help has no Example block"
