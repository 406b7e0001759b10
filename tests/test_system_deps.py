"""scripts/system-deps against a fake dpkg/apt-get/id/sudo on PATH: this machine's real packages
are never queried for the missing cases, nor installed or removed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "system-deps"
NEEDED = ["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0",
          "fonts-dejavu-core", "fonts-noto-cjk", "poppler-utils", "chromium",
          "default-jre-headless", "postgresql", "gcc", "libc6-dev"]

# A package is installed when a file of its name exists in $STATE; apt-get logs its arguments and
# "installs" by creating those files; $FAKE_UID is the user; sudo works when $FAKE_SUDO is set.
STUBS = {
    "dpkg-query": """#!/bin/sh
if [ "$1" = -S ]; then
  case "$2" in */python3.11) echo "python3.11-minimal: $2"; exit 0 ;; esac
  exit 1
fi
for last; do :; done
[ -e "$STATE/$last" ] && printf 'ii ' && exit 0
exit 1
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$STATE/log"
[ -n "${APT_FAILS:-}" ] && exit 100
if [ "$1" != update ]; then
  for p; do case "$p" in -*|install) ;; *) touch "$STATE/$p" ;; esac; done
fi
""",
    "id": '#!/bin/sh\necho "$FAKE_UID"\n',
    "sudo": """#!/bin/sh
[ -n "${FAKE_SUDO:-}" ] || exit 1
[ "$1" = -n ] && shift
echo "sudo $*" >> "$STATE/log"
exec "$@"
""",
}


@pytest.fixture()
def fake(tmp_path: Path) -> Path:
    """The stub directory; its `state` folder holds the installed packages and the log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in STUBS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "state").mkdir()
    for name in NEEDED:
        (tmp_path / "state" / name).touch()
    return tmp_path


def run(fake: Path, *args: str, uid: int = 0, sudo: bool = False,
        apt_fails: bool = False) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{fake / 'bin'}:/usr/bin:/bin", "STATE": str(fake / "state"),
           "FAKE_UID": str(uid), "HOME": str(fake)}
    if sudo:
        env["FAKE_SUDO"] = "1"
    if apt_fails:
        env["APT_FAILS"] = "1"
    return subprocess.run(["sh", str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def log(fake: Path) -> list[str]:
    path = fake / "state" / "log"
    return path.read_text().splitlines() if path.exists() else []


def test_everything_present_is_silent_and_never_calls_apt(fake: Path) -> None:
    result = run(fake)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert log(fake) == []


def test_root_installs_only_what_is_missing(fake: Path) -> None:
    (fake / "state" / "chromium").unlink()
    (fake / "state" / "poppler-utils").unlink()
    result = run(fake)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # make may call it inside $(shell ...)
    assert log(fake) == ["apt-get update -qq",
                         "apt-get install -y -qq --no-install-recommends poppler-utils chromium"]
    assert run(fake).returncode == 0 and len(log(fake)) == 2  # now quiet again


def test_a_user_without_sudo_gets_the_one_command_and_exit_2(fake: Path) -> None:
    (fake / "state" / "chromium").unlink()
    result = run(fake, uid=1000)
    assert result.returncode == 2
    assert "sudo apt-get install -y chromium" in result.stderr
    assert log(fake) == []


def test_a_user_with_passwordless_sudo_installs_through_it(fake: Path) -> None:
    (fake / "state" / "fonts-dejavu-core").unlink()
    result = run(fake, uid=1000, sudo=True)
    assert result.returncode == 0, result.stderr
    assert "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq " \
           "--no-install-recommends fonts-dejavu-core" in log(fake)


def test_check_never_installs(fake: Path) -> None:
    (fake / "state" / "gcc").unlink()
    result = run(fake, "--check")
    assert result.returncode == 2 and "apt-get install -y gcc" in result.stderr
    assert log(fake) == []


def test_a_failed_install_stops_with_the_command(fake: Path) -> None:
    (fake / "state" / "chromium").unlink()
    result = run(fake, apt_fails=True)
    assert result.returncode == 2 and "apt-get install -y chromium" in result.stderr


def test_debians_own_python_needs_its_venv_and_headers(fake: Path) -> None:
    python = fake / "python3.11"  # the fake dpkg says Debian's python3.11-minimal owns it
    python.touch(mode=0o755)
    result = run(fake, "--check", str(python))
    assert result.returncode == 2
    assert "apt-get install -y python3.11-venv python3.11-dev" in result.stderr
    assert run(fake, "--check", "/nowhere/python3.13").returncode == 0  # not Debian's: nothing


def test_build_asks_only_for_what_the_virtualenv_needs(fake: Path) -> None:
    (fake / "state" / "chromium").unlink()
    assert run(fake, "--check", "--build").returncode == 0
    (fake / "state" / "libc6-dev").unlink()
    result = run(fake, "--check", "--build")
    assert result.returncode == 2 and "apt-get install -y libc6-dev" in result.stderr


def test_no_python_at_all_asks_for_debians_python3(fake: Path) -> None:
    result = run(fake, "--python", "--build", "--check")
    assert result.returncode == 2
    assert "apt-get install -y python3 python3-venv python3-dev" in result.stderr


def test_this_machine_has_everything() -> None:
    """The suite's own prerequisite, checked for real (never installing: --check)."""
    result = subprocess.run([str(SCRIPT), "--check"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
