"""Same input, same rule base: the same decision bytes, apart from assessment_id."""

from __future__ import annotations

import json
import subprocess
import sys

from engine.api import assess_files
from engine.util.canonical import canonical_bytes
from tests.conftest import EXAMPLES, ROOT


def strip_id(raw: bytes) -> bytes:
    doc = json.loads(raw)
    doc.pop("assessment_id")
    return canonical_bytes(doc)


def test_same_bytes_within_a_process() -> None:
    a = assess_files(EXAMPLES / "support-ticket-routing.yaml")
    b = assess_files(EXAMPLES / "support-ticket-routing.yaml")
    assert a.assessment_id != b.assessment_id
    assert strip_id(a.decision_json) == strip_id(b.decision_json)


def test_same_bytes_across_processes() -> None:
    def once() -> bytes:
        out = subprocess.run(
            [sys.executable, "-m", "engine.cli", "assess",
             str(EXAMPLES / "support-ticket-routing.yaml"),
             "--benchmarks", str(EXAMPLES / "evidence" / "ticket-benchmarks.csv"),
             "--format", "json", "--no-record"],
            capture_output=True, cwd=ROOT, check=True).stdout
        return strip_id(out)

    assert once() == once()


def test_input_hash_ignores_file_names_but_not_content(tmp_path) -> None:
    source = (EXAMPLES / "review-sentiment.yaml").read_text()
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text(source.replace("800", "801"))
    original = assess_files(EXAMPLES / "review-sentiment.yaml").decision["input_sha256"]
    assert assess_files(tmp_path / "a.yaml").decision["input_sha256"] == original
    assert assess_files(tmp_path / "b.yaml").decision["input_sha256"] != original


def test_assessment_id_carries_the_time() -> None:
    from datetime import UTC, datetime, timedelta

    from engine.ids import timestamp_of

    before = datetime.now(UTC)
    decision = assess_files(EXAMPLES / "review-sentiment.yaml").decision
    after = datetime.now(UTC)
    when = timestamp_of(decision["assessment_id"])
    assert when is not None
    # Bracketed by the clock around the call, not "within a minute": no load makes it fail.
    # The id keeps whole milliseconds, hence the one-millisecond allowance below `before`.
    assert before - timedelta(milliseconds=1) <= when <= after


def test_threads_queue_for_the_engine_and_get_their_own_decisions() -> None:
    """A web server calls assess from worker threads: each must get its own case's decision."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["support-ticket-routing.yaml", "churn-idea.yaml", "invoice-approval-rules.yaml",
             "policy-assistant.yaml"] * 6
    expected = {name: strip_id(assess_files(EXAMPLES / name).decision_json) for name in set(names)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: (n, assess_files(EXAMPLES / n).decision_json), names))
    for name, raw in results:
        assert strip_id(raw) == expected[name], name
