"""The tamper-evident decision log (issue 5): append, read, verify, checkpoint, export, replay.

`open_log()` opens `MLADVISOR_HOME/audit.sqlite`; see store.py for the record format and
signing.py for how signing is enabled (`MLADVISOR_AUDIT_KEY` or `mladvisor audit keygen`).
"""

from __future__ import annotations

from engine.audit.store import GENESIS, LOG_FILE, AuditLog, open_log

__all__ = ["GENESIS", "LOG_FILE", "AuditLog", "open_log"]
