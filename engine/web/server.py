"""Running the app under uvicorn with connection limits, so idle or slow clients cannot hold it.

uvicorn cuts an idle keep-alive connection after a response, but not a connection that never
finishes its request head (slowloris), and it accepts any number of connections. Here every
request head must arrive within `head_timeout` seconds of the connection opening or of the
previous response, request bodies within BodyLimit's timeout, and at most `max_connections`
connections or requests are served at once (the rest get 503); connections beyond
`max_open` are closed as soon as they arrive, so a flood cannot use up file descriptors.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from engine.errors import InputError


@dataclass(frozen=True)
class Limits:
    """Connection limits; the defaults suit a team tool on one machine."""

    head_timeout: float = 10.0  # seconds for a request line and headers to arrive
    keep_alive: int = 5  # seconds an idle connection is kept after a response
    max_connections: int = 100  # connections and running requests before 503
    max_open: int = 200  # connections beyond this are closed on arrival (file descriptors)
    max_head_bytes: int = 16 * 1024  # request line plus headers
    backlog: int = 128


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or an InputError naming the address when it cannot be had.

    Binding before anything is printed means a busy port is reported, not announced.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise InputError("--host", "", "an address of this machine",
                         f"{host} ({error.strerror})") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first, as before
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(Limits.backlog)
    except OSError as error:
        sock.close()
        shown = f"[{host}]" if ":" in host else host
        raise InputError("--port", "", f"a free port: cannot listen on {shown}:{port}",
                         error.strerror or str(error)) from None
    return sock


def protocol(head_timeout: float, max_open: int) -> type[Any]:
    """uvicorn's h11 protocol, closing connections whose request head is late, and
    connections beyond `max_open`."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadline(H11Protocol):  # type: ignore[misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()
            if len(self.connections) > max_open:
                transport.close()

        def _arm(self) -> None:
            self._timed_cycle = self.cycle  # a new cycle means a whole head arrived
            self._deadline = self.loop.call_later(head_timeout, self._expire)

        def _expire(self) -> None:
            if self.cycle is self._timed_cycle and not self.transport.is_closing():
                self.transport.close()

        def on_response_complete(self) -> None:
            self._deadline.cancel()
            if not self.transport.is_closing():
                self._arm()
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._deadline.cancel()
            super().connection_lost(exc)

    return HeadDeadline


def server(app: Any, limits: Limits = Limits(), proxies: list[str] | None = None) -> Any:
    """A uvicorn Server for `app` with `limits`; run it with `.run(sockets=[bind(...)])`.

    `proxies` are the addresses or networks of reverse proxies whose X-Forwarded-For and
    X-Forwarded-Proto are believed (uvicorn's proxy headers, the right-most untrusted address);
    without any, those headers are ignored, so nobody can claim another address."""
    import uvicorn

    config = uvicorn.Config(
        app, http=protocol(limits.head_timeout, limits.max_open), log_level="warning",
        server_header=False, proxy_headers=bool(proxies),
        forwarded_allow_ips=list(proxies) if proxies else None,
        access_log=False, lifespan="off",
        timeout_keep_alive=limits.keep_alive, limit_concurrency=limits.max_connections,
        backlog=limits.backlog, h11_max_incomplete_event_size=limits.max_head_bytes)
    return uvicorn.Server(config)
