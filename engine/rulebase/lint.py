"""Static checks of the rule base, read from the parsed files (never grep).

Loading already rejects malformed YAML, bad severities, duplicate ids and conditions that
cannot compile; lint adds what needs the whole picture: unknown fact paths and placeholders,
unknown guidance ids, examples naming answers that do not exist, and rules no example reaches.
And freshness: every knowledge entry with a `checked` date older than the catalog's
`stale_after_days` is a warning, and a service that is not open without the day it closed
(`closed_on`) or what replaces it (`successor`) is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from engine.model.answers import leaf_paths
from engine.rulebase import conditions
from engine.rulebase.loading import CASE_EXTRAS, CAUSES, DERIVED_TYPES, RULES, Rule, RuleBase

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
SUMMARY_VALUES = {"service_name", "how"}  # what assemble.strategy_of formats a summary with


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning
    file: str  # relative to the rule base: rules/data.yaml
    rule: str
    message: str
    line: int = 0  # where the rule (or the example at fault) starts; 0 when unknown

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.rule}: {self.message}"


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
    out = [rule.title, rule.rationale, rule.action, rule.course]
    then = rule.then.model_dump(exclude_none=True)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(then)
    return out


@dataclass
class _Checker:
    """The static checks of one rule base; each problem carries the rule's (or the example's)
    file and line."""

    rulebase: RuleBase
    problems: list[Problem] = field(default_factory=list)
    case_paths: set[str] = field(default_factory=known_case_paths)
    answer_paths: set[str] = field(default_factory=lambda: set(leaf_paths()))

    def report(self, level: str, rule_id: str, message: str, example: int | None = None) -> None:
        location = self.rulebase.locations.get(rule_id)
        file, line = (location.file, location.line_of(example)) if location else (RULES, 0)
        self.problems.append(Problem(level, file, rule_id, message, line))

    def rule(self, rule: Rule, guidance: set[str]) -> None:
        def error(message: str) -> None:
            self.report("error", rule.id, message)

        if not rule.id.startswith(rule.phase + "."):
            error(f"id should start with its phase '{rule.phase}.'")
        for path in sorted(conditions.paths(rule.condition)):
            if not path_known(path, self.case_paths):
                error(f"unknown fact path {path!r} in when")
        for text in _texts(rule):
            for path in PLACEHOLDER.findall(text):
                if not path_known(path, self.case_paths):
                    error(f"unknown fact path {{{path}}} in a message")
        reject = rule.then.reject or {}
        if reject and reject.get("cause") not in CAUSES:
            error(f"then.reject.cause must be one of {', '.join(CAUSES)}")
        self.order_and_summary(rule)
        if rule.guidance not in guidance:
            error(f"unknown guidance id {rule.guidance!r} (see knowledge/guidance.yaml)")
        self.examples(rule)

    def order_and_summary(self, rule: Rule) -> None:
        """`after` names other rules that exist; `summary` uses only what the strategy fills."""
        for other in rule.after:
            if other == rule.id or other not in self.rulebase.locations:
                self.report("error", rule.id, f"after: {other!r} is not another rule's id")
        unknown = set(PLACEHOLDER.findall(rule.summary)) - SUMMARY_VALUES
        if unknown:
            self.report("error", rule.id, f"summary: unknown placeholders {sorted(unknown)} "
                        f"(it may use {', '.join(sorted(SUMMARY_VALUES))})")
        if rule.summary and rule.then.option is None:
            self.report("error", rule.id, "summary: the rule proposes no option to carry it")

    def examples(self, rule: Rule) -> None:
        for index, example in enumerate(rule.examples):
            for path in example.answers:
                if path not in self.answer_paths:
                    self.report("error", rule.id, f"example {example.name!r} sets unknown "
                                f"answer {path!r}", index)
        if rule.status == "active" and not any(e.fires for e in rule.examples):
            self.report("error", rule.id, "no example where the rule fires")
        if rule.status == "deprecated":
            self.report("warning", rule.id, "deprecated: kept so that its id is never reused")

    def run_examples(self) -> None:
        from engine.rulebase.testing import run_all

        results = run_all(self.rulebase)
        for rule_id in results.uncovered:
            self.report("error", rule_id, "no example reaches this rule (it never fires)")
        for result in results.failed:
            self.report("error", result.rule, f"example {result.example!r}: "
                        + "; ".join(result.problems), result.index)


# The knowledge files whose entries carry `checked` dates.
DATED_FILES = ("knowledge/services.yaml", "knowledge/guidance.yaml", "knowledge/pricing.yaml")


def _dated_entries(data: Any, path: str = "") -> list[tuple[str, str, Any]]:
    """(dotted path, entry name, checked value) of every mapping in a document with a
    `checked` key, the entry named by its `id` or priced `offer` (else its path)."""
    found: list[tuple[str, str, Any]] = []
    if isinstance(data, dict):
        if "checked" in data:
            name = data.get("id") or data.get("offer") or path or "document"
            found.append((path, str(name), data["checked"]))
        for key, value in data.items():
            found += _dated_entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _dated_entries(value, f"{path}.{index}" if path else str(index))
    return found


def freshness(rulebase: RuleBase, today: dt.date | None = None) -> list[Problem]:
    """The freshness problems of a rule base's knowledge, as of `today` (the real date unless
    given): a warning per entry checked more than `stale_after_days` ago, an error per
    `checked` that is not a date, and an error per service that is not open but does not say
    when it closed and what AWS points to instead."""
    from engine.rulebase.knowledge import parse_file

    today = today or dt.date.today()
    catalog = rulebase.knowledge.catalog
    limit = catalog.stale_after_days
    problems: list[Problem] = []
    for name in DATED_FILES:
        if name not in rulebase.files:
            continue
        doc = parse_file(rulebase.files, name)
        for path, entry, value in _dated_entries(doc.data):
            line = doc.line(f"{path}.checked" if path else "checked") or 0
            try:
                checked = dt.date.fromisoformat(str(value))
            except ValueError:
                problems.append(Problem("error", name, entry,
                                        f"checked: {value!r} is not a date (YYYY-MM-DD)", line))
                continue
            age = (today - checked).days
            if age > limit:
                problems.append(Problem(
                    "warning", name, entry,
                    f"checked {checked.isoformat()}, {age} days ago (more than "
                    f"stale_after_days, {limit}): re-check it against its page and update "
                    "checked", line))
    services = "knowledge/services.yaml"
    doc = parse_file(rulebase.files, services)
    for index, service in enumerate(catalog.services):
        if service.is_open:
            continue
        missing = [f for f, given in (("closed_on", service.closed_on is not None),
                                      ("successor", bool(service.successor.strip())))
                   if not given]
        if missing:
            problems.append(Problem(
                "error", services, service.id,
                f"availability is {service.availability} but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing: give the day it closed "
                "(closed_on: YYYY-MM-DD, or unknown with a closed_on_note naming the pages "
                "searched) and what AWS points to instead (successor)",
                doc.line(f"services.{index}") or 0))
    return problems


def lint(rulebase: RuleBase, run_examples: bool = True,
         today: dt.date | None = None) -> list[Problem]:
    """Every problem found, rules in load order, then the knowledge's freshness as of `today`;
    the examples run only when the static checks found no error (a broken rule would fail them
    for a reason already reported)."""
    checker = _Checker(rulebase)
    guidance = set(rulebase.knowledge.guidance_ids())
    for rule in rulebase.rules:
        checker.rule(rule, guidance)
    checker.problems += freshness(rulebase, today)
    if run_examples and not any(p.level == "error" for p in checker.problems):
        checker.run_examples()
    return checker.problems
