"""Display names for rung, service and metric ids, read from knowledge/ (never written in
Python).

The report renders from the decision alone; these names only make ids readable. Any problem
reading the knowledge files leaves the ids as they are.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any


def knowledge_document(path: Path) -> dict[str, Any]:
    """A knowledge YAML file as a mapping; {} when it cannot be read (names stay ids). Read
    with libyaml when PyYAML has it: the same objects, ten times faster (the service catalog
    took 0.1 s of every report in pure Python)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return document if isinstance(document, dict) else {}


def _entries(path: Path, key: str) -> list[dict[str, Any]]:
    items = knowledge_document(path).get(key)
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
    answers = {str(q["path"]): {"label": str(q["label"])}
               for section in knowledge_document(base / "questionnaire.yaml").get("sections") or []
               if isinstance(section, dict)
               for q in section.get("questions") or []
               if isinstance(q, dict) and q.get("path") and q.get("label")}
    precedence = knowledge_document(base / "ladder.yaml").get("verdict_precedence") or []
    return {"rungs": rungs, "services": services, "answers": answers,
            "verdicts": {str(v): {"rank": str(i)} for i, v in enumerate(precedence)}}


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


@lru_cache(maxsize=4)
def _metric_names(root: str) -> dict[str, dict[str, str]]:
    document = knowledge_document(Path(root) / "metrics.yaml")
    return {part: {str(k): str(v) for k, v in (document.get(part) or {}).items()}
            for part in ("metrics", "units", "words") if isinstance(document.get(part), dict)}


@lru_cache(maxsize=512)
def _metric_label(root: str, metric: str) -> str:
    names = _metric_names(root)
    known = names.get("metrics", {})
    if metric in known:
        return known[metric]
    stem, unit = metric, ""
    for suffix, words in sorted(names.get("units", {}).items(), key=lambda u: -len(u[0])):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem, unit = stem[: -len(suffix)], words
            break
    vocabulary = names.get("words", {})
    parts = [vocabulary.get(w.lower(), w) for w in stem.replace("_", " ").split()]
    label = " ".join(parts)
    if label and label[0].islower() and parts[0] not in vocabulary.values():
        label = label[0].upper() + label[1:]
    return f"{label} ({unit})" if unit else label or metric


def metric_label(metric: object) -> str:
    """A metric or monitoring signal id as a reader's words (knowledge/metrics.yaml, with its
    fallback for ids it does not list); anything that is not an id comes back as text."""
    from engine.paths import knowledge_dir

    if not isinstance(metric, str) or not metric.strip():
        return "" if metric is None else str(metric)
    return _metric_label(str(knowledge_dir()), metric.strip())


def labels() -> dict[str, dict[str, dict[str, str]]]:
    """{"rungs": {id: {title, description}}, "services": {id: {name, purpose}}}; empty when
    absent."""
    from engine.paths import knowledge_dir

    return _labels(str(knowledge_dir()))
