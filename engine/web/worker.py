"""Assessments run in a child process, so a crash in the rule engine's C core costs one request,
not the server.

durable_rules is a C extension that has died (SIGSEGV, "double free") on some inputs; inside the
web server that would take every open page down with it. One worker process assesses and
records the answers (the audit log, SQLite or PostgreSQL, is safe across processes); when it
dies, the person gets an error page, nothing is recorded, and the next request starts a fresh
worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, MladvisorError

ASSESS_TIMEOUT = 30.0  # seconds; a case takes milliseconds, so this is a hung engine


class EngineStopped(MladvisorError):
    """The worker process died while assessing (a crash in the rule engine)."""


_logs: dict[tuple[str, str | None], Any] = {}  # per worker process: the open log of each store


@dataclass(frozen=True)
class Evidence:
    """Evidence uploaded with the form, already read by engine.evidence.files, and the names
    of the files it came from (so the engine's own checks name them too)."""

    benchmarks: list[dict[str, Any]] | None = None
    drift: dict[str, Any] | None = None
    benchmarks_file: str = "<benchmarks>"
    drift_file: str = "<drift>"


def assess_and_record(doc: dict[str, Any], home: str | None, evidence: Evidence | None = None,
                      database: str | None = None,
                      account: dict[str, str] | None = None) -> tuple[Any, ...]:
    """In the worker: assess `doc`, append it to the log (with the submitting `account`, when
    there are accounts); errors come back as plain tuples (exceptions with their own
    constructors do not survive pickling)."""
    from engine.api import Sources, assess
    from engine.audit import open_log

    ev = evidence or Evidence()
    try:
        assessment = assess({"answers": doc, "benchmarks": ev.benchmarks, "drift": ev.drift},
                            sources=Sources(answers="form", benchmarks=ev.benchmarks_file,
                                            drift=ev.drift_file))
        key = (str(home), database)
        if key not in _logs:
            _logs[key] = open_log(Path(home) if home is not None else None, database=database)
        return ("ok", _logs[key].append(assessment, None, account=account))
    except InputError as error:
        got = error.got if isinstance(error.got, str | int | float | bool | None) else None
        return ("input", error.file, error.path, error.expected, got)
    except MladvisorError as error:
        return ("error", str(error))
    except OSError as error:  # e.g. the log's directory cannot be created
        return ("error", f"{error.filename or 'the audit log'}: {error.strerror or error}")


def replay_recorded(record_id: str, home: str | None,
                    database: str | None = None) -> tuple[Any, ...]:
    """In the worker: re-run a recorded assessment with its recorded rule base and with the
    current one (engine.audit.replay); the result is a plain dict, as the CLI's JSON has it."""
    from engine.audit import open_log
    from engine.audit.replay import replay_record

    try:
        with open_log(Path(home) if home is not None else None, create=False,
                      database=database) as log:
            return ("ok", replay_record(log, log.get(record_id), current=True))
    except InputError as error:
        return ("input", error.file, error.path, error.expected, None)
    except MladvisorError as error:
        return ("error", str(error))


def _watch_parent() -> None:
    """In the worker: exit when the server process is gone, whichever way it went."""
    import os

    def watch(parent: int) -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, args=(os.getppid(),), daemon=True).start()


class Assessor:
    """One worker process, started on first use and replaced when it dies."""

    def __init__(self, home: Path | None, database: str | None = None) -> None:
        self.home = None if home is None else str(home)
        self.database = database
        self._pool: Any = None
        self._lock = threading.Lock()  # one assessment at a time, as with one engine

    def run(self, doc: dict[str, Any], evidence: Evidence | None = None,
            account: dict[str, str] | None = None) -> str:
        """The record id of the new assessment, recorded as submitted by `account` ({name,
        role}) when given; InputError for bad answers, EngineStopped or another
        MladvisorError when it could not be assessed or recorded."""
        return str(self._call(assess_and_record, doc, self.home, evidence, self.database,
                              account, stopped="assessing these answers; nothing was recorded"))

    def replay(self, record_id: str) -> dict[str, Any]:
        """engine.audit.replay's result for one recorded assessment, run in the worker like an
        assessment (an edited record may reach any code path of the engine)."""
        result = self._call(replay_recorded, record_id, self.home, self.database,
                            stopped="replaying this decision")
        return dict(result)

    def _call(self, function: Any, *args: Any, stopped: str) -> Any:
        """`function(*args)` in the worker, its ("ok", value) | ("input", ...) | ("error", text)
        answer turned back into the value or the error."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent)
            try:
                result = self._pool.submit(function, *args).result(timeout=ASSESS_TIMEOUT)
            except (BrokenProcessPool, TimeoutError):  # died, or hung (a "double free" can)
                self._discard()
                raise EngineStopped(f"the rule engine stopped while {stopped}") from None
        if result[0] == "input":
            raise InputError(*result[1:])
        if result[0] == "error":
            raise MladvisorError(result[1])
        return result[1]

    def _discard(self) -> None:
        """Kill the worker (dead or hung) and forget the pool; the next run starts afresh."""
        pool, self._pool = self._pool, None
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
