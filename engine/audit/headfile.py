"""The head file (`audit.head.json`), rewritten after every append without a second flush.

Replacing a file by rename makes ext4 (auto_da_alloc) write the new file's data out during
the rename, so that a crash cannot leave it empty: measured here, that cost as much as the
log's own fsync, a second flush per append. So the head file has a fixed size (JSON padded
with spaces to HEAD_BYTES) and is overwritten in place: one write smaller than a disk sector,
which a crash leaves whole or not at all (then the previous head stays, a true statement about
a prefix of the log, as before). The first write, a head of another size (an older version's),
a symlink, or a head too long to pad go through temp file and rename as they always did.

A reader may catch an overwrite half done; `read_stable` reads until two reads agree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from engine.util.files import write_best_effort

HEAD_BYTES = 512  # one sector: a signed head takes about 340 bytes
_T = TypeVar("_T")


def padded(content: bytes) -> bytes | None:
    """The content padded with spaces before its final newline to HEAD_BYTES, or None."""
    body = content.rstrip(b"\n")
    if len(body) + 1 > HEAD_BYTES:
        return None
    return body + b" " * (HEAD_BYTES - len(body) - 1) + b"\n"


def write_head(path: Path, content: bytes) -> bool:
    """Best effort, like write_best_effort: False when the head could not be written."""
    data = padded(content)
    if data is not None and _overwrite(path, data):
        return True
    return write_best_effort(path, data or content)


def _overwrite(path: Path, data: bytes) -> bool:
    if not hasattr(os, "pwrite"):
        return False
    flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False  # missing, a symlink, not ours to write: the rename path decides
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        return os.pwrite(fd, data, 0) == len(data)
    except OSError:
        return False
    finally:
        os.close(fd)


def read_stable(path: Path, parse: Callable[[Path], _T],
                errors: tuple[type[Exception], ...], tries: int = 5) -> _T:
    """`parse(path)` from a moment when the file did not change while it was read; its error
    (one of `errors`) only when the file held still too."""
    for attempt in range(1, tries + 1):
        before = _content(path)
        try:
            result = parse(path)
        except errors:
            if attempt == tries or _content(path) == before:
                raise
            continue
        if attempt == tries or _content(path) == before:
            return result
    raise AssertionError("unreachable")


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
