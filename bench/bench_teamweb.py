"""What the project's review state costs the result page: the page with `project_state` (which
reads every assessment of the log to find the project's) against the same page with a fixed
state, in the same run. Usage: bench_teamweb.py [ASSESSMENTS]"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.simplefilter("ignore")

from starlette.testclient import TestClient  # noqa: E402

import engine.web.teampages as pages  # noqa: E402
from engine.api import Sources, assess  # noqa: E402
from engine.audit import open_log  # noqa: E402
from engine.web import Settings, create_app  # noqa: E402


def main(count: int) -> None:
    home = Path(tempfile.mkdtemp())
    with open_log(home) as log:
        for i in range(count):
            answers = {"schema": "mladvisor.answers/1",
                       "project": {"name": f"P{i % 50}", "respondent": "T"},
                       "business": {"problem_statement": f"Problem {i}"}}
            rid = log.append(assess({"answers": answers, "benchmarks": None, "drift": None},
                                    sources=Sources(answers="bench")), None)
    client = TestClient(create_app(Settings(home=home)), base_url="http://127.0.0.1")

    def per_page(k: int = 5) -> float:
        client.get(f"/assessments/{rid}")
        start = time.perf_counter()
        for _ in range(k):
            assert client.get(f"/assessments/{rid}").status_code == 200
        return (time.perf_counter() - start) / k

    with_state = per_page()

    def fixed(web: Any, record: Any) -> dict[str, Any]:
        return {"project_id": "x", "state": "not-reviewed", "state_label": "not reviewed",
                "reviews": [], "latest": record.record_id, "is_latest": True, "count": 1,
                "blockers": []}

    pages.project_state = fixed  # type: ignore[assignment]
    without = per_page()
    print(f"{count} assessments: result page {with_state * 1000:.0f} ms with the project's "
          f"review state, {without * 1000:.0f} ms without (x{with_state / without:.1f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
