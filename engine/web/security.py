"""What stands between the network and the questionnaire: size limits, host checks, access
token, CSRF tokens and response headers.

The server binds loopback by default; any other address needs an access token, which is also
honoured on loopback when one is given. Forms carry a signed CSRF token (itsdangerous) bound to
a random per-browser cookie, so another site cannot post answers in the person's name.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSRF_COOKIE = "mladvisor_csrf"
SESSION_COOKIE = "mladvisor_session"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 12 * 3600
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; frame-ancestors 'self'; base-uri 'none'")
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _plain(send: Send, status: int, text: str) -> None:
    await plain(send, status, text)


class BodyLimit:
    """Refuse request bodies above `limit` bytes with 413, whether or not they say their size.

    The body is read here (it is small by construction) and replayed to the application, so no
    handler ever sees a request larger than the limit. `uploads` gives multipart bodies sent
    to single paths their own limit (the questionnaire form with evidence files); any other
    body to those paths keeps `limit`.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0,
                 uploads: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.uploads = uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.uploads.get(scope.get("path", ""), self.limit) if multipart else self.limit
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _plain(send, 400, "Bad Content-Length header.\n")
                return
            if declared > limit:
                await _plain(send, 413, f"Request too large: the limit is {limit} bytes.\n")
                return
        import asyncio

        body = bytearray()
        try:
            async with asyncio.timeout(self.timeout):  # a trickled body must not hold a slot
                complete = await self._read(receive, body, limit)
        except TimeoutError:
            await _plain(send, 408, f"Request body too slow: it must arrive within "
                                    f"{self.timeout:g} seconds.\n")
            return
        if complete is None:
            return
        if not complete:
            await _plain(send, 413, f"Request too large: the limit is {limit} bytes.\n")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, body: bytearray, limit: int) -> bool | None:
        """Read the body into `body`: True when whole, False when over the limit, None when
        the client went away."""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > limit:
                return False
        return True


class Signer:
    """Signed, timed tokens for the CSRF field and the access-token session cookie."""

    def __init__(self, secret: str | bytes | None = None) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.secret = secret or secrets.token_urlsafe(32)
        self.csrf = URLSafeTimedSerializer(self.secret, salt="mladvisor.csrf")
        self.session = URLSafeTimedSerializer(self.secret, salt="mladvisor.session")

    def csrf_token(self, nonce: str) -> str:
        return self.csrf.dumps(nonce)

    def csrf_ok(self, token: str | None, nonce: str | None) -> bool:
        from itsdangerous import BadData

        if not token or not nonce:
            return False
        try:
            signed = self.csrf.loads(token, max_age=CSRF_MAX_AGE)
        except BadData:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, nonce)

    def session_cookie(self, token_digest: str) -> str:
        return self.session.dumps(token_digest)

    def session_ok(self, cookie: str | None, token_digest: str) -> bool:
        from itsdangerous import BadData

        if not cookie:
            return False
        try:
            value = self.session.loads(cookie, max_age=7 * 24 * 3600)
        except BadData:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, token_digest)


def token_digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(token_digest(str(given)), token_digest(token))


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def safe_target(path: str, params: list[tuple[str, str]]) -> str:
    """The same-site address to send a browser back to after the token login.

    Only a path that starts with exactly one `/` is kept; `//host`, `/\\host`, schemes and
    control characters (which browsers read as another site) send the person to `/` instead.
    The path and the query are re-encoded, so `from=a%26b` stays one parameter.
    """
    from urllib.parse import quote, urlencode

    unsafe = (not path.startswith("/") or path.startswith("//") or "\\" in path
              or any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in path))
    target = "/" if unsafe else quote(path, safe="/-._~!$&'()*+,;=:@")
    if target.startswith("//"):  # quote keeps '/', so this cannot happen; kept as a guard
        target = "/"
    query = urlencode(params)
    return target + (f"?{query}" if query else "")


class LoginThrottle:
    """Failed token attempts per client address; too many in `window` seconds locks it out.

    Memory is bounded: at most `max_clients` addresses are tracked, the stalest dropped first.
    """

    def __init__(self, failures: int = 5, window: float = 60.0, max_clients: int = 10_000,
                 clock: Callable[[], float] | None = None) -> None:
        import time
        from collections import OrderedDict

        self.failures = failures
        self.window = window
        self.max_clients = max_clients
        self.clock = clock or time.monotonic
        self._seen: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, client: str) -> list[float]:
        now = self.clock()
        times = [t for t in self._seen.get(client, []) if now - t < self.window]
        if times:
            self._seen[client] = times
        else:
            self._seen.pop(client, None)
        return times

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may try now."""
        times = self._recent(client)
        if len(times) < self.failures:
            return 0
        import math

        return max(1, math.ceil(times[-self.failures] + self.window - self.clock()))

    def failed(self, client: str) -> None:
        times = self._recent(client)
        times.append(self.clock())
        self._seen[client] = times[-self.failures:]
        self._seen.move_to_end(client)
        while len(self._seen) > self.max_clients:
            self._seen.popitem(last=False)


async def plain(send: Send, status: int, text: str,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """A short plain-text response that closes the connection (refusals, limits)."""
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
