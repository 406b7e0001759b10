"""Which recorded assessments belong to which project, kept in memory and brought up to date by
reading only what was appended since the last look.

A result page shows its project's review state and history; finding the project's assessments
by reading every assessment in the log grows with the log (0.2 CPU s a page at 2,000 records).
The log is append-only, so what an index has read stays true: each look reads only the records
with a higher number than the last one it saw. Several app processes over one database each
keep their own index and each catches up the same way.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from engine.projects.ids import project_of_record

if TYPE_CHECKING:
    from engine.audit.store import AuditLog


class ProjectIndex:
    """{project id: record numbers of its assessments} of one log, caught up on each look."""

    def __init__(self) -> None:
        self._seen = 0
        self._by_project: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def seqs(self, log: AuditLog, project_id: str) -> list[int]:
        """The record numbers of the project's assessments, oldest first."""
        with self._lock:
            for record in log.iter_records(kind="assessment", after=self._seen):
                pid, _ = project_of_record(record.body)
                self._by_project.setdefault(pid, []).append(record.seq)
                self._seen = record.seq
            return list(self._by_project.get(project_id, []))
