"""Small objects shaped like engine.api.Assessment, for tests and the benchmark.

They let the log be exercised (and timed) without running the rule engine; the fields follow
docs/architecture.md so that a record made from them looks like a real one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StandInRuleBase:
    version: str = "standin-1"
    files: dict[str, bytes] = field(default_factory=lambda: {
        "rules/data.yaml": b"rules: []\n", "knowledge/questionnaire.yaml": b"questions: []\n"})

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + self.files[path] + b"\0")
        return digest.hexdigest()


@dataclass
class StandInAssessment:
    decision: dict[str, Any]
    input_doc: dict[str, Any]
    rulebase: Any


def make_assessment(n: int, respondent: str = "Dana Lee, Support Ops",
                    rulebase: Any = None, findings: int = 8) -> StandInAssessment:
    """A decision of realistic size (about 10 KB) whose content depends on `n`."""
    import uuid

    rb = rulebase or StandInRuleBase()
    answers: dict[str, Any] = {"schema": "mladvisor.answers/1",
               "project": {"name": f"Project {n}", "respondent": respondent, "stage": "idea"},
               "business": {"problem_statement": "Route incoming tickets", "kpi": "median time",
                            "objective_measurable": True, "stakeholders_aligned": True,
                            "success_criteria": [{"metric": "f1_macro", "threshold": 0.85,
                                                  "goal": "at-least"}]},
               "problem": {"task": "text-classification", "rules_suffice": False},
               "data": {"available": True, "labeled_examples": 100 + n, "quality": "good"}}
    input_doc = {"answers": answers, "benchmarks": [
        {"candidate": "comprehend", "rung": "pre-built", "f1_macro": 0.71 + n % 7 / 100}],
        "drift": None}
    decision = {
        "schema": "mladvisor.decision/1",
        "assessment_id": str(uuid.uuid4()),
        "verdict": "proceed-with-conditions",
        "strategy": {"rung": "hosted-custom", "service": "amazon-comprehend",
                     "summary": "Train a custom classifier."},
        "findings": [{"rule": f"data.rule-{i}", "phase": "data", "severity": "warning",
                      "title": f"Finding {i}", "rationale": "Because " * 20,
                      "facts": {"data.labeled_examples": 100 + n, "project.respondent":
                                respondent}, "guidance": "data.labels"} for i in range(findings)],
        "options": [{"rung": "pre-built", "service": "amazon-comprehend", "status": "rejected",
                     "reasons": ["f1 below threshold"]}],
        "trace": [{"order": i, "rule": f"data.rule-{i}", "matched": {"case": answers["data"]},
                   "asserted": [f"finding data.rule-{i}"]} for i in range(findings)],
        "rulebase": {"version": rb.version, "sha256": rb.sha256},
        "input_sha256": hashlib.sha256(repr(input_doc).encode()).hexdigest(),
        "engine_version": "0.1.0",
        "project": dict(answers["project"]),
        "input": {"answers": answers, "defaulted": [], "benchmarks": input_doc["benchmarks"],
                  "drift": None},
    }
    return StandInAssessment(decision, input_doc, rb)
