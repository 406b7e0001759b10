"""Static checks of the rule base, read from the parsed files (never grep).

Loading already rejects malformed YAML, bad severities, duplicate ids and conditions that
cannot compile; lint adds what needs the whole picture: unknown fact paths and placeholders,
unknown guidance ids, examples naming answers that do not exist, and rules no example reaches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.model.answers import leaf_paths
from engine.rulebase import conditions
from engine.rulebase.loading import CASE_EXTRAS, CAUSES, DERIVED_TYPES, Rule, RuleBase

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning
    file: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.file}: {self.rule}: {self.message}"


def known_case_paths() -> set[str]:
    paths = set(CASE_EXTRAS)
    for path, info in leaf_paths().items():
        origin = getattr(info.annotation, "__origin__", None)
        paths.add(f"{path}.count" if origin is list else path)
    return paths


def path_known(path: str, case_paths: set[str]) -> bool:
    if path in DERIVED_TYPES:  # a whole bound fact, as in option: "{offer}"
        return True
    alias, key = conditions.split_path(path, DERIVED_TYPES)
    if alias == conditions.CASE:
        return path in case_paths
    fields = DERIVED_TYPES[alias]
    return key in fields or "*" in fields


def _texts(rule: Rule) -> list[str]:
    out = [rule.title, rule.rationale, rule.action]
    then = rule.then.model_dump(exclude_none=True)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(then)
    return out


def lint(rulebase: RuleBase, run_examples: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    case_paths = known_case_paths()
    answer_paths = set(leaf_paths())
    guidance = rulebase.knowledge.guidance_ids()
    for rule in rulebase.rules:
        file = rulebase.sources.get(rule.id, "rules")

        def report(level: str, message: str, file: str = file, rule_id: str = rule.id) -> None:
            problems.append(Problem(level, file, rule_id, message))

        if not rule.id.startswith(rule.phase + "."):
            report("error", f"id should start with its phase '{rule.phase}.'")
        for path in sorted(conditions.paths(rule.condition)):
            if not path_known(path, case_paths):
                report("error", f"unknown fact path {path!r} in when")
        for text in _texts(rule):
            for path in PLACEHOLDER.findall(text):
                if not path_known(path, case_paths):
                    report("error", f"unknown fact path {{{path}}} in a message")
        reject = rule.then.reject or {}
        if reject and reject.get("cause") not in CAUSES:
            report("error", f"then.reject.cause must be one of {', '.join(CAUSES)}")
        if rule.guidance not in guidance:
            report("error", f"unknown guidance id {rule.guidance!r} (see knowledge/guidance.yaml)")
        for example in rule.examples:
            for path in example.answers:
                if path not in answer_paths:
                    report("error", f"example {example.name!r} sets unknown answer {path!r}")
        if rule.status == "active" and not any(e.fires for e in rule.examples):
            report("error", "no example where the rule fires")
        if rule.status == "deprecated":
            report("warning", "deprecated: kept so that its id is never reused")
    if run_examples and not any(p.level == "error" for p in problems):
        from engine.rulebase.testing import run_all

        results = run_all(rulebase)
        for rule_id in results.uncovered:
            problems.append(Problem("error", rulebase.sources.get(rule_id, "rules"), rule_id,
                                    "no example reaches this rule (it never fires)"))
        for result in results.failed:
            problems.append(Problem("error", rulebase.sources.get(result.rule, "rules"),
                                    result.rule, f"example {result.example!r}: "
                                    + "; ".join(result.problems)))
    return problems
