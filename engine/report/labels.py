"""Display names for rung and service ids, read from knowledge/ (never written in Python).

The report renders from the decision alone; these names only make ids readable. Any problem
reading the knowledge files leaves the ids as they are.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any


def _entries(path: Path, key: str) -> list[dict[str, Any]]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    items = document.get(key) if isinstance(document, dict) else None
    return [item for item in items or [] if isinstance(item, dict) and item.get("id")]


@lru_cache(maxsize=4)
def _labels(root: str) -> dict[str, dict[str, dict[str, str]]]:
    base = Path(root)
    rungs = {
        str(item["id"]): {"title": str(item.get("title") or ""),
                          "description": " ".join(str(item.get("description") or "").split())}
        for item in _entries(base / "ladder.yaml", "rungs")
    }
    services = {str(item["id"]): {"name": str(item.get("name") or ""),
                                  "purpose": _purpose(item)}
                for item in _entries(base / "services.yaml", "services")}
    return {"rungs": rungs, "services": services}


def _purpose(item: dict[str, Any]) -> str:
    """What a service is for, as its catalog entry says: the `what` of its `supports`
    entries, else the first sentence of its summary."""
    supports = item.get("supports")
    whats = [" ".join(str(s.get("what") or "").split()) for s in supports or []
             if isinstance(s, dict)] if isinstance(supports, list) else []
    if any(whats):
        return " ".join(dict.fromkeys(w for w in whats if w))
    summary = " ".join(str(item.get("summary") or "").split())
    return (summary.split(". ")[0].rstrip(".") + ".") if summary else ""


def labels() -> dict[str, dict[str, dict[str, str]]]:
    """{"rungs": {id: {title, description}}, "services": {id: {name, purpose}}}; empty when
    absent."""
    from engine.paths import knowledge_dir

    return _labels(str(knowledge_dir()))
