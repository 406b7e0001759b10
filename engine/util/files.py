"""Writing output files, in one place: whole or not at all, with the permissions a user expects,
and never at the cost of what the path named before.

A regular file (or a path not there yet) is replaced atomically: the data goes to a temporary
file beside it, which is renamed over it only once complete, so a failed render or a full disk
leaves the old file as it was. A symbolic link is written through: its target is replaced and
the link stays. A character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is
written to directly, streamed, never replaced; a directory, a block device or a socket is
refused. New files get 0666 less the umask, as with any other tool; a file being replaced
keeps its permissions; a secret passes its own `mode` (e.g. 0o600), which is applied exactly.

A best-effort copy (the audit log's head file) uses the same temporary file and rename but
skips the fsyncs, which would slow the writer it follows, and reports failure instead of
raising: see write_best_effort.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from engine.errors import InputError

STDOUT = "-"  # the conventional name for standard output in an --out option


@dataclass(frozen=True)
class Destination:
    """A checked place to write: `target` is the path with symbolic links resolved."""

    given: Path
    target: Path
    streamed: bool  # a character device or FIFO: written in place, never replaced
    field: str = ""  # the option it came from, for messages

    def write(self, data: bytes, mode: int | None = None) -> None:
        """Write `data` whole; any failure is an InputError naming the path (exit 2)."""
        try:
            if self.streamed:
                _write_stream(self.target, data)
            else:
                _replace(self.target, data, mode)
        except OSError as error:
            raise unwritable(self.given, error.strerror or str(error), self.field) from None


def is_stdout(path: str | os.PathLike[str] | None) -> bool:
    return path is not None and os.fspath(path) == STDOUT


def unwritable(path: str | os.PathLike[str], why: str, field: str = "") -> InputError:
    return InputError(os.fspath(path), field, f"cannot be written: {why}")


def check_destination(path: str | os.PathLike[str], field: str = "") -> Destination:
    """Check before any work is done that `path` can be written, and how.

    `field` names the option in messages (e.g. "--out"). Raises InputError (exit 2)."""
    given = Path(path)
    target = Path(os.path.realpath(given))
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:  # a symlink loop, a component that is a file, no permission
        raise unwritable(given, error.strerror or str(error), field) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        return _special(given, target, info, field)
    if info is not None and not os.access(target, os.W_OK):  # read-only: as the shell's `>`
        raise unwritable(given, "the file is read-only (permission denied)", field)
    parent = target.parent
    if not parent.is_dir():
        raise unwritable(given, f"the directory {parent} does not exist", field)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise unwritable(given, f"the directory {parent} is not writable", field)
    return Destination(given, target, streamed=False, field=field)


def _special(given: Path, target: Path, info: os.stat_result, field: str) -> Destination:
    """Something other than a regular file is there: write into it or refuse, never replace."""
    if stat.S_ISDIR(info.st_mode):
        raise unwritable(given, "it is a directory", field)
    if not (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        kind = "block device" if stat.S_ISBLK(info.st_mode) else "socket or special file"
        raise unwritable(given, f"it is a {kind} (only a regular file, a character device or "
                         "a FIFO is written)", field)
    if not os.access(target, os.W_OK):
        raise unwritable(given, "permission denied", field)
    return Destination(given, target, streamed=True, field=field)


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` whole or not at all (see the module docstring).

    `mode` None: a new file gets 0666 & ~umask, a replaced one keeps its permissions; an int
    (e.g. 0o600 for a key) is applied exactly, and the file is never wider meanwhile."""
    check_destination(path).write(data, mode)


def write_best_effort(path: str | os.PathLike[str], data: bytes) -> bool:
    """Replace `path` with `data` whole or not at all, without fsync: a crash may lose the new
    content, never half-write it. The path itself is replaced (no destination checks, as it is
    the program's own file); returns False instead of raising when it cannot be written."""
    try:
        _replace(Path(path), data, None, durable=False)
    except OSError:
        return False
    return True


@contextmanager
def atomic_text(path: str | os.PathLike[str], field: str = "") -> Iterator[IO[str]]:
    """A UTF-8 text stream that becomes `path` only when the block completes, for output too
    large to hold in memory (an export): the same checks and guarantees as atomic_write."""
    destination = check_destination(path, field)
    if destination.streamed:
        fd = os.open(destination.target, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        return
    target = destination.target
    keep = _existing_mode(target)
    fd, tmp = _temp_beside(target, 0o666 if keep is None else 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if keep is not None:
                os.fchmod(handle.fileno(), keep)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)


def _write_stream(target: Path, data: bytes) -> None:
    # No O_CREAT: if the device or FIFO vanished since the check, fail rather than create a file.
    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _replace(target: Path, data: bytes, mode: int | None, durable: bool = True) -> None:
    keep = _existing_mode(target) if mode is None else mode
    fd, tmp = _temp_beside(target, 0o666 if keep is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            if keep is not None:
                os.fchmod(handle.fileno(), keep)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _sync_directory(target.parent)


def _existing_mode(target: Path) -> int | None:
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _temp_beside(target: Path, mode: int) -> tuple[int, str]:
    """A new file in the target's directory (so the rename is atomic); `mode` goes through the
    umask, as for any file a tool creates."""
    stem = target.name[:100]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    for _ in range(100):
        tmp = str(target.parent / f".{stem}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, f"no free temporary name beside {target}")


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; best effort, as not every file system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
