"""A throwaway PostgreSQL server for tests: a cluster made by initdb in a temporary directory,
listening on a Unix socket only (no TCP port to collide with another run), stopped and deleted
afterwards.

PostgreSQL refuses to run as root. When the tests run as root (CI containers do), the cluster's
directories are handed to the unprivileged `nobody` and its programs run as that user through
setpriv; the tests themselves connect over the socket with trust authentication.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UNPRIVILEGED = "nobody"
SUPERUSER = "mladvisor"


def server_bin() -> Path:
    """The directory of initdb and pg_ctl: Debian keeps them out of PATH, one per version."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found: run "
                       "scripts/system-deps, which installs Debian's postgresql package")


def _as_owner() -> tuple[list[str], tuple[int, int] | None]:
    """The command prefix and uid/gid that run the server as an unprivileged user when root."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam(UNPRIVILEGED)
    return (["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
             "--"], (user.pw_uid, user.pw_gid))


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a fresh cluster and yield its connection URL; stop and delete it on the way out."""
    bin_dir = server_bin()
    prefix, owner = _as_owner()
    root = Path(tempfile.mkdtemp(prefix="mladvisor-pg-"))
    root.chmod(0o755)  # the unprivileged owner must reach its directories inside
    data, sock, log = root / "data", root / "sock", root / "server.log"
    for directory in (data, sock):
        directory.mkdir(mode=0o700)
        if owner:
            os.chown(directory, *owner)
    if owner:
        log.touch()
        os.chown(log, *owner)

    def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *map(str, args)], cwd=root, check=check,
                              capture_output=True, text=True, timeout=120)

    try:
        run(bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        options = f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=50"
        started = run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-o", options, "start",
                      check=False)
        if started.returncode:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {tail}")
        yield f"postgresql://{SUPERUSER}@/postgres?host={sock}"
    finally:
        if (data / "postmaster.pid").exists():
            run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
