"""Where command output goes: --out never destroys what a path named (a device, a FIFO, a
symlink's target), follows the umask, fails before any work and before any audit record;
text output shows control characters from answers escaped; the small things a new user hits."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import cli
from tests.conftest import EXAMPLE_ANSWERS, EXAMPLES, ROOT

TICKETS = EXAMPLES / "support-ticket-routing.yaml"
SAMPLE = Path(__file__).parent / "fixtures" / "report" / "decision-sample.json"


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


# Commands that take --out, each writing JSON or text we can recognise; none records.
WRITERS = {
    "assess": (["assess", str(TICKETS), "--format", "json", "--no-record"], b'"schema"'),
    "report": (["report", str(SAMPLE), "--format", "html", "--no-record"], b"<!DOCTYPE html>"),
    "rules list": (["rules", "list"], b"rules (rule base"),
    "rules services": (["rules", "services", "--format", "json"], b'"offers"'),
}


@pytest.fixture(params=sorted(WRITERS))
def writer(request: pytest.FixtureRequest) -> tuple[list[str], bytes]:
    return WRITERS[request.param]


# ------------------------------------------------------------------ --out and what is there


def test_out_through_a_symlink_replaces_the_target_and_keeps_the_link(
        tmp_path: Path, writer: tuple[list[str], bytes]) -> None:
    args, marker = writer
    target = tmp_path / "real" / "report.out"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.out"
    link.symlink_to(target)
    result = run(*args, "--out", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert marker in target.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.out"]  # no temp left


def test_out_through_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    assert run(*WRITERS["assess"][0], "--out", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads((tmp_path / "made.json").read_text())["verdict"]


def test_out_to_a_fifo_streams_to_its_reader(tmp_path: Path,
                                             writer: tuple[list[str], bytes]) -> None:
    args, marker = writer
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(*args, "--out", str(fifo))
    reader.join(60)
    assert result.exit_code == 0, result.output
    assert received and marker in received[0]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not a regular file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.fixture()
def char_device(tmp_path: Path) -> Path:
    """A private /dev/null (same major/minor) where we may, so a regression cannot destroy the
    machine's; the real /dev/null where we may not create one (and cannot replace it either)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        with open(node, "wb"):
            pass
    except OSError:
        if os.geteuid() == 0:  # root could replace the real one if this regressed
            pytest.fail("as root this test needs a private character device (mknod c 1 3 under "
                        f"{tmp_path}) so that a regression cannot replace /dev/null; this system "
                        "refuses it: allow mknod on the temporary folder, or run as a user")
        return Path("/dev/null")
    return node


def test_out_to_a_character_device_writes_into_it_and_keeps_it(
        char_device: Path, writer: tuple[list[str], bytes]) -> None:
    args, _ = writer
    before = os.stat(char_device)
    result = run(*args, "--out", str(char_device))
    assert result.exit_code == 0, result.output
    after = os.stat(char_device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert [p.name for p in char_device.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_out_dash_is_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     writer: tuple[list[str], bytes]) -> None:
    args, marker = writer
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--out", "-")
    assert result.exit_code == 0
    assert marker in result.stdout_bytes
    assert list(tmp_path.iterdir()) == []  # no file called "-"


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "missing directory":
        return tmp_path / "no" / "such" / "dir" / "r.out"
    if kind == "parent is a file":
        (tmp_path / "file").write_text("x")
        return tmp_path / "file" / "r.out"
    if kind == "existing directory":
        (tmp_path / "adir").mkdir()
        return tmp_path / "adir"
    if kind == "symlink loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        return tmp_path / "a"
    assert kind == "proc"  # creating a file here fails even for root
    return Path("/proc/mladvisor-cannot-write-here/r.out")


# Read-only files and directories are not in the list: the tests run as root, who writes them.
UNWRITABLE = ["missing directory", "parent is a file", "existing directory", "symlink loop",
              "proc"]


@pytest.mark.parametrize("kind", UNWRITABLE)
@pytest.mark.parametrize("fmt", ["json", "html", "text"])
def test_unwritable_out_is_one_line_exit_2_and_records_nothing(
        tmp_path: Path, isolated_home: Path, kind: str, fmt: str) -> None:
    out = _unwritable(tmp_path, kind)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = run("assess", TICKETS, "--format", fmt, "--out", out)  # recording is on
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert str(out) in message
    assert not (isolated_home / "audit.sqlite").exists()  # no record of a report never written
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("kind", ["missing directory", "existing directory", "proc"])
def test_unwritable_out_of_a_recorded_report_notes_nothing(tmp_path: Path, kind: str) -> None:
    import engine.audit as audit
    import tests.audit_standin as standin

    with audit.open_log() as log:
        record_id = log.append(standin.make_assessment(1))
    out = _unwritable(tmp_path, kind)
    result = run("report", record_id, "--format", "html", "--out", out)
    assert result.exit_code == 2 and str(out) in result.output
    with audit.open_log() as log:
        assert log.reports_for(record_id) == []


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_out_files_follow_the_umask(tmp_path: Path, mask: int, expected: int,
                                        writer: tuple[list[str], bytes]) -> None:
    args, _ = writer
    out = tmp_path / "r.out"
    with umask(mask):
        result = run(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == expected


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    with umask(0o022):
        assert run(*WRITERS["assess"][0], "--out", str(out)).exit_code == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640 and out.read_text() != "old"


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_a_secret_gets_exactly_its_mode(tmp_path: Path, mask: int) -> None:
    from engine.util.files import atomic_write

    key = tmp_path / "key"
    with umask(mask):
        atomic_write(key, b"secret", mode=0o600)
        atomic_write(tmp_path / "public", b"x")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "public").st_mode) == 0o666 & ~mask


# ------------------------------------------------------------------ binary output


def _on_a_terminal(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run with standard output on a pseudo-terminal, as a person at a shell would."""
    import pty

    leader, follower = pty.openpty()
    try:
        return subprocess.run([sys.executable, "-m", "engine", *args], stdout=follower,
                              stderr=subprocess.PIPE, cwd=cwd, timeout=300, check=False)
    finally:
        os.close(follower)
        os.close(leader)


@pytest.mark.parametrize("args", [
    ["assess", str(TICKETS), "--format", "pdf", "--no-record"],
    ["report", str(SAMPLE), "--format", "pdf", "--no-record"],
], ids=["assess", "report"])
@pytest.mark.slow
def test_pdf_goes_to_a_redirected_stdout_and_never_to_a_terminal(tmp_path: Path,
                                                                 args: list[str]) -> None:
    target = tmp_path / "r.pdf"
    with target.open("wb") as handle:
        written = subprocess.run([sys.executable, "-m", "engine", *args], stdout=handle,
                                 stderr=subprocess.PIPE, cwd=ROOT, timeout=300, check=False)
    assert written.returncode == 0, written.stderr
    assert target.read_bytes().startswith(b"%PDF-")
    refused = _on_a_terminal(args, ROOT)
    assert refused.returncode == 2
    assert b"--out" in refused.stderr and b"Traceback" not in refused.stderr
    refused = _on_a_terminal([*args, "--out", "-"], ROOT)
    assert refused.returncode == 2


# ------------------------------------------------------------------ control characters


CONTROLS = ["\x1b]0;owned\x07", "\x1b[2J\x1b[H", "\x9b31m", "\x08\x08\x08", "\r", "\u202e",
            "\x00"]


def _evil_answers(tmp_path: Path, control: str) -> Path:
    doc = yaml.safe_load(TICKETS.read_text())
    doc["project"]["name"] = f"Routing {control} name"
    doc["project"]["respondent"] = f"Dana {control}"
    doc["business"]["kpi"] = f"time {control} to respond"
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _acts_on_a_terminal(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 and char not in "\n\t") or 0x7F <= code <= 0x9F or char == "\u202e"


def _accepted(path: Path) -> bool:
    from engine.errors import InputError
    from engine.model.answers import parse_answers, read_document

    try:
        parse_answers(read_document(path), str(path))
    except InputError:
        return False
    return True


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("command", ["assess", "explain", "diff"])
def test_text_output_shows_control_characters_escaped(tmp_path: Path, control: str,
                                                      command: str) -> None:
    answers = _evil_answers(tmp_path, control)
    assert _accepted(answers), "the answers loader refuses this character: nothing to escape"
    args = {"assess": ["assess", answers, "--no-record"],
            "explain": ["explain", answers, "--limit", "1"],
            "diff": ["diff", TICKETS, answers]}[command]
    for out in (None, tmp_path / "out.txt"):
        result = run(*args, *(["--out", out] if out else []))
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8") if out else result.stdout
        assert "Routing" in text
        assert not [c for c in text if _acts_on_a_terminal(c)], repr(text[:200])
        escaped = "".join((f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}")
                          if _acts_on_a_terminal(c) else c for c in control)
        assert escaped in text


def test_json_output_keeps_the_answers_as_typed(tmp_path: Path) -> None:
    answers = _evil_answers(tmp_path, "\x1b[2J")
    result = run("assess", answers, "--no-record", "--format", "json")
    assert json.loads(result.stdout)["project"]["name"] == "Routing \x1b[2J name"


@pytest.mark.parametrize("control", ["\x1b[2J", "\x07", "\x9b1m"])
def test_error_messages_show_control_characters_escaped(tmp_path: Path, control: str) -> None:
    result = run("assess", tmp_path / f"no{control}such.yaml")
    assert result.exit_code == 2
    assert control not in result.output and "such.yaml" in result.output


# ------------------------------------------------------------------ small things


def test_rules_services_lists_the_catalog() -> None:
    from engine.rulebase.loading import default_rulebase

    catalog = default_rulebase().knowledge.catalog
    text = run("rules", "services")
    assert text.exit_code == 0
    listed = json.loads(run("rules", "services", "--format", "json").stdout)
    assert [s["id"] for s in listed] == [s.id for s in catalog.services]
    for service, entry in zip(catalog.services, listed, strict=True):
        assert service.id in text.stdout and service.checked.isoformat() in text.stdout
        assert entry["availability"] == service.availability
        assert entry["checked"] == service.checked.isoformat()
        assert [o["rung"] for o in entry["offers"]] == [o.rung for o in service.offers]
        assert [o["tasks"] for o in entry["offers"]] == [list(o.tasks) for o in service.offers]
        assert [o["offer"] for o in entry["offers"]] == [
            o.id for o in service.offers]


def test_the_command_an_error_suggests_exists(tmp_path: Path) -> None:
    bench = tmp_path / "bench.csv"
    bench.write_text("candidate,rung,service,f1_macro\nx,pre-built,no-such-service,0.9\n")
    result = run("assess", TICKETS, "--benchmarks", bench, "--no-record")
    assert result.exit_code == 2 and "mladvisor rules services" in result.output
    assert run("rules", "services").exit_code == 0


def _answers_files(tmp_path: Path) -> list[Path]:
    files = EXAMPLE_ANSWERS[:3]
    as_json = tmp_path / "answers.json"
    as_json.write_text(json.dumps(yaml.safe_load(TICKETS.read_text())))
    return [*files, as_json]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_report_of_an_answers_file_says_to_assess_it(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "r.out"
    for answers in _answers_files(tmp_path):
        result = run("report", answers, "--format", fmt, "--out", out)
        assert result.exit_code == 2
        message = result.output.strip()
        assert len(message.splitlines()) == 1
        assert "answers file" in message
        assert f"mladvisor assess {answers} --format {fmt}" in message
        assert not out.exists()


def test_ambiguous_id_prefix_is_one_clean_line(tmp_path: Path) -> None:
    import engine.audit as audit
    import tests.audit_standin as standin

    with audit.open_log() as log:
        for n in (1, 2):
            assessment = standin.make_assessment(n)
            assessment.decision["assessment_id"] = f"0badcafe-0000-7000-8000-00000000000{n}"
            log.append(assessment)
    result = run("report", "0badcafe", "--format", "html", "--out", tmp_path / "r.html")
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "0badcafe" in message
    assert not (tmp_path / "r.html").exists()


def test_demo_records_nothing_in_the_users_log() -> None:
    """Every assessment `make demo` runs carries --no-record (a demo is not a decision)."""
    recipe = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={**os.environ, "MAKEFLAGS": ""}).stdout
    runs = [line for line in recipe.splitlines() if "mladvisor assess" in line]
    assert len(runs) >= 2 and all("--no-record" in line for line in runs), runs


# ------------------------------------------------------------------ Ctrl-C in the wizard


CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # the engine of this tree, whatever the cwd


def _sigint_default() -> None:
    """Children of a runner that ignores or blocks SIGINT (a background job; a test runner
    whose other tests left it blocked) would inherit that and never see Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _wait_for(predicate, what: str, limit: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_ctrl_c_in_the_questionnaire_saves_progress_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "answers.yaml"
    partial = tmp_path / "answers.yaml.partial"
    child = subprocess.Popen([sys.executable, "-m", "engine", "questionnaire", "--out",
                              str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=tmp_path, env=CHILD_ENV,
                             preexec_fn=_sigint_default)
    assert child.stdin is not None
    child.stdin.write(b"Ticket routing\n")
    child.stdin.flush()
    _wait_for(partial.exists, "the progress file after the first answer")
    child.send_signal(signal.SIGINT)  # stdin stays open: the wizard is waiting for a line
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    last = stderr.decode().strip().splitlines()[-1]
    assert "Interrupted" in last and str(partial) in last and "--resume" in last
    assert "Traceback" not in stderr.decode() and "<stdin>" not in last
    assert yaml.safe_load(partial.read_text())["project"]["name"] == "Ticket routing"
    assert not out.exists()


def test_ctrl_c_before_any_answer_exits_130_and_saves_nothing(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-m", "engine", "questionnaire"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=tmp_path, env=CHILD_ENV,
                             preexec_fn=_sigint_default)
    assert child.stderr is not None
    first = child.stderr.readline()  # the wizard has started and is about to ask
    assert first
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_ctrl_c_in_any_command_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Here `assess` waits to write its decision to a FIFO nobody reads yet, then gets Ctrl-C.
    (A FIFO as *input* is refused at once: only regular files are read.)"""
    fifo = tmp_path / "decision.json"
    os.mkfifo(fifo)
    child = subprocess.Popen([sys.executable, "-m", "engine", "assess",
                              str(ROOT / "examples" / "support-ticket-routing.yaml"),
                              "--format", "json", "--no-record", "--out", str(fifo)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=tmp_path, env=CHILD_ENV, preexec_fn=_sigint_default)

    def child_is_waiting() -> bool:  # blocked opening the FIFO until a reader comes
        try:
            wchan = Path(f"/proc/{child.pid}/wchan").read_text()
        except OSError:
            return child.poll() is not None
        return wchan == "wait_for_partner" or child.poll() is not None

    try:
        _wait_for(child_is_waiting, "the child to open its output FIFO")
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, stderr
    assert stderr.strip() == b"Interrupted."


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`mladvisor audit export | head -1`: the closed pipe is no traceback, just exit 141."""
    import subprocess
    import sys

    import engine.audit as audit
    import tests.audit_standin as standin

    with audit.open_log() as log:
        for index in range(200):
            log.append(standin.make_assessment(index))
    child = subprocess.Popen([sys.executable, "-m", "engine", "audit", "export"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    child.stdout.close()  # the reader goes away with most of the export unread
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize("args", [
    ["assess"],                                   # a missing argument
    ["assess", "/tmp"],                           # a directory where a file is expected
    ["assess", str(TICKETS), "--format", "xx"],   # a value not in the choices
    ["audit", "verify", "--pubkey", "/no/such/key.pub"],
    ["nosuch"],                                   # an unknown command
])
def test_usage_errors_are_one_line_exit_2(args: list[str]) -> None:
    """The contract's one line, as for every other bad input: not click's usage dump."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "--help" in lines[0]


@pytest.mark.parametrize("content", ["schema: mladvisor.answers/1\nproject: {}\n",
                                     "a: 1\na: 2\n", "[unclosed"])
def test_bad_input_creates_no_audit_log(tmp_path: Path, isolated_home: Path,
                                        content: str) -> None:
    answers = tmp_path / "bad.yaml"
    answers.write_text(content)
    result = run("assess", answers)  # recording is on
    assert result.exit_code == 2
    assert not (isolated_home / "audit.sqlite").exists()
