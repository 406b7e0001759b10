"""Benchmark projects and reviews over a real log: the portfolio, one project's history, and
review appends, each against a baseline measured in the same run.

- portfolio / history: against `AuditLog.list()` over the same log (the existing listing,
  which also reads and parses every record), as a ratio;
- review appends: against report-event appends (`append_report`, the other small event in the
  chain), both durable (one transaction and fsync each), as a ratio;
- verify: the whole log with its reviews, against the same log before the reviews were added
  (per record).

Records are real decisions of the examples, assessed once by the engine and appended under
fresh ids and project names (PROJECTS projects, several assessments each), so their size is
what `assess` writes.

    python bench/bench_projects.py            # 3,000 assessments, 300 projects
    python bench/bench_projects.py --quick    # 400 assessments, 40 projects
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLES = ["churn-idea.yaml", "support-ticket-routing.yaml", "fraud-deployed.yaml",
            "review-sentiment.yaml", "camera-trap-edge.yaml"]


@dataclass
class Copy:
    decision: dict[str, Any]
    input_doc: dict[str, Any]
    rulebase: Any


def _timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """The best of `repeat` runs (the machine is shared: the minimum is the least noisy)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    total, projects = (400, 40) if args.quick else (3000, 300)

    from engine.api import assess_files
    from engine.audit import open_log
    from engine.audit.review import all_reviews, record_review
    from engine.projects.history import history
    from engine.projects.portfolio import portfolio

    assessed = [assess_files(ROOT / "examples" / name) for name in EXAMPLES]
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:  # on disk, not tmpfs: real fsyncs
        home = Path(tmp)
        log = open_log(home)
        ids = []
        start = time.perf_counter()
        for n in range(total):
            source = assessed[n % len(assessed)]
            decision = copy.deepcopy(source.decision)
            decision["assessment_id"] = str(uuid.uuid4())
            doc = copy.deepcopy(source.input_doc)
            doc["answers"]["project"]["name"] = f"Project {n % projects}"
            ids.append(log.append(Copy(decision, doc, source.rulebase)))
        append_s = time.perf_counter() - start
        print(f"log: {total} assessments of {projects} projects appended in {append_s:.1f} s"
              f" ({total / append_s:.0f}/s)")
        verify_before, _ = _timed(lambda: log.verify(saved=False), 1)

        events = max(50, total // 10)
        start = time.perf_counter()
        for n in range(events):
            log.append_report(ids[n], "html", "0" * 64)
        report_s = time.perf_counter() - start
        start = time.perf_counter()
        for n in range(events):
            record_review(log, ids[n], "comment" if n % 3 else "request-changes",
                          f"Reviewer {n % 7}", "architect", f"note {n}")
        review_s = time.perf_counter() - start
        print(f"review appends: {events / review_s:.0f}/s against report events"
              f" {events / report_s:.0f}/s: {review_s / report_s:.2f}x the time (a review"
              " also reads its assessment, to count the blockers, and reads itself back)")

        list_s, listed = _timed(lambda: log.list())
        portfolio_s, rows = _timed(lambda: portfolio(log))
        history_s, found = _timed(lambda: history(log, "project-1"))
        reviews_s, _ = _timed(lambda: all_reviews(log))
        assert len(rows) == projects and len(listed) == total
        print(f"audit list (baseline): {list_s:.2f} s for {len(listed)} assessments")
        print(f"portfolio: {portfolio_s:.2f} s for {len(rows)} projects:"
              f" {portfolio_s / list_s:.2f}x the listing")
        print(f"history of one project ({len(found.milestones)} assessments, with diffs):"
              f" {history_s:.2f} s: {history_s / list_s:.2f}x the listing")
        print(f"all reviews ({events}): {reviews_s:.3f} s")
        verify_after, summary = _timed(lambda: log.verify(saved=False), 1)
        print(f"verify: {verify_after:.2f} s for {summary['records']} records"
              f" ({verify_after / summary['records'] * 1e6:.0f} us/record) against"
              f" {verify_before:.2f} s for {total} before the events"
              f" ({verify_before / total * 1e6:.0f} us/record)")
        log.close()


if __name__ == "__main__":
    main()
