"""Run every rule's examples, the way `opa test` runs a policy's tests.

An example overrides the rule base's baseline answers, optionally adds evidence, and states
whether the rule fires (and, optionally, the verdict and strategy that follow). The same run also
checks that the Python condition evaluator agrees with durable_rules on which rules fire.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.api import Assessment, Sources, assess
from engine.rulebase import conditions
from engine.rulebase.inference import plain
from engine.rulebase.loading import DERIVED_TYPES, Example, Rule, RuleBase
from engine.util import dotted


@dataclass
class ExampleResult:
    rule: str
    example: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)
    disagreements: list[str] = field(default_factory=list)
    index: int = 0  # of the example in its rule, from 0
    file: str = ""  # relative to the rule base: rules/data.yaml
    line: int = 0  # where the example starts

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file or "rules"

    @property
    def message(self) -> str:
        return "; ".join(self.problems)

    def __str__(self) -> str:
        """One line the way `opa test` names a test: location, rule, which example, what."""
        head = f"{self.where}: {self.rule}: example {self.index + 1} ({self.example})"
        return f"{head}: {self.message}" if self.problems else f"{head}: PASS"

    def as_dict(self) -> dict[str, Any]:
        """The JSON twin of str(): one object per example result (index counts from 1, as
        the text's "example N" does)."""
        return {"rule": self.rule, "file": self.file, "line": self.line,
                "example": self.example, "index": self.index + 1, "passed": self.passed,
                "message": self.message}


@dataclass
class TestReport:
    results: list[ExampleResult]
    uncovered: list[str]  # active rules no example fires
    no_negative: list[str]  # active rules without an example that does not fire

    @property
    def failed(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]


def example_input(rulebase: RuleBase, example: Example) -> dict[str, Any]:
    answers = copy.deepcopy(rulebase.baseline)
    for path, value in example.answers.items():
        dotted.set(answers, path, copy.deepcopy(value), none_drops=True)  # null: the default
    return {"answers": answers, "benchmarks": example.benchmarks, "drift": example.drift}


def facts_by_type(assessment: Assessment) -> dict[str, list[Mapping[str, Any]]]:
    """Every fact the session held, by type, with dotted field names."""
    return {kind: [plain(f) for f in facts] for kind, facts in assessment.run.facts.items()}


def python_fired(rulebase: RuleBase, assessment: Assessment) -> set[str]:
    """Rules whose conditions the Python evaluator satisfies on the session's facts."""
    facts = facts_by_type(assessment)
    return {rule.id for rule in rulebase.active()
            if conditions.matches(rule.condition, facts, DERIVED_TYPES)}


def run_example(rulebase: RuleBase, rule: Rule, example: Example) -> ExampleResult:
    index = next((i for i, e in enumerate(rule.examples) if e is example), 0)
    source = f"{rulebase.where(rule.id, index)}: {rule.id}: example {example.name!r}"
    assessment = assess(example_input(rulebase, example), rulebase,
                        Sources(source, source, source), assessment_id="example")
    fired = {f.rule.id for f in assessment.run.firings}
    location = rulebase.locations.get(rule.id)
    result = ExampleResult(rule.id, example.name, True, fired=fired, index=index,
                           file=location.file if location else "",
                           line=location.line_of(index) if location else 0)
    if (rule.id in fired) != example.fires:
        result.problems.append(f"expected the rule {'to fire' if example.fires else 'not to fire'}")
    decision = assessment.model
    strategy = decision.strategy
    for key, actual in (("verdict", decision.verdict),
                        ("rung", strategy.rung if strategy else None),
                        ("service", strategy.service if strategy else None)):
        expected = getattr(example, key)
        if expected is not None and expected != actual:
            result.problems.append(f"expected {key} {expected}, got {actual}")
    python = python_fired(rulebase, assessment)
    result.disagreements = sorted(fired ^ python)
    if result.disagreements:
        result.problems.append("durable_rules and the Python evaluator disagree on: "
                               + ", ".join(result.disagreements))
    result.passed = not result.problems
    return result


def run_all(rulebase: RuleBase, only: str | None = None) -> TestReport:
    results: list[ExampleResult] = []
    fired_somewhere: set[str] = set()
    for rule in rulebase.active():
        if only and not rule.id.startswith(only):
            continue
        for example in rule.examples:
            result = run_example(rulebase, rule, example)
            results.append(result)
            fired_somewhere |= result.fired
    active = [r for r in rulebase.active() if not only or r.id.startswith(only)]
    uncovered = sorted(r.id for r in active if r.id not in fired_somewhere)
    no_negative = sorted(r.id for r in active if all(e.fires for e in r.examples))
    return TestReport(results, uncovered, no_negative)
