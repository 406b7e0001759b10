"""Helpers for the review, project and portfolio tests: real assessments of the examples
recorded through the real CLI into the test's MLADVISOR_HOME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from engine.cli import cli
from tests.conftest import EXAMPLES


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def answers(example: str, **changes: Any) -> dict[str, Any]:
    """An example's answers with dotted-path changes (`business__kpi="x"` style is avoided:
    pass {"business.kpi": "x"} as **{...})."""
    doc = yaml.safe_load((EXAMPLES / example).read_text())
    for path, value in changes.items():
        node = doc
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return doc


def assess(tmp: Path, doc: dict[str, Any], name: str = "answers.yaml") -> dict[str, Any]:
    """Assess and record `doc`; returns the decision JSON."""
    path = tmp / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run("assess", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def blockers(decision: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in decision["findings"] if f["severity"] == "blocker"]
