"""`mladvisor serve`: the web questionnaire and report viewer."""

from __future__ import annotations

import os

import click

from engine.cli._common import CONTEXT


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs an access token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token", default=None, metavar="TOKEN",
              help="Access token the browser must present (default: $MLADVISOR_TOKEN). "
                   "Required when --host is not a loopback address.")
@click.option("--max-body", default=64 * 1024, show_default=True, type=click.IntRange(1024),
              help="Largest request body accepted, in bytes; larger ones get 413.")
def serve(host: str, port: int, token: str | None, max_body: int) -> None:
    """Serve the questionnaire as a web form, with results, PDF reports and past assessments.

    Assessments are recorded in the audit log (MLADVISOR_HOME). The server listens on
    127.0.0.1 by default; to share it on a network, give an access token and open the link
    it prints (the token is then kept in a cookie).

    \b
    Example:
        mladvisor serve
        MLADVISOR_TOKEN=$(openssl rand -hex 16) mladvisor serve --host 0.0.0.0 --port 8080
    """
    from engine.web.security import is_loopback

    token = token or os.environ.get("MLADVISOR_TOKEN") or None
    if token is not None and len(token) < 8:
        raise click.BadParameter("use an access token of at least 8 characters",
                                 param_hint="--token")
    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"refusing to serve on {host} without an access token: give --token or set "
            "MLADVISOR_TOKEN (or serve on 127.0.0.1)")
    import uvicorn

    from engine.web import Settings, create_app

    app = create_app(Settings(host=host, token=token, max_body=max_body))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    click.echo(f"mladvisor: serving the questionnaire on {url}"
               + (f"?token={token}" if token else ""), err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                proxy_headers=False, access_log=False)
