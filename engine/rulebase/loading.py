"""The rule base: rules/*.yaml and knowledge/*.yaml, loaded, validated and fingerprinted.

A RuleBase is everything one decision depends on besides its input; its sha256 covers every
file, so the audit log can store it once and replay any old decision with it. It loads from
{relative path: bytes} (`load_rulebase_files`): a folder is only read into that mapping first,
and replay hands over the bytes the log stored. Each rule keeps where it is written
(`rules/data.yaml:37`) for the messages rule authors read; decisions never carry it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import RuleBaseError
from engine.model.vocab import Phase, Severity, Verdict
from engine.paths import data_root
from engine.rulebase import conditions
from engine.rulebase.knowledge import (
    KNOWLEDGE,
    Document,
    Knowledge,
    catalog_problem,
    load_knowledge,
    parse_file,
    read_file,
    validate,
)
from engine.util.memo import keep

# Derived fact types a rule may bind, and the fields each carries. `*` allows any field (the
# metrics of a benchmark row are named by the project's success criteria).
OFFER_FIELDS = {"offer", "service", "service_name", "kind", "availability", "catalog_order", "rung",
                "task", "method", "how", "labels_basis", "labels_needed", "serving_path", "runs",
                "runs_fit", "sectors", "sector_fit", "cost_tier", "effort", "explainable",
                "cost_priced", "cost_low", "cost_high", "build_low", "build_high",
                "cost_assumed", "standard_classes", "reads"}
# What a rule may add to an option besides its offer's fields: `current` marks the solution that
# runs today (a deployed project), `prefer` puts an option in the group resolution looks at
# first (resolve.resolve_options), `summary` is set from the proposing rule's `summary`.
OPTION_EXTRAS = {"current", "prefer", "summary"}
# The selected option's own fields that selection facts copy (resolve.selection_fact adds what
# resolution found out about it).
SELECTION_ATTRS = ("kind", "method", "runs", "cost_tier", "effort", "labels_needed",
                   "labels_basis", "explainable", "service_name", "sector_fit", "cost_priced",
                   "cost_low", "cost_high", "build_low", "build_high", "cost_assumed")
DERIVED_TYPES: dict[str, set[str]] = {
    "offer": OFFER_FIELDS,
    "option": OFFER_FIELDS | OPTION_EXTRAS,  # a candidate is its catalog offer (no-ml: rung only)
    "criterion": {"metric", "threshold", "goal"},
    "bench": {"candidate", "rung", "service", "meets_all", "missed", "unmeasured", "*"},
    "check": {"candidate", "rung", "service", "offer", "metric", "goal", "threshold", "value",
              "met", "gap", "relative_gap"},
    "feature": {"name", "kind", "method", "statistic", "p_value", "drifted", "psi",
                "missing_share_reference", "missing_share_current", "missing_share_change"},
    "bias": {"attribute", "metric", "value", "threshold", "violated"},
    "finding": {"rule", "phase", "severity"},
    # the selected option (engine/rulebase/resolve.py selection_fact says what each field is)
    "selection": {"rung", "service", "offer", "evidence", *SELECTION_ATTRS,
                  "measured", "fallback", "fallback_rung", "fallback_service", "fallback_name",
                  "fallback_candidate", "demoted", "reservations", "fell_short", "shortfall",
                  "current", "simpler_open", "cost_measured"},
    "outcome": set(),  # filled below from CAUSES
}

# Why a rule rejects an option; `evidence` rejections yield to a measured pass.
CAUSES = ("labels", "cost", "constraint", "availability", "evidence", "objective", "other")
DERIVED_TYPES["outcome"] = {"selected", "withheld",
                            *(f"rejected_by_{cause}" for cause in CAUSES)}

# Case facts computed from the input without any domain choice (counts, evidence summaries).
CASE_EXTRAS = {
    "business.success_criteria.count",
    "monitoring.sensitive_attributes.count",
    "evidence.benchmarks",
    "evidence.drift",
    "evidence.criteria_with_benchmarks",
    "drift.dataset_drift",
    "drift.share_drifted",
    "drift.drifted_features",
    "drift.performance.metric",
    "drift.performance.reference",
    "drift.performance.current",
    "drift.performance.criterion",
    "drift.performance.reference_meets",
    "drift.performance.current_meets",
    "drift.bias.violations",
    "drift.multivariate.drifted",
    "drift.multivariate.auc",
    # what knowledge/tasks.yaml says about the project's task
    "task.modality",
    "task.outputs",
    "task.examples",
    "task.free_text",
    "task.evaluated_by",
    # the deployment target in words (knowledge/ladder.yaml targets_text)
    "target.where",
    # the tightest p95 latency bound, from problem.latency_p95_ms or a success criterion; for
    # rules' text (conditions read the answers, so explanations can vary them)
    "latency.p95_ms",
}

ASSERTABLE = ("option", "reject", "demote", "meets", "verdict", "monitor")


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    answers: dict[str, Any] = Field(
        default_factory=dict, description="Dotted answer paths overriding the baseline."
    )
    benchmarks: list[dict[str, Any]] | None = None
    drift: dict[str, Any] | None = None
    fires: bool
    verdict: str | None = None
    rung: str | None = None
    service: str | None = None


class Then(BaseModel):
    model_config = ConfigDict(extra="forbid")
    finding: bool = True
    option: dict[str, Any] | str | None = None  # a mapping, or "{offer}" to copy a bound fact
    reject: dict[str, Any] | None = None
    demote: dict[str, Any] | None = None
    meets: dict[str, Any] | None = None
    verdict: Verdict | None = None
    monitor: dict[str, Any] | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z-]+\.[a-z0-9-]+$")
    phase: Phase
    severity: Severity
    title: str
    when: Any
    then: Then = Field(default_factory=Then)
    rationale: str
    action: str = ""
    after: list[str] = Field(
        default_factory=list,
        description="Rules whose actions (and course sentences) come before this rule's when "
        "both fire: fix what a step depends on first.")
    course: str = Field(
        "", description="A sentence added to the strategy summary when the rule fires (filled "
        "from its facts), in the order `after` gives.")
    summary: str = Field(
        "", description="The strategy summary when the option this rule proposes is selected, "
        "formatted like a rung's summary ({service_name}, {how}) instead of the rung's.")
    guidance: str
    services: list[str] = Field(
        default_factory=list,
        description="Catalog ids of services the finding recommends as a part of the answer "
        "(labelling, guardrails, edge runtime, monitoring, ...); each must be open to new "
        "customers (checked at load).")
    status: Literal["active", "deprecated"] = "active"
    examples: list[Example] = Field(min_length=1)

    # parsed condition, filled after validation
    condition: Any = Field(None, exclude=True)


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_: Literal["mladvisor.rules/1"] = Field(alias="schema")
    phase: Phase
    rules: list[Rule]


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_: Literal["mladvisor.rulebase/1"] = Field(alias="schema")
    version: str
    offer_filter: Any = Field(None, description="Condition an offer must meet to be asserted.")
    baseline: dict[str, Any] = Field(
        description="A healthy answers file that rule examples override, so each example names "
        "only what matters."
    )


@dataclass(frozen=True)
class RuleLocation:
    """Where a rule is written, for the people who edit it: its file (relative to the rule
    base), the line where its mapping starts and the line where each of its examples does.
    Never part of a decision: the rule base fingerprint and the rule id identify a rule."""

    file: str
    line: int
    examples: tuple[int, ...] = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def line_of(self, example: int | None = None) -> int:
        """The line of the example at index (0-based), or of the rule itself."""
        if example is not None and 0 <= example < len(self.examples) and self.examples[example]:
            return self.examples[example]
        return self.line

    def at(self, example: int | None = None) -> str:
        """`file:line` of the rule, or of its example at index."""
        return f"{self.file}:{self.line_of(example)}"


@dataclass
class RuleBase:
    root: Path | None  # the folder it was read from; None when loaded from stored bytes
    version: str
    sha256: str
    rules: list[Rule]
    knowledge: Knowledge
    baseline: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)
    offer_filter: Any = None  # parsed condition
    _offers: list[dict[str, Any]] | None = field(default=None, repr=False)
    _offer_cache: dict[tuple[str, ...], list[dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )
    _admitted: dict[tuple[str, ...], list[dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )
    _fitted: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )  # knowledge.fit_offer's: one object for equal fits of a catalog offer
    _filter_paths: list[str] = field(default_factory=list, repr=False)
    _fit_paths: list[str] = field(default_factory=list, repr=False)
    sources: dict[str, str] = field(default_factory=dict)  # rule id -> file
    locations: dict[str, RuleLocation] = field(default_factory=dict, repr=False)

    def active(self) -> list[Rule]:
        return [r for r in self.rules if r.status == "active"]

    def where(self, rule_id: str, example: int | None = None) -> str:
        """`rules/x.yaml:LINE` of a rule (or of its example at index), for rule authors."""
        location = self.locations.get(rule_id)
        return RULES if location is None else location.at(example)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def offers_for(self, case: dict[str, Any]) -> list[dict[str, Any]]:
        """The catalog offers that enter this case's session (see offer_filter), fitted to the
        case (knowledge.fit_offer), cached by the case values the filter and the fit read."""
        from engine.rulebase.knowledge import FIT_PATHS, fit_offer, offer_facts

        if self._offers is None:
            self._offers = offer_facts(self.knowledge.catalog)
            self._filter_paths = sorted({
                p for p in conditions.paths(self.offer_filter)
                if conditions.split_path(p, DERIVED_TYPES)[0] == conditions.CASE
            }) if self.offer_filter is not None else []
            self._fit_paths = sorted({*self._filter_paths, *FIT_PATHS})
        key = tuple(repr(case.get(p)) for p in self._fit_paths)
        if key not in self._offer_cache:
            # which offers pass the filter depends on fewer answers than their fit: kept apart
            admit = tuple(repr(case.get(p)) for p in self._filter_paths)
            if admit not in self._admitted:
                self._admitted[admit] = [
                    o for o in self._offers
                    if self.offer_filter is None or conditions.evaluate(
                        self.offer_filter, {"case": case, "offer": o}, DERIVED_TYPES)]
            keep(self._offer_cache, key, [fit_offer(o, self.knowledge, case, self._fitted)
                                          for o in self._admitted[admit]], OFFER_CACHE_SIZE)
        return self._offer_cache[key]


# Fitted offers kept per distinct answers key: bounded, so a long-running web process does not
# grow with every project it assesses (10,000 generated cases made 8,712 keys).
OFFER_CACHE_SIZE = 2048
RULES = "rules"  # the folder of the rule files inside a rule base
MANIFEST = f"{RULES}/rulebase.yaml"


def read_rulebase(root: Path) -> dict[str, bytes]:
    """A rule base folder as {relative path: bytes}: every YAML file under rules/ and
    knowledge/ (what the fingerprint covers), each read with the document reader's limits."""
    rules_dir = root / RULES
    if not rules_dir.is_dir():
        raise RuleBaseError(str(rules_dir), "", "rule base folder not found")
    out = {}
    for folder in (RULES, KNOWLEDGE):
        for path in sorted((root / folder).rglob("*.yaml")):
            out[path.relative_to(root).as_posix()] = read_file(path)
    return out


def fingerprint(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def load_rulebase(root: Path | None = None) -> RuleBase:
    """Load and validate everything under root/rules and root/knowledge."""
    root = Path(root) if root else data_root()
    return load_rulebase_files(read_rulebase(root), root)


def load_rulebase_files(files: Mapping[str, bytes], root: Path | None = None) -> RuleBase:
    """Load and validate a rule base given as {relative path: bytes} (a folder read by
    `read_rulebase`, or the files the audit log stored for a decision). Messages name files
    under `root` when given, else by their relative paths."""
    files = dict(files)

    def label(rel: str) -> str:
        return str(root / rel) if root else rel

    knowledge = load_knowledge(files, label)
    _check_tie_break(knowledge, label(f"{KNOWLEDGE}/ladder.yaml"))
    manifest_doc = parse_file(files, MANIFEST, label(MANIFEST))
    manifest = validate(manifest_doc, Manifest)
    loaded = _Rules(knowledge)
    for rel in rule_files(files):
        loaded.add(parse_file(files, rel, label(rel)), rel)
    offer_filter = None
    if manifest.offer_filter is not None:
        try:
            offer_filter = conditions.parse(manifest.offer_filter)
        except conditions.ConditionError as error:
            raise RuleBaseError(manifest_doc.file, f"offer_filter.{error.where}", error.problem,
                                manifest_doc.line("offer_filter")) from None
    return RuleBase(root=root, version=manifest.version, sha256=fingerprint(files),
                    rules=loaded.rules, knowledge=knowledge, baseline=manifest.baseline,
                    files=files, sources=loaded.sources, offer_filter=offer_filter,
                    locations=loaded.locations)


def _check_tie_break(knowledge: Knowledge, file: str) -> None:
    """The ladder breaks ties on fields an option carries from its offer; any other name would
    silently order nothing."""
    for name in knowledge.ladder.tie_break:
        if name not in OFFER_FIELDS:
            raise RuleBaseError(file, f"tie_break.{name}", "expected an offer field ("
                                + ", ".join(sorted(OFFER_FIELDS)) + ")")


def rule_files(files: Mapping[str, bytes]) -> list[str]:
    """The rule files of a rule base, in load order: rules/*.yaml but the manifest."""
    return sorted(name for name in files if name != MANIFEST and name.endswith(".yaml")
                  and name.count("/") == 1 and name.startswith(f"{RULES}/"))


@dataclass
class _Rules:
    """The rules of a rule base as its files are read, with where each one is written."""

    knowledge: Knowledge
    rules: list[Rule] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    locations: dict[str, RuleLocation] = field(default_factory=dict)

    def add(self, doc: Document, rel: str) -> None:
        rule_file = validate(doc, RuleFile)
        for index, rule in enumerate(rule_file.rules):
            at = f"rules.{index}"
            location = RuleLocation(rel, doc.line(at) or 0, tuple(
                doc.line(f"{at}.examples.{n}") or 0 for n in range(len(rule.examples))))
            self._check(doc, rule, rule_file.phase, index)
            self.sources[rule.id] = rel.rpartition("/")[2]
            self.locations[rule.id] = location
            self.rules.append(rule)

    def _check(self, doc: Document, rule: Rule, phase: str, index: int) -> None:
        """Phase, a unique id and a condition that parses; each error names its line."""
        where, at = f"rules[{index}]", f"rules.{index}"
        if rule.phase != phase:
            raise RuleBaseError(doc.file, f"{where}.phase",
                                f"rule {rule.id} is in the {phase} file", doc.line(f"{at}.phase"))
        if rule.id in self.locations:
            raise RuleBaseError(doc.file, f"{where}.id", f"duplicate rule id {rule.id} (also at "
                                f"{self.locations[rule.id]})", doc.line(f"{at}.id"))
        try:
            rule.condition = conditions.parse(rule.when)
        except conditions.ConditionError as error:
            raise RuleBaseError(doc.file, f"{where}({rule.id}).{error.where}", error.problem,
                                doc.line(f"{at}.when")) from None
        problem = catalog_problem(self.knowledge.catalog, rule.services)
        if problem:
            raise RuleBaseError(doc.file, f"{where}({rule.id}).services",
                                f"rule {rule.id}: {problem}", doc.line(f"{at}.services"))
        places = self.knowledge.monitoring
        monitor = rule.then.monitor
        if monitor is not None and places is not None:
            place = monitor.get("where")
            if place not in places.places:
                raise RuleBaseError(
                    doc.file, f"{where}({rule.id}).then.monitor.where",
                    f"rule {rule.id}: a monitor item names where it runs, one of "
                    f"{', '.join(sorted(places.places))} (knowledge/monitoring.yaml)"
                    + (f", got {place}" if place is not None else ""),
                    doc.line(f"{at}.then.monitor"))


_CACHE: dict[str, RuleBase] = {}


def default_rulebase() -> RuleBase:
    """The installed rule base, loaded once per process."""
    key = str(data_root())
    if key not in _CACHE:
        _CACHE[key] = load_rulebase()
    return _CACHE[key]
