"""How a replay reads: the words `mladvisor audit replay` prints and the web's replay page
shows, in one place so that both say the same of a decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.util.display import strategy_text

MAX_REASONS = 6  # reasons shown under each change; the JSON output keeps them all


def _strategy_name(strategy: Any) -> str:
    return strategy_text(strategy, "/{}", none="none")


def replay_text(results: list[dict[str, Any]]) -> str:
    """The text report of replayed records: one head line each, the changes the current rule
    base would make with their reasons, and a count."""
    lines = []
    changed = 0
    for r in results:
        head = replay_head(r)
        current = r.get("current")
        if current is None:
            lines.append(head)
        elif "error" in current:
            name = f"current rule base {current['rulebase']}" if current["rulebase"] else ""
            lines.append(head + f"; {name + ': ' if name else ''}{current['error']}")
        elif current["unchanged"]:
            lines.append(head + f"; current rule base {current['rulebase']}: no change")
        else:
            changed += 1
            lines.append(head + f"; current rule base {current['rulebase']} would change:")
            lines.extend(change_lines(current["changes"]))
    lines.append(f"{len(results)} replayed, "
                 f"{sum(1 for r in results if r['reproduced'])} reproduced, "
                 f"{changed} would change under the current rule base")
    return "\n".join(lines) + "\n"


def replay_head(r: dict[str, Any]) -> str:
    """One record's first line: reproduced or not, and which engines recorded and replayed it."""
    status = "reproduced" if r["reproduced"] else "NOT REPRODUCED"
    head = f"{r['record_id']}  rule base {r['rulebase']}: {status}"
    if not r["reproduced"]:
        head += f" ({r.get('error') or 'differs in ' + ', '.join(r['differences'])})"
    engine = r.get("engine") or {}
    if engine.get("recorded") != engine.get("replayed"):
        head += f" (recorded by engine {engine.get('recorded')}, replayed by" \
            f" {engine.get('replayed')})"
    return head


def change_lines(changes: list[dict[str, Any]]) -> list[str]:
    """What the current rule base would change, each with up to six reasons."""
    lines = []
    for change in changes:
        lines.append(f"    {change_text(change)}")
        for why in change.get("why", [])[:MAX_REASONS]:
            lines.append(f"        because {why}")
    return lines


def _level_change(change: dict[str, Any]) -> str:
    what = change["what"]
    if "rule" in change:
        return f"{what} of {change['rule']}: {change['from']} -> {change['to']}"
    return f"{what} {change['from']} -> {change['to']}"


# How each kind of change reads; a finding added or removed is the default.
_CHANGE_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "verdict": _level_change,
    "finding severity": _level_change,
    "strategy": lambda c: (f"strategy {_strategy_name(c['from'])} -> "
                           f"{_strategy_name(c['to'])}"),
    "option": lambda c: f"option {strategy_text(c, '/{}')}: {c['from']} -> {c['to']}",
    "finding changed": lambda c: f"finding {c['rule']} changed: {', '.join(c['fields'])}",
    "other": lambda c: f"also changed: {', '.join(c['fields'])}",
}


def change_text(change: dict[str, Any]) -> str:
    render = _CHANGE_TEXT.get(change["what"])
    if render is not None:
        return render(change)
    return f"{change['what']}: {change['rule']} ({change['severity']}) {change['title']}"
