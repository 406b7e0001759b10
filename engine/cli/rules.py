"""`mladvisor rules`: inspect, check and test the rule base."""

from __future__ import annotations

import sys
from typing import Any

import click

from engine.cli._common import CONTEXT, emit, emit_text, format_option, out_option


@click.group(context_settings=CONTEXT)
def rules() -> None:
    """Inspect, lint and test the rule base (rules/ and knowledge/).

    \b
    Example:
        mladvisor rules list --phase data
        mladvisor rules services
        mladvisor rules lint
        mladvisor rules test
    """


@rules.command("list", context_settings=CONTEXT)
@click.option("--phase", help="Only the rules of this lifecycle phase.")
@format_option(["text", "json"], "text")
@out_option
def list_rules(phase: str | None, fmt: str, out: object) -> None:
    """List the rules: id, phase, severity and title, then how current the service catalog is
    (its oldest and newest `checked` date).

    \b
    Example:
        mladvisor rules list --phase monitoring
    """
    from engine.rulebase.loading import default_rulebase
    from engine.util.canonical import pretty_bytes

    rb = default_rulebase()
    selected = [r for r in rb.rules if phase is None or r.phase == phase]
    if fmt == "json":
        doc = [{"id": r.id, "phase": r.phase, "severity": r.severity, "title": r.title,
                "guidance": r.guidance, "status": r.status, "file": rb.sources[r.id],
                "line": rb.locations[r.id].line, "examples": len(r.examples)}
               for r in selected]
        emit(pretty_bytes(doc), out)  # type: ignore[arg-type]
        return
    lines = [f"{r.id:<58} {r.severity:<14} {r.title}" for r in selected]
    lines.append(f"{len(selected)} rules (rule base {rb.version}, sha256 {rb.sha256[:12]})")
    lines.append(f"{rb.knowledge.catalog.checked_text()} (oldest and newest `checked` date; "
                 "mladvisor rules services lists each)")
    emit_text("\n".join(lines) + "\n", out)  # type: ignore[arg-type]


@rules.command(context_settings=CONTEXT)
@format_option(["text", "json"], "text")
@out_option
def services(fmt: str, out: object) -> None:
    """List the service catalog: each service's offers, tasks, rungs, availability (with the
    day a closed service closed and its successor) and the date its facts were checked.
    Service ids here are what a benchmark row's `service` names.

    \b
    Example:
        mladvisor rules services
        mladvisor rules services --format json
    """
    from engine.rulebase.loading import default_rulebase
    from engine.util.canonical import pretty_bytes

    doc = catalog_doc(default_rulebase().knowledge.catalog)
    if fmt == "json":
        emit(pretty_bytes(doc), out)  # type: ignore[arg-type]
        return
    emit_text(catalog_text(doc), out)  # type: ignore[arg-type]


def catalog_doc(catalog: Any) -> list[dict[str, Any]]:
    """The catalog as plain data, offers by the ids decisions name them with. `closed_on` and
    `successor` are null and empty for a service that is open to new customers."""
    return [{"id": s.id, "name": s.name, "kind": s.kind, "availability": s.availability,
             "availability_note": " ".join(s.availability_note.split()),
             "closed_on": s.closed_on_text,
             "closed_on_note": " ".join(s.closed_on_note.split()),
             "successor": " ".join(s.successor.split()),
             "checked": s.checked.isoformat(), "docs": s.docs,
             "tasks": sorted({t for o in s.offers for t in o.tasks}),
             "offers": [{"offer": o.id, "rung": o.rung, "method": o.method, "runs": list(o.runs),
                         "tasks": list(o.tasks),
                         "how": {t: o.how_for(t) for t in o.tasks},
                         "labels": o.labels.model_dump(exclude_none=True),
                         "cost_tier": o.cost_tier, "effort": o.effort,
                         "explainable": o.explainable}
                        for o in s.offers]}
            for s in catalog.services]


def _by_text(how: dict[str, str]) -> dict[str, list[str]]:
    """Tasks grouped by their method text, so a text shared by several tasks prints once."""
    grouped: dict[str, list[str]] = {}
    for task, text in how.items():
        grouped.setdefault(text, []).append(task)
    return grouped


def catalog_text(doc: list[dict[str, Any]]) -> str:
    import textwrap

    def wrap(text: str, indent: str) -> list[str]:
        return textwrap.wrap(text, width=96, initial_indent=indent, subsequent_indent=indent)

    lines = []
    for service in doc:
        lines.append(f"{service['id']}  {service['name']}: {service['availability']}, "
                     f"checked {service['checked']}")
        if service["closed_on"] or service["successor"]:
            lines += wrap(f"closed on {service['closed_on'] or '(not given)'}; successor: "
                          f"{service['successor'] or '(not given)'}", "    ")
        if service["availability"] != "generally-available" and service["availability_note"]:
            lines += wrap(service["availability_note"], "    ")
        for offer in service["offers"]:
            lines.append(f"  {offer['offer']:<32} {offer['rung']:<14} {offer['method']:<18} "
                         + ", ".join(offer["runs"]))
            for text, tasks in _by_text(offer["how"]).items():
                lines += wrap(f"{', '.join(tasks)}: {text}", "      ")
        lines.append("")
    checked = sorted(s["checked"] for s in doc)
    lines.append(f"{len(doc)} services, {sum(len(s['offers']) for s in doc)} offers"
                 + (f"; checked {checked[0]} to {checked[-1]}" if checked else ""))
    return "\n".join(lines) + "\n"


@rules.command(context_settings=CONTEXT)
@click.option("--no-examples", is_flag=True, help="Static checks only; do not run the examples.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              metavar="YYYY-MM-DD", help="Judge the freshness of `checked` dates as of this day "
              "(default: today).")
def lint(no_examples: bool, today: Any) -> None:
    """Check the rule base: fact paths, guidance ids, examples and coverage, and the freshness
    of the knowledge.

    Each problem starts with where to look, `rules/data.yaml:LINE` (the rule's line, or its
    example's) or `knowledge/services.yaml:LINE`. A catalog, guidance or price entry whose
    `checked` date is older than the catalog's `stale_after_days` (180) is a warning; a service
    closed to new customers or at end of life without `closed_on` and `successor` is an error.
    Exits 2 when any error is found.

    \b
    Example:
        mladvisor rules lint
        mladvisor rules lint --today 2027-06-01
    """
    from engine.rulebase.lint import lint as run_lint
    from engine.rulebase.loading import default_rulebase

    rb = default_rulebase()
    problems = run_lint(rb, run_examples=not no_examples,
                        today=today.date() if today is not None else None)
    for problem in problems:
        click.echo(str(problem), err=problem.level == "error")
    errors = sum(p.level == "error" for p in problems)
    click.echo(f"{len(rb.rules)} rules and {len(rb.knowledge.catalog.services)} catalog "
               f"services checked: {errors} error(s), {len(problems) - errors} warning(s)")
    click.echo(rb.knowledge.catalog.checked_text())
    if errors:
        sys.exit(2)


@rules.command(context_settings=CONTEXT)
@click.argument("prefix", required=False)
@click.option("--verbose", "-v", is_flag=True, help="List every example, not only failures.")
@format_option(["text", "json"], "text")
def test(prefix: str | None, verbose: bool, fmt: str) -> None:
    """Run every rule's examples and print coverage.

    PREFIX limits the run to rule ids starting with it (e.g. data.). A failure is one line,
    `rules/data.yaml:LINE: RULE: example N (NAME): what went wrong`, LINE being where the
    example starts. Coverage names the rules no example fires, and the rules without an example
    where they do not fire. `--format json` prints one object per example result (rule, file,
    line, example, index, passed, message) and the coverage lines on stderr. Exits 2 on failure.

    \b
    Example:
        mladvisor rules test
        mladvisor rules test monitoring. -v
        mladvisor rules test data. --format json
    """
    from engine.rulebase.loading import default_rulebase
    from engine.rulebase.testing import run_all

    report = run_all(default_rulebase(), prefix)
    if fmt == "json":
        from engine.util.canonical import pretty_bytes

        click.echo(pretty_bytes([r.as_dict() for r in report.results]), nl=False)
    else:
        for result in report.results:
            if verbose or not result.passed:
                click.echo(str(result))
    for line in _coverage(report):
        click.echo(line, err=fmt == "json")
    if report.failed or report.uncovered:
        sys.exit(2)


def _coverage(report: Any) -> list[str]:
    """The summary lines after the results: coverage, then the count passed and failed."""
    rules_run = len({r.rule for r in report.results})
    lines = [f"coverage: {rules_run - len(report.uncovered)} of {rules_run} rules fired by "
             "an example"]
    if report.uncovered:
        lines.append("  never fired: " + ", ".join(report.uncovered))
    if report.no_negative:
        lines.append("  no example where they stay silent: " + ", ".join(report.no_negative))
    passed = len(report.results) - len(report.failed)
    lines.append(f"{passed} passed, {len(report.failed)} failed")
    return lines
