"""The decision as a terminal summary: what a person wants to read first, in that order."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import click

from engine.util.text import for_terminal

VERDICT_COLOURS = {"proceed": "green", "proceed-with-conditions": "yellow",
                   "not-ready": "red", "ml-not-recommended": "magenta"}
SEVERITY_COLOURS = {"blocker": "red", "warning": "yellow", "recommendation": "cyan",
                    "info": "white"}
STATUS_MARKS = {"selected": "=>", "eligible": "ok", "rejected": "x ", "not-evaluated": "- "}


def _wrap(text: str, indent: str, width: int = 96) -> str:
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent)


def shown(value: Any) -> Any:
    """A copy whose strings are safe on a terminal: done before styling, so that our own colour
    codes survive and none from an answer does."""
    if isinstance(value, str):
        return for_terminal(value)
    if isinstance(value, Mapping):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    return value


def render_text(decision: dict[str, Any], colour: bool = False) -> str:
    """The summary; every string from the decision has its control characters escaped."""
    decision = shown(decision)

    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if colour else text

    project = decision.get("project", {})
    lines = [
        style(f"{project.get('name', 'Assessment')}", bold=True)
        + f"  (answered by {project.get('respondent', '?')}, stage {project.get('stage', '?')})",
        "",
        "Verdict:  " + style(decision["verdict"], fg=VERDICT_COLOURS.get(decision["verdict"]),
                             bold=True),
    ]
    strategy = decision.get("strategy")
    if strategy:
        service = f" / {strategy['service']}" if strategy.get("service") else ""
        lines.append(f"Strategy: {strategy['rung']}{service}")
        lines.append(_wrap(strategy["summary"], "          "))
    else:
        lines.append("Strategy: none until the blockers are fixed")

    actions = decision.get("actions") or []
    if actions:
        lines += ["", style("Next actions", bold=True)]
        for number, action in enumerate(actions[:5], 1):
            lines.append(textwrap.fill(" ".join(action.split()), width=96,
                                       initial_indent=f"  {number}. ", subsequent_indent="     "))

    lines += ["", style("The ladder (simplest first)", bold=True)]
    for option in decision.get("options", []):
        mark = STATUS_MARKS.get(option["status"], "  ")
        name = option.get("service") or "-"
        lines.append(f"  {mark} {option['rung']:<14} {name:<22} {option['status']}")
        for reason in option.get("reasons", [])[:2]:
            lines.append(_wrap(reason, " " * 8))

    findings = [f for f in decision.get("findings", []) if f["severity"] != "info"]
    if findings:
        lines += ["", style("Findings", bold=True)]
        for f in findings:
            tag = style(f"[{f['severity']}]", fg=SEVERITY_COLOURS.get(f["severity"]))
            lines.append(f"  {tag} {f['title']}  ({f['rule']}, {f['phase']})")
            lines.append(_wrap(f["rationale"], "      "))
    info = [f for f in decision.get("findings", []) if f["severity"] == "info"]
    if info:
        lines += ["", f"  and {len(info)} informational finding(s); see --format json or html."]

    defaulted = decision.get("input", {}).get("defaulted") or []
    if defaulted:
        lines += ["", _wrap("Answers that took their default: " + ", ".join(defaulted), "")]
    rulebase = decision.get("rulebase", {})
    lines += ["", f"Assessment {decision['assessment_id']}  rule base {rulebase.get('version')} "
                  f"({str(rulebase.get('sha256', ''))[:12]})", ""]
    return "\n".join(lines)
