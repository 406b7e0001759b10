"""`mladvisor serve`: the web questionnaire and report viewer."""

from __future__ import annotations

import os
from pathlib import Path

import click

from engine.cli._common import CONTEXT
from engine.errors import InputError

MIN_TOKEN = 8
MAX_TOKEN_FILE = 4096  # bytes: a token file is one short line


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs an access token, or "
                   "accounts (`mladvisor users add`).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token-file", default=None, metavar="PATH",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Read the access token from the first line of this file (keep it mode "
                   "600). Default: $MLADVISOR_TOKEN. Required when --host is not a loopback "
                   "address.")
@click.option("--token", default=None, metavar="TOKEN",
              help="Access token on the command line. Other local users can read it (ps, "
                   "/proc/PID/cmdline): prefer $MLADVISOR_TOKEN or --token-file.")
@click.option("--max-body", default=64 * 1024, show_default=True, type=click.IntRange(1024),
              help="Largest request body accepted, in bytes; larger ones get 413.")
@click.option("--database", default=None, metavar="URL", envvar="MLADVISOR_DATABASE",
              show_envvar=True,
              help="Keep accounts, sessions, projects and the audit log in this PostgreSQL "
                   "database (postgresql://user@host/db), shared by every app process behind "
                   "a load balancer, or in the SQLite files of the folder sqlite:///PATH "
                   "names. Default: the SQLite files in MLADVISOR_HOME.")
@click.option("--trusted-proxy", "proxies", multiple=True, metavar="ADDRESS",
              help="A reverse proxy or load balancer in front of the app (an address or a "
                   "network such as 10.0.0.0/8; repeatable). Only requests from it may name "
                   "the client's address (X-Forwarded-For, which the login and token limits "
                   "count by) and the scheme (X-Forwarded-Proto); nobody else can.")
def serve(host: str, port: int, token_file: Path | None, token: str | None,
          max_body: int, database: str | None, proxies: tuple[str, ...]) -> None:
    """Serve the questionnaire as a web form, with results, PDF reports and past assessments.

    Assessments are recorded in the audit log (MLADVISOR_HOME). The server listens on
    127.0.0.1 by default; to share it on a network, give an access token and open the link
    it prints (the token is then kept in a cookie). Wrong tokens are rate-limited per client
    address; idle and slow connections are closed, and at most 100 are served at once.

    Once accounts exist (`mladvisor users add NAME --role admin`), everyone logs in instead,
    and each role may do what the README's role table says; the access token is then not
    used. Off loopback the login cookie is Secure: serve it behind HTTPS.

    With --database (or MLADVISOR_DATABASE) several app processes, on one machine or many,
    serve one team: a login on one is valid on the others, and their assessments join one
    hash chain. The signing keys and checkpoints stay in each MLADVISOR_HOME.

    \b
    Example:
        mladvisor serve
        MLADVISOR_TOKEN=$(openssl rand -hex 16) mladvisor serve --host 0.0.0.0 --port 8080
        mladvisor serve --host 0.0.0.0 --token-file ~/.mladvisor/token
        mladvisor serve --host 0.0.0.0 --database postgresql://mladvisor@db.internal/team
    """
    from engine.team.accounts import has_accounts
    from engine.web.security import is_loopback

    if token is not None:
        click.echo("mladvisor: warning: --token is visible to other local users (ps, "
                   "/proc/PID/cmdline); use MLADVISOR_TOKEN or --token-file instead", err=True)
    if token is None and token_file is not None:
        token = read_token_file(token_file)
    token = token or os.environ.get("MLADVISOR_TOKEN") or None
    if token is not None and len(token) < MIN_TOKEN:
        raise click.BadParameter(f"use an access token of at least {MIN_TOKEN} characters",
                                 param_hint="--token")
    from engine.paths import database_url, sqlite_home

    store_url = database_url(database)
    home = sqlite_home(database)  # sqlite:///PATH: the SQLite files there, else MLADVISOR_HOME
    team = has_accounts(home, store_url)
    if team and token:
        click.echo("mladvisor: warning: accounts exist, so everyone logs in and the access "
                   "token is not used", err=True)
    if not is_loopback(host) and not token and not team:
        raise click.UsageError(
            f"refusing to serve on {host} without an access token: give --token-file or set "
            "MLADVISOR_TOKEN, create accounts (mladvisor users add), or serve on 127.0.0.1")
    from engine.web import Settings, create_app
    from engine.web.server import bind, server

    app = create_app(Settings(host=host, token=token, max_body=max_body, home=home,
                              database=store_url))
    sock = bind(host, port)  # a busy port is an error before anything is announced
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    from urllib.parse import quote

    from engine.util.text import for_terminal

    link = url + (f"?token={quote(token, safe='')}" if token and not team else "")
    click.echo(f"mladvisor: serving the questionnaire on {for_terminal(link)}"
               + (" (log in with an account)" if team else ""), err=True)
    if store_url is not None:
        from engine.paths import redact_url

        click.echo("mladvisor: accounts and the audit log are in "
                   + for_terminal(redact_url(store_url)), err=True)
    elif database:
        click.echo(f"mladvisor: accounts and the audit log are in {for_terminal(str(home))}",
                   err=True)
    try:
        server(app, proxies=trusted_proxies(proxies)).run(sockets=[sock])
    finally:
        app.state.web.assessor.close()
        app.state.web.team.close()


def trusted_proxies(given: tuple[str, ...]) -> list[str]:
    """The proxies' addresses or networks, checked (one line naming the bad one, exit 2)."""
    import ipaddress

    out = []
    for value in given:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise InputError("--trusted-proxy", "", "an IP address or network (such as "
                             "10.0.0.5 or 10.0.0.0/8)", value) from None
    return out


def read_token_file(path: Path) -> str:
    """The first line of `path`, stripped; an unreadable or empty file is an input error."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TOKEN_FILE + 1)
    except OSError as error:
        raise InputError(str(path), "", "a readable file holding the access token",
                         error.strerror or str(error)) from None
    lines = data[:MAX_TOKEN_FILE].decode("utf-8", "replace").splitlines()
    token = lines[0].strip() if lines else ""
    if len(data) > MAX_TOKEN_FILE or not token or "\ufffd" in token:
        raise InputError(str(path), "", f"the access token as one line of UTF-8 text "
                         f"(at most {MAX_TOKEN_FILE} bytes)")
    return token
