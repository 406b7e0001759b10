"""Format ids of the documents mladvisor writes, importable without pydantic: a command that
only writes a document need not build its models (a tenth of a second or more)."""

from __future__ import annotations

DRIFT_SCHEMA = "mladvisor.drift/1"
