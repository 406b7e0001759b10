"""`mladvisor schema`: JSON Schemas of the file formats, for editors and other tools."""

from __future__ import annotations

import click

from engine.cli._common import CONTEXT, emit, out_option


@click.command(context_settings=CONTEXT)
@click.argument("kind", type=click.Choice(["answers", "decision"]))
@out_option
def schema(kind: str, out: object) -> None:
    """Print the JSON Schema of the answers file or of the decision document.

    \b
    Example:
        mladvisor schema answers > answers.schema.json
    """
    from engine.util.canonical import pretty_bytes

    if kind == "answers":
        from engine.model.answers import answers_schema

        doc = answers_schema()
    else:
        from engine.model.decision import Decision

        doc = Decision.model_json_schema(by_alias=True)
    emit(pretty_bytes(doc), out)  # type: ignore[arg-type]
