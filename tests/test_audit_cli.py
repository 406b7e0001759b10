"""`mladvisor audit ...` end to end through the real CLI entry point."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import rfc8785
from click.testing import CliRunner

from engine.audit import open_log
from engine.cli import cli
from tests.audit_rows import make_plain
from tests.audit_standin import make_assessment


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["audit", *args], catch_exceptions=False)


def fill(n: int = 3) -> list[str]:
    log = open_log()
    ids = [log.append(make_assessment(i, respondent=f"Person {i}")) for i in range(n)]
    log.close()
    return ids


def test_list_text_and_json(home: Path, backend: str) -> None:
    ids = fill()
    result = run("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and ids[0] in lines[0] and "Person 0" in lines[0]
    rows = json.loads(run("list", "--format", "json", "--limit", "1").stdout)
    assert [r["record_id"] for r in rows] == [ids[2]]


def test_show_json_and_text(home: Path, backend: str) -> None:
    ids = fill()
    record = json.loads(run("show", ids[1][:10]).stdout)
    assert record["record_id"] == ids[1] and record["decision"]["assessment_id"] == ids[1]
    assert record["input"]["answers"]["project"]["respondent"] == "Person 1"
    text = run("show", ids[1], "--format", "text").stdout
    assert "verdict     proceed-with-conditions" in text and "Person 1" in text


def test_show_unknown_id_exits_2_with_one_line(home: Path, backend: str) -> None:
    fill(1)
    result = run("show", "does-not-exist")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "record_id" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_ok_and_exit_3_on_tamper(home: Path) -> None:
    ids = fill(4)
    result = run("verify")
    assert result.exit_code == 0 and result.stdout.startswith("ok: 4 records")
    make_plain(home / "audit.sqlite")  # bodies SQL's replace() can edit (compressed ones: below)
    assert run("verify").exit_code == 0
    conn = sqlite3.connect(home / "audit.sqlite")
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET body = replace(body, 'Person 2', 'Person X') WHERE seq=3")
    conn.commit()
    conn.close()
    result = run("verify")
    assert result.exit_code == 3
    assert f"record 3 ({ids[2]})" in result.stderr
    assert result.stderr.count("\n") == 1
    result = run("verify", "--format", "json")
    assert result.exit_code == 3
    problems = json.loads(result.stdout)["problems"]
    assert problems[0].startswith(f"record 3 ({ids[2]})")


def test_checkpoint_then_truncation_is_caught_by_default(home: Path) -> None:
    fill(5)
    first = json.loads(run("checkpoint").stdout)
    assert first["count"] == 5 and len(first["head_hash"]) == 64
    assert list((home / "checkpoints").glob("checkpoint-*.json"))
    conn = sqlite3.connect(home / "audit.sqlite")
    conn.execute("DROP TRIGGER records_no_delete")
    conn.execute("DELETE FROM records WHERE seq > 3")
    conn.execute("UPDATE sqlite_sequence SET seq = 3 WHERE name = 'records'")  # hide traces
    conn.commit()
    conn.close()
    assert run("verify", "--no-saved").exit_code == 3  # the dropped trigger still shows
    result = run("verify")
    assert result.exit_code == 3 and "truncated" in result.stderr


def test_checkpoint_file_option(home: Path, tmp_path: Path, backend: str) -> None:
    fill(2)
    head = tmp_path / "head.json"
    assert run("checkpoint", "--no-save", "--out", str(head)).exit_code == 0
    result = run("verify", "--checkpoint", str(head))
    assert result.exit_code == 0 and "matches 2 checkpoint(s)" in result.stdout  # + head
    bad = json.loads(head.read_text())
    bad["count"] = 9
    head.write_text(json.dumps(bad))
    result = run("verify", "--checkpoint", str(head))
    assert result.exit_code == 3 and "vouches for 9" in result.stderr


def test_bad_checkpoint_file_fails_verification_exit_3(home: Path, tmp_path: Path) -> None:
    fill(1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something-else"}')
    result = run("verify", "--checkpoint", str(bad))
    assert result.exit_code == 3 and "schema" in result.stderr


def test_keygen_signs_later_records_and_verify_uses_the_trusted_key(
        home: Path, backend: str) -> None:
    fill(1)
    result = run("keygen")
    assert result.exit_code == 0 and result.stdout.startswith("key ")
    assert run("keygen").exit_code == 2  # refuses to replace without --force
    fill(1)
    result = run("verify")
    assert result.exit_code == 0 and "1 signed (keys trusted)" in result.stdout
    assert run("verify", "--require-signatures").exit_code == 3


def test_export_jsonl_is_verifiable_and_masking_hides_the_respondent(
        home: Path, backend: str) -> None:
    fill(3)
    lines = [json.loads(x) for x in run("export").stdout.splitlines()]
    assert len(lines) == 3
    prev = "0" * 64
    for line in lines:
        assert line["prev_hash"] == prev
        digest = hashlib.sha256(prev.encode() + rfc8785.dumps(line["record"])).hexdigest()
        assert digest == line["entry_hash"]
        prev = line["entry_hash"]
    masked = run("export", "--mask").stdout
    assert "Person 1" not in masked and "[masked]" in masked
    assert json.loads(masked.splitlines()[1])["record"]["input"]["answers"]["project"][
        "name"] == "Project 1"


def test_export_csv(home: Path, tmp_path: Path, backend: str) -> None:
    ids = fill(2)
    out = tmp_path / "log.csv"
    assert run("export", "--format", "csv", "--mask", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["record_id"] for r in rows] == ids
    assert rows[0]["respondent"] == "[masked]" and rows[0]["verdict"] == \
        "proceed-with-conditions"
    assert "Person 0" not in out.read_text()
    assert json.loads(rows[0]["decision"])["assessment_id"] == ids[0]


def test_masking_reads_personal_marks_from_the_questionnaire(tmp_path: Path) -> None:
    from engine.audit.export import mask_record, personal_paths

    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "questionnaire.yaml").write_text(
        "sections:\n  - questions:\n      - path: team.lead\n        personal: true\n"
        "      - path: project.name\n")
    paths = personal_paths(knowledge)
    assert paths == ["project.respondent", "account.name", "review.user", "team.lead"]
    record = {"respondent": "Ann", "input": {"answers": {"team": {"lead": "Bo Smith"},
                                                         "project": {"name": "P"}}},
              "decision": {"findings": [{"facts": {"team.lead": "Bo Smith"}}],
                           "note": "Bo Smith"}}
    masked = mask_record(record, paths)
    assert masked["input"]["answers"]["team"]["lead"] == "[masked]"
    assert masked["decision"]["findings"][0]["facts"]["team.lead"] == "[masked]"
    assert masked["decision"]["note"] == "[masked]"
    assert masked["input"]["answers"]["project"]["name"] == "P"
    assert record["input"]["answers"]["team"]["lead"] == "Bo Smith"  # a copy
    assert personal_paths(tmp_path / "nowhere") == ["project.respondent", "account.name",
                                                    "review.user"]


def test_replay_needs_ids_or_all(home: Path) -> None:
    result = run("replay")
    assert result.exit_code == 2 and "--all" in result.stderr


def test_help_has_examples() -> None:
    for command in ("list", "show", "verify", "replay", "export", "checkpoint", "keygen",
                    "report"):
        result = run(command, "-h")
        assert result.exit_code == 0 and "Example:" in result.stdout, command


def test_verify_an_export_on_its_own(home: Path, tmp_path: Path, backend: str) -> None:
    run("keygen")
    fill(4)
    export = tmp_path / "log.jsonl"
    assert run("export", "--out", str(export)).exit_code == 0
    result = run("verify", "--export", str(export))
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 4 exported records") and "4 of 4 signatures" in \
        result.stdout
    lines = export.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["record"]["respondent"] = "Someone Else"
    lines[2] = json.dumps(edited)
    export.write_text("\n".join(lines) + "\n")
    result = run("verify", "--export", str(export))
    assert result.exit_code == 3 and "record 3" in result.stderr and "edited" in result.stderr
    del lines[2]
    lines[1:2] = []  # now records 1 and 4 only: a gap, each line still checks
    export.write_text("\n".join(lines) + "\n")
    result = run("verify", "--export", str(export), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["gaps"] == 1
    masked = tmp_path / "masked.jsonl"
    run("export", "--mask", "--out", str(masked))
    assert run("verify", "--export", str(masked)).exit_code == 2
