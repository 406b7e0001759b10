"""The cost of estimating every option's cost: 10,000 generated cases, each priced for every
catalog offer of its task, against whole assessments of the same cases measured in the same run.

Target (issue 12): estimating must not slow `assess` noticeably. The figure is the share of an
assessment's time the estimates take; nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import generated_answers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 cases instead of 10,000")
    args = parser.parse_args()
    from engine.api import assess
    from engine.model.answers import parse_answers
    from engine.rulebase.facts import build_facts
    from engine.rulebase.knowledge import option_estimate
    from engine.rulebase.loading import default_rulebase

    rb = default_rulebase()
    knowledge = rb.knowledge
    count = 1_000 if args.quick else 10_000
    docs = generated_answers(count, seed=11)
    cases = []
    for doc in docs:
        case, _ = build_facts(parse_answers(doc).answers, None, None)
        cases.append(case)
    offers = {}  # task -> [(offer id, usual runs)]
    for service in knowledge.catalog.services:
        for offer in service.offers:
            for task in offer.tasks:
                offers.setdefault(task, []).append((offer.id, offer.runs[0]))

    priced = estimates = 0
    start = time.perf_counter()
    for case in cases:
        for offer_id, runs in offers.get(case.get("problem.task"), []):
            estimates += 1
            if option_estimate(knowledge, offer_id, runs, case, 0).cost is not None:
                priced += 1
    estimate_s = time.perf_counter() - start

    sample = docs[: max(100, count // 50)]
    start = time.perf_counter()
    for doc in sample:
        assess({"answers": doc}, rb)
    assess_s = (time.perf_counter() - start) / len(sample) * count

    print(f"cases: {count:,}; option estimates: {estimates:,} ({priced:,} priced, "
          f"{estimates / count:.1f} per case)")
    print(f"estimating every option: {estimate_s:.2f} s ({estimate_s / count * 1e6:.0f} us a case)")
    print(f"whole assessments of the same cases: {assess_s:.1f} s "
          f"({assess_s / count * 1e3:.2f} ms a case, from {len(sample)} measured)")
    print(f"estimates as a share of an assessment: {estimate_s / assess_s:.1%}")


if __name__ == "__main__":
    main()
