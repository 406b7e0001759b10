"""`--database` / MLADVISOR_DATABASE as the contract writes it: `postgresql://...` for the
team's server, or `sqlite:///PATH` for the SQLite files in a folder of its own (the default
being MLADVISOR_HOME); anything else is one line naming where it came from, never a password."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.errors import InputError
from engine.paths import database_url, sqlite_home
from tests.serve_process import serving
from tests.test_web_team import PASSWORD

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "support-ticket-routing.yaml"


def test_postgresql_urls_pass_and_sqlite_urls_name_a_folder(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv("MLADVISOR_DATABASE", raising=False)
    assert database_url("postgresql://u@db/team") == "postgresql://u@db/team"
    assert database_url(f"sqlite:///{tmp_path}") is None  # the SQLite files, not a server
    assert sqlite_home(f"sqlite:///{tmp_path}/stores") == tmp_path / "stores"
    assert sqlite_home("sqlite:///", tmp_path) == tmp_path
    assert sqlite_home(None, tmp_path) == tmp_path
    monkeypatch.setenv("MLADVISOR_DATABASE", f"sqlite:///{tmp_path}/from-env")
    assert sqlite_home() == tmp_path / "from-env"
    with pytest.raises(InputError) as bad:
        database_url("mysql://admin:s3cret@db/team")
    assert bad.value.file == "--database" and "s3cret" not in str(bad.value)
    with pytest.raises(InputError) as file_named:
        sqlite_home(f"sqlite:///{tmp_path}/audit.sqlite")
    assert "folder" in str(file_named.value)


def test_the_cli_keeps_the_stores_in_the_sqlite_folder(tmp_path: Path) -> None:
    stores, home = tmp_path / "stores", tmp_path / "home"
    env = {"MLADVISOR_HOME": str(home), "MLADVISOR_DATABASE": f"sqlite:///{stores}"}
    runner = CliRunner()
    assessed = runner.invoke(cli, ["assess", str(EXAMPLE), "--format", "json"], env=env)
    assert assessed.exit_code == 0, assessed.output
    added = runner.invoke(cli, ["users", "add", "ann", "--role", "admin", "--password-stdin"],
                          input=PASSWORD + "\n", env=env)
    assert added.exit_code == 0, added.output
    assert (stores / "audit.sqlite").is_file() and (stores / "team.sqlite").is_file()
    assert not (home / "audit.sqlite").exists() and not (home / "team.sqlite").exists()
    verified = runner.invoke(cli, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    wrong = runner.invoke(cli, ["audit", "verify"], env={**env, "MLADVISOR_DATABASE":
                                                         "mongodb://x"})
    assert wrong.exit_code == 2 and "MLADVISOR_DATABASE" in wrong.output
    assert "Traceback" not in wrong.output


def test_serve_uses_the_sqlite_folder(tmp_path: Path) -> None:
    import httpx

    stores = tmp_path / "stores"
    added = CliRunner().invoke(cli, ["users", "add", "ann", "--role", "admin",
                                     "--password-stdin"], input=PASSWORD + "\n",
                               env={"MLADVISOR_DATABASE": f"sqlite:///{stores}"})
    assert added.exit_code == 0, added.output
    log = tmp_path / "serve.log"
    with serving(tmp_path / "home", "--database", f"sqlite:///{stores}", log=log) as url:
        # the account made in the folder is the one the server knows: it asks for a login
        assert httpx.get(url + "/", follow_redirects=False).headers["location"].startswith(
            "/login")
    assert f"accounts and the audit log are in {stores}" in log.read_text()
