"""The decision as a terminal summary: what a person wants to read first, in that order."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, Protocol

import click

from engine.model.decision import Cost, Decision, Project, load_decision
from engine.model.vocab import SEVERITIES, STATUSES, VERDICTS
from engine.report.context import catalog_span
from engine.report.labels import labels
from engine.util.display import monthly_text, payback_text, strategy_text, usd_range
from engine.util.text import for_terminal

# One colour or mark per value of each vocabulary, in the vocabulary's order.
VERDICT_COLOURS = dict(zip(VERDICTS, ("green", "yellow", "red", "magenta"), strict=True))
SEVERITY_COLOURS = dict(zip(SEVERITIES, ("red", "yellow", "cyan", "white"), strict=True))
STATUS_MARKS = dict(zip(STATUSES, ("=>", "ok", "x ", "- "), strict=True))


class Style(Protocol):
    """click.style when colour is on, else the text unchanged."""

    def __call__(self, text: str, **kw: Any) -> str: ...


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


def render_text(decision: Decision | Mapping[str, Any], colour: bool = False) -> str:
    """The summary; every string from the decision has its control characters escaped."""
    decision = Decision.model_validate(shown(load_decision("decision", decision).dump()))

    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if colour else text

    lines = _head(decision, style)
    lines += _actions(decision, style)
    lines += _how_to(decision)
    lines += _ladder(decision, style)
    lines += _findings(decision, style)
    defaulted = decision.input.defaulted if decision.input else []
    if defaulted:
        lines += ["", _wrap("Answers that took their default: " + ", ".join(defaulted), "")]
    rulebase = decision.rulebase
    lines += ["", f"Assessment {decision.assessment_id}  rule base {rulebase.get('version')} "
                  f"({str(rulebase.get('sha256', ''))[:12]})"]
    span = catalog_span(decision.catalog)
    lines += [f"Service catalog checked {span}"] if span else []
    lines += [""]
    return "\n".join(lines)


def _head(decision: Decision, style: Style) -> list[str]:
    """The project, the verdict and the strategy."""
    project = decision.project or Project()
    verdict = str(decision.verdict)
    lines = [
        style(f"{project.name or 'Assessment'}", bold=True)
        + f"  (answered by {project.respondent or '?'}, stage {project.stage or '?'})",
        "",
        "Verdict:  " + style(verdict, fg=VERDICT_COLOURS.get(verdict), bold=True),
    ]
    strategy = decision.strategy
    if strategy:
        lines.append(f"Strategy: {strategy_text(strategy, ' / {}')}")
        lines.append(_wrap(strategy.summary or "", "          "))
    else:
        lines.append("Strategy: none until the blockers are fixed")
    return lines


def _actions(decision: Decision, style: Style) -> list[str]:
    """The first five next actions, numbered."""
    if not decision.actions:
        return []
    lines = ["", style("Next actions", bold=True)]
    for number, action in enumerate(decision.actions[:5], 1):
        lines.append(textwrap.fill(" ".join(action.split()), width=96,
                                   initial_indent=f"  {number}. ", subsequent_indent="     "))
    return lines


def _how_to(decision: Decision) -> list[str]:
    """Command-line help kept apart from the actions, which speak to the business: how to give
    the evidence this decision lacked (measurements; a drift summary of a model in production)."""
    given = decision.input
    parts = []
    if decision.strategy and decision.strategy.service and not (given and given.benchmarks):
        parts.append("once candidates are measured, assess again with --benchmarks RESULTS.csv")
    stage = decision.project.stage if decision.project else None
    if stage == "deployed" and not (given and given.drift):
        parts.append("for the model in production, add --drift DRIFT.json (written by "
                     "mladvisor drift)")
    if not parts:
        return []
    return ["", _wrap("How to: " + "; ".join(parts) + ".", "  ")]


def _ladder(decision: Decision, style: Style) -> list[str]:
    """Each option by service name and method, with its status and first two reasons."""
    names = labels().get("services", {})
    lines = ["", style("The ladder (simplest first)", bold=True)]
    for option in decision.options:
        mark = STATUS_MARKS.get(str(option.status), "  ")
        if (option.model_extra or {}).get("group") and option.reasons:
            # services that take no new projects: one line ("Retired: ..."), then successors
            lines.append(textwrap.fill(" ".join(option.reasons[0].split()), width=96,
                                       initial_indent=f"  {mark} {option.rung!s:<14} ",
                                       subsequent_indent=" " * 20))
            for reason in option.reasons[1:3]:
                lines.append(_wrap(reason, " " * 8))
            continue
        name = names.get(option.service or "", {}).get("name") or option.service or "-"
        method = option.method or ""
        lines.append(f"  {mark} {option.rung!s:<14} {name:<30} {method:<18} {option.status}")
        for reason in option.reasons[:2]:
            lines.append(_wrap(reason, " " * 8))
        if option.cost is not None and option.status != "rejected":
            lines.append(_wrap("cost: " + _cost_line(option.cost), " " * 8))
    return lines


def _cost_line(cost: Cost) -> str:
    """An option's estimate in one line; the arithmetic is in --format json and the report."""
    line = monthly_text(cost, " to ")
    line += " (measured)" if cost.measured else ""
    if cost.build_usd.high:
        line += f", build {usd_range(cost.build_usd.low, cost.build_usd.high, ' to ')} USD once"
    if cost.payback_months is not None:
        line += ", " + payback_text(cost.payback_months.low, cost.payback_months.high, " to ")
    return line


def _findings(decision: Decision, style: Style) -> list[str]:
    """The findings that are not informational in full; the informational ones counted."""
    lines: list[str] = []
    findings = [f for f in decision.findings if f.severity != "info"]
    if findings:
        lines += ["", style("Findings", bold=True)]
        for f in findings:
            tag = style(f"[{f.severity}]", fg=SEVERITY_COLOURS.get(str(f.severity)))
            lines.append(f"  {tag} {f.title}  ({f.rule}, {f.phase})")
            lines.append(_wrap(f.rationale or "", "      "))
    info = [f for f in decision.findings if f.severity == "info"]
    if info:
        lines += ["", f"  and {len(info)} informational finding(s); see --format json or html."]
    return lines
