"""The report's sign-off section: the reviews recorded of the assessment, as the caller read
them from the audit log (engine.audit.review.Review.to_dict(), or any mapping with the same
keys). The report layer never opens the log itself: a decision file renders without reviews,
a recorded assessment with the ones its caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from engine.model.vocab import REVIEW_ACTIONS

ACTION_LABELS = {"approve": "Approved", "request-changes": "Changes requested",
                 "comment": "Comment"}
assert set(ACTION_LABELS) == set(REVIEW_ACTIONS)
MAX_TEXT = 2_000  # a comment or justification shown in a report: a long one is cut, marked


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _when(value: Any) -> str:
    """'30 November 2026, 14:05 UTC' from the record's ISO time (as the report dates read)."""
    if not isinstance(value, str):
        return "time unknown"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _text(value, 40)
    return moment.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def signoff_rows(reviews: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """One row per review, oldest first, each value already text for the templates."""
    rows = []
    for review in reviews or []:
        override = review.get("override") if isinstance(review.get("override"), dict) else None
        blockers = (override or {}).get("blockers")
        action = review.get("action")
        rows.append({
            "name": _text(review.get("user"), 200) or "?",
            "role": _text(review.get("role"), 100) or "?",
            "time": _when(review.get("time")),
            "time_iso": _text(review.get("time"), 40),
            "action": action if action in ACTION_LABELS else "comment",
            "verdict": ACTION_LABELS.get(str(action), _text(action, 40) or "?"),
            "comment": _text(review.get("comment")),
            "justification": _text((override or {}).get("justification")) if override else "",
            "overridden": [_text(b, 120) for b in blockers] if isinstance(blockers, list)
            else [],
            "account": review.get("account") is not False,
            "signed": bool(review.get("signed")),
            "record_id": _text(review.get("record_id"), 64),
        })
    return rows


def signoff_markdown(rows: list[dict[str, Any]], text: Any, code: Any) -> list[str]:
    """The section in Markdown; `text` and `code` are the Markdown module's escapers."""
    if not rows:
        return []
    signed = ", signed like it" if all(row["signed"] for row in rows) else ""
    lines = ["## Sign-off", "",
             "Reviews recorded of this assessment in the audit log, oldest first; each is a"
             f" record in the same hash chain as the decision{signed}.", ""]
    head = ["Reviewer", "Role", "Time", "Review", "Comment"]
    body = []
    for row in rows:
        comment = text(row["comment"])
        if row["justification"]:
            comment += (f" **Override** of {', '.join(code(b) for b in row['overridden'])}: "
                        f"{text(row['justification'])}")
        body.append([text(row["name"]) + ("" if row["account"] else " (no account)"),
                     text(row["role"]), text(row["time"]), f"**{text(row['verdict'])}**",
                     comment])
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in body]
    return lines + out + [""]
