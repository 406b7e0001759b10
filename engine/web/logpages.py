"""The audit log for compliance in the browser: verify it, download its export, replay a
decision.

The same checks and the same export as `mladvisor audit verify` and `audit export --format
jsonl` (default trust: the keys in MLADVISOR_HOME/keys, the head file and saved checkpoints),
on a read-only connection of its own, so that checking the log never writes to it. A replay
(`mladvisor audit replay ID`) runs in the assessment worker process, where a crash of the rule
engine on an edited record costs that page only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.web.app import WebApp

CHUNK = 64 * 1024
SPOOL = 1024 * 1024  # bytes of export kept in memory before it goes to a temporary file


def _verify(web: WebApp) -> dict[str, Any]:
    """{ok, summary | problems | missing} of a verification of the log."""
    from engine.audit import open_log
    from engine.audit.store import MissingLogError
    from engine.errors import AuditError

    try:
        log = open_log(web.settings.home, create=False, database=web.settings.database)
    except MissingLogError:
        return {"ok": False, "missing": True, "problems": []}
    try:
        return {"ok": True, "summary": log.verify(), "problems": [], "missing": False}
    except AuditError as error:
        problems = list(getattr(error, "problems", []) or [str(error)])
        return {"ok": False, "problems": problems, "missing": False}
    finally:
        log.close()


async def verify_page(web: WebApp, request: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(_verify, web)
    return web.page(request, "verify.html", nav="verify", title="Verify the audit log",
                    **result)


def _export(web: WebApp, mask: bool) -> IO[bytes] | None:
    """The JSON Lines export in a spooled temporary file (a large log is never held whole in
    memory), rewound; None when there is no log."""
    import io

    from engine.audit import open_log
    from engine.audit.store import MissingLogError

    try:
        log = open_log(web.settings.home, create=False, database=web.settings.database)
    except MissingLogError:
        return None
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # closed by _chunks
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        log.export(text, "jsonl", mask=mask)
        text.flush()
        text.detach()
    except BaseException:
        spool.close()
        raise
    finally:
        log.close()
    spool.seek(0)
    return spool


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


async def export_file(web: WebApp, request: Any) -> Any:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import StreamingResponse

    mask = request.query_params.get("mask") in ("1", "yes", "true")
    spool = await run_in_threadpool(_export, web, mask)
    if spool is None:
        return web.error(request, 404, "No audit log", "Nothing has been recorded yet.")
    name = "mladvisor-audit-masked.jsonl" if mask else "mladvisor-audit.jsonl"
    return StreamingResponse(_chunks(spool), media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def replay_view(result: dict[str, Any]) -> dict[str, Any]:
    """What the replay page shows of engine.audit.replay's result, in the CLI's words."""
    from engine.audit.replaytext import MAX_REASONS, change_text

    current = result.get("current") or {}
    changes = [{"text": change_text(c), "why": list(c.get("why") or [])[:MAX_REASONS],
                "more": max(0, len(c.get("why") or []) - MAX_REASONS)}
               for c in current.get("changes") or []]
    engine = result.get("engine") or {}
    return {"result": result, "current": current, "changes": changes,
            "engines_differ": engine.get("recorded") != engine.get("replayed"),
            "engine": engine}


async def replay_page(web: WebApp, request: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    from engine.errors import MladvisorError

    record_id = request.path_params["record_id"]
    record = await run_in_threadpool(web.record, request, record_id)
    if record is None:
        return web.error(request, 404, "Assessment not found",
                         f"No recorded assessment has the id {record_id}.")
    try:
        result = await run_in_threadpool(web.assessor.replay, record.record_id)
    except MladvisorError as error:
        return web.error(request, 500, "The decision could not be replayed", str(error))
    return web.page(request, "replay.html", nav="past", title="Replay of a recorded decision",
                    rid=record.record_id, project=record.summary().project,
                    recorded_at=record.time, **replay_view(result))
