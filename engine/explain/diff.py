"""Compare two decisions of one project, e.g. between milestones: what was answered differently,
which findings appeared or went away, and whether the verdict and the strategy moved.

Either side may be an answers file (assessed now with the installed rule base) or a saved
decision (mladvisor.decision/1 JSON), told apart by their `schema` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.model.answers import ANSWERS_SCHEMA, leaf_paths, read_document
from engine.model.decision import DECISION_SCHEMA, Decision, Finding, load_decision
from engine.util import dotted
from engine.util.display import show_value, strategy_text


def load_side(path: str | Path, benchmarks: str | Path | None = None,
              drift: str | Path | None = None) -> Decision:
    """A decision from a saved decision file, or from assessing an answers file."""
    doc = read_document(path)
    schema = doc.get("schema") if isinstance(doc, dict) else None
    if schema == DECISION_SCHEMA:
        return load_decision(str(path), doc)
    if schema == ANSWERS_SCHEMA:
        from engine.api import assess_files

        return assess_files(path, benchmarks, drift).model
    got = schema if isinstance(schema, str) else (None if schema is None else repr(schema))
    if not isinstance(doc, dict):
        got = "empty document" if doc is None else type(doc).__name__
    raise InputError(str(path), "schema" if isinstance(doc, dict) else "",
                     f"expected an answers file ({ANSWERS_SCHEMA}) or a saved decision "
                     f"({DECISION_SCHEMA})", got)


def answers_of(decision: Decision) -> dict[str, Any] | None:
    """The effective answers a decision was made on, by dotted path (lists kept whole)."""
    if decision.input is None or "answers" not in decision.input.model_fields_set:
        return None
    return dotted.flatten({k: v for k, v in decision.input.answers.items() if k != "schema"})


def _strategy(decision: Decision) -> dict[str, Any] | None:
    strategy = decision.strategy
    return None if strategy is None else {"rung": strategy.rung, "service": strategy.service}


def _finding(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "phase": f.phase, "title": f.title}


def diff(a: Decision | Mapping[str, Any], b: Decision | Mapping[str, Any]) -> dict[str, Any]:
    """What changed from decision a to decision b."""
    a, b = load_decision("decision A", a), load_decision("decision B", b)
    answers_a, answers_b = answers_of(a), answers_of(b)
    changed: list[dict[str, Any]] | None = None
    if answers_a is not None and answers_b is not None:
        known = list(leaf_paths())
        paths = sorted(set(answers_a) | set(answers_b),
                       key=lambda p: (known.index(p) if p in known else len(known), p))
        changed = [{"path": p, "from": answers_a.get(p), "to": answers_b.get(p)}
                   for p in paths if answers_a.get(p) != answers_b.get(p)]
    rules_a = {f.rule: f for f in a.findings}
    rules_b = {f.rule: f for f in b.findings}
    strategy_a, strategy_b = _strategy(a), _strategy(b)
    return {
        "answers": changed,
        "findings": {
            "added": [_finding(f) for r, f in rules_b.items() if r not in rules_a],
            "removed": [_finding(f) for r, f in rules_a.items() if r not in rules_b],
            # still raised, on other facts (e.g. a count that moved between milestones)
            "changed": [_finding(f) | {"facts": {"from": rules_a[r].facts, "to": f.facts}}
                        for r, f in rules_b.items()
                        if r in rules_a and rules_a[r].facts != f.facts],
        },
        "verdict": {"from": a.verdict, "to": b.verdict, "changed": a.verdict != b.verdict},
        "strategy": {"from": strategy_a, "to": strategy_b, "changed": strategy_a != strategy_b},
    }


def _show(value: Any) -> str:
    return show_value(value, none="(none)")


def render_text(result: Mapping[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    """The diff as a short account a person reads top to bottom."""
    lines = [f"Comparing {name_a} -> {name_b}", ""]
    verdict, strategy = result["verdict"], result["strategy"]
    lines.append(f"Verdict:  {verdict['from']} -> {verdict['to']}" if verdict["changed"]
                 else f"Verdict:  {verdict['to']} (unchanged)")
    lines.append(f"Strategy: {strategy_text(strategy['from'])} -> "
                 f"{strategy_text(strategy['to'])}" if strategy["changed"]
                 else f"Strategy: {strategy_text(strategy['to'])} (unchanged)")
    lines.append("")
    answers = result["answers"]
    if answers is None:
        lines.append("Answers: not compared (a saved decision without its input answers)")
    elif not answers:
        lines.append("Answers: no change")
    else:
        lines.append(f"Answers changed ({len(answers)}):")
        lines.extend(f"  {c['path']}: {_show(c['from'])} -> {_show(c['to'])}" for c in answers)
    for kind, mark in (("added", "+"), ("removed", "-"), ("changed", "~")):
        items = result["findings"][kind]
        lines.append("")
        lines.append(f"Findings {kind} ({len(items)}):" if items else f"Findings {kind}: none")
        for f in items:
            lines.append(f"  {mark} [{f['severity']}] {f['title']} ({f['rule']})")
            if kind == "changed":
                before, after = f["facts"]["from"] or {}, f["facts"]["to"] or {}
                lines.extend(f"      {k}: {_show(before.get(k))} -> {_show(after.get(k))}"
                             for k in sorted(set(before) | set(after))
                             if before.get(k) != after.get(k))
    return "\n".join(lines) + "\n"
