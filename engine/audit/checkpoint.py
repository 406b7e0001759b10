"""Checkpoints: the signed head of the log (count, head hash), kept outside the database.

A chain proves that nothing inside it changed, not that nothing was cut off its end: whoever
deletes the last records leaves a shorter chain that still links. A checkpoint saved elsewhere
(a file, a ticket, an e-mail) vouches for the first `count` records; `verify` then fails if the
log has fewer records or if record `count` is not the one the checkpoint names.
`mladvisor audit checkpoint` also keeps a copy in MLADVISOR_HOME/checkpoints/, checked by default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from engine.audit.canonical import canonical_json
from engine.errors import InputError
from engine.util.files import atomic_write

if TYPE_CHECKING:
    from engine.audit.store import AuditLog

CHECKPOINT_SCHEMA = "mladvisor.audit-checkpoint/1"
_DUMP_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_FIELDS = {"schema", "log_id", "count", "head_hash", "time", "key_id", "signature"}


def signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    """What the signature covers: the canonical checkpoint without its signature."""
    return canonical_json({k: v for k, v in checkpoint.items()
                           if k != "signature" and not k.startswith("_")})


def make_checkpoint(log: AuditLog) -> dict[str, Any]:
    from engine.audit.store import utc_now

    count, head_hash = log.head()
    checkpoint: dict[str, Any] = {"schema": CHECKPOINT_SCHEMA, "log_id": log.meta().get("log_id"),
                                  "count": count, "head_hash": head_hash, "time": utc_now()}
    signer = log.signer
    if signer is not None:
        checkpoint["key_id"] = signer.key_id
        checkpoint["signature"] = signer.sign(signed_bytes(checkpoint))
    return checkpoint


def checkpoint_dir(home: Path) -> Path:
    return home / "checkpoints"


def save_checkpoint(home: Path, checkpoint: dict[str, Any]) -> Path:
    """Keep a copy beside the log (outside the database) so that `verify` checks it by default."""
    stamp = str(checkpoint["time"]).replace(":", "").replace("-", "").replace(".", "")
    path = checkpoint_dir(home) / f"checkpoint-{int(checkpoint['count']):09d}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, dump_checkpoint(checkpoint))
    return path


def dump_checkpoint(checkpoint: dict[str, Any]) -> bytes:
    """Indented JSON with sorted keys (the head file is rewritten after every append: orjson
    writes it in a tenth of `json`'s time, byte for byte the same while it is ASCII)."""
    try:
        data: bytes = orjson.dumps(checkpoint, option=_DUMP_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        data = b""
    if data.isascii() and data:
        return data
    return (json.dumps(checkpoint, indent=2, sort_keys=True) + "\n").encode("utf-8")


def validate_checkpoint(data: Any, source: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(source, "", "a checkpoint object (mladvisor.audit-checkpoint/1)",
                         type(data).__name__)
    if data.get("schema") != CHECKPOINT_SCHEMA:
        raise InputError(source, "schema", CHECKPOINT_SCHEMA, data.get("schema"))
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InputError(source, unknown[0], "a known checkpoint field", unknown[0])
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InputError(source, "count", "an integer >= 0", count)
    head = data.get("head_hash")
    if not isinstance(head, str) or len(head) != 64 or not _is_hex(head):
        raise InputError(source, "head_hash", "64 hex digits", head)
    for name in ("log_id", "time", "key_id", "signature"):
        if name in data and not isinstance(data[name], str):
            raise InputError(source, name, "a string", type(data[name]).__name__)
    if bool(data.get("signature")) != bool(data.get("key_id")):
        raise InputError(source, "signature", "a signature and its key_id together")
    return data


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def load_checkpoint(path: Path) -> dict[str, Any]:
    from engine.util.load import load_document

    data = load_document(path, json_only=True)
    checkpoint = validate_checkpoint(data, str(path))
    checkpoint = dict(checkpoint)
    checkpoint.setdefault("_source", str(path))
    return checkpoint


def saved_checkpoints(home: Path) -> list[Path]:
    """The checkpoint files kept in home/checkpoints; `verify` loads each, and a malformed one
    is a verification failure, not a usage error."""
    directory = checkpoint_dir(home)
    if not directory.is_dir():
        return []
    return sorted(directory.glob("checkpoint-*.json"))
