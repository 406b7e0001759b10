"""Logins for the team: who is asking, and whether their role may (issue 16).

Once one account exists (`mladvisor users add`), every page but the static files and the login
page needs a person: a browser session (a random id in an HttpOnly, SameSite=Strict cookie,
Secure off loopback, stored hashed with its idle and absolute expiry in the account store) or,
for scripts, `Authorization: Bearer` with an API token. Each page names an action of the role
table (engine/team/roles.py); a role without it gets a 403 page saying who may. Without any
account none of this applies: the single-user local mode (and its access token) is unchanged.

Wrong passwords and API tokens are counted per client address and per account name
(`LoginThrottle`, the access token's mechanism): past `login_failures` within `login_window`
seconds, both wait (429). A first login with a one-time password leads to the password form
before anything else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from engine.team.roles import allowed, refusal
from engine.web import security

if TYPE_CHECKING:
    from engine.team.accounts import Account, AccountStore
    from engine.web.app import WebApp

LOGIN_COOKIE = "mladvisor_login"
LOGIN_PATH = "/login"
PASSWORD_PATH = "/password"
LOGOUT_PATH = "/logout"
# Reachable with a session whose one-time password is not yet changed.
WHILE_CHANGING = (PASSWORD_PATH, LOGOUT_PATH)
MAX_LOGIN_FIELD = 4096
# argon2id hashes at once: each takes 64 MiB and a core for a while, so a flood of logins
# from many addresses queues here instead of filling the memory (40 threads x 64 MiB).
HASHES_AT_ONCE = 2


def account_of(request: Any) -> Account | None:
    """The person this request acts for (set by TeamAuth), None in the local mode."""
    state = request.scope.get("state") or {}
    account: Account | None = state.get("account")
    return account


def home_of(account: Account | None) -> str:
    """Where a person starts: the questionnaire when they may assess, else the list."""
    return "/" if account is None or allowed(account.role, "assess") else "/assessments"


def next_target(raw: str, account: Account | None) -> str:
    """A same-site address to go to after logging in (never back to the login pages)."""
    parts = urlsplit(raw or "")
    if not raw or parts.scheme or parts.netloc or parts.path in (LOGIN_PATH, LOGOUT_PATH):
        return home_of(account)
    return security.safe_target(parts.path or "/", parse_qsl(parts.query))


class Team:
    """The account store as the web server uses it, opened once the first account exists."""

    def __init__(self, web: WebApp) -> None:
        self.web = web
        settings = web.settings
        self.secure = (settings.secure_cookie if settings.secure_cookie is not None
                       else not security.is_loopback(settings.host))
        self.throttle = security.LoginThrottle(settings.login_failures, settings.login_window)
        self._store: AccountStore | None = None
        self._active = False
        self._lock = threading.Lock()
        self._hashing: Any = None

    async def _hash(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run a password hash or check in a worker thread, at most HASHES_AT_ONCE at a time."""
        import anyio
        from starlette.concurrency import run_in_threadpool

        if self._hashing is None:
            self._hashing = anyio.Semaphore(HASHES_AT_ONCE)
        async with self._hashing:
            return await run_in_threadpool(work, *args)

    # -- the store ------------------------------------------------------------------------
    @property
    def store(self) -> AccountStore:
        with self._lock:
            if self._store is None:
                from engine.team.accounts import AccountStore

                settings = self.web.settings
                self._store = AccountStore(settings.home, clock=settings.clock,
                                           session_idle=settings.session_idle,
                                           database=settings.database)
            return self._store

    def shared_secret(self) -> str | None:
        """With PostgreSQL, the form-signing key every app process of the team shares (else
        None: one process, its own random key)."""
        from engine.paths import database_url

        if database_url(self.web.settings.database) is None:
            return None
        return self.store.form_secret()

    def active(self) -> bool:
        """Whether accounts exist (then for good: accounts are never deleted)."""
        if not self._active:
            from engine.team.accounts import store_exists

            settings = self.web.settings
            opened = self._store is not None  # then it exists: no connection to look
            self._active = ((opened or store_exists(settings.home, settings.database))
                            and self.store.any())
        return self._active

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- what pages ask -------------------------------------------------------------------
    def may(self, request: Any) -> Callable[[str], bool]:
        """For templates: whether the person may do an action (everything in local mode but
        the account pages; nothing before logging in)."""
        account = account_of(request)
        if account is None:
            anyone = not self.active()
            return lambda action: anyone and action != "manage-users"
        return lambda action: allowed(account.role, action)

    def refuse(self, request: Any, action: str) -> Any:
        """The 403 page when the person's role may not do `action`, else None."""
        account = account_of(request)
        if account is None:
            if self.active():  # accounts appeared after the request passed the gate
                return self.web.error(request, 403, "Not allowed",
                                      "This server now has accounts: log in first.")
            return None
        if allowed(account.role, action):
            return None
        return self.web.error(request, 403, "Not allowed", refusal(account.role, action))

    def _sign_in(self, response: Any, session_id: str) -> Any:
        response.set_cookie(LOGIN_COOKIE, session_id, httponly=True, samesite="strict",
                            secure=self.secure, path="/")
        return response

    async def _form(self, request: Any) -> Any:
        try:
            return await request.form(max_files=0, max_fields=10,
                                      max_part_size=MAX_LOGIN_FIELD)
        except Exception:  # malformed bodies and uploads alike: treated as an empty form
            return {}

    # -- login ----------------------------------------------------------------------------
    def login_form(self, request: Any, status: int = 200, message: str = "", name: str = "",
                   target: str = "", headers: dict[str, str] | None = None) -> Any:
        response = self.web.page(request, "login.html", status=status, title="Log in",
                                 message=message, name=name,
                                 target=target or request.query_params.get("next", ""))
        response.headers.update(headers or {})
        return response

    async def login_page(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        if not self.active():
            return self.web.error(request, 404, "No accounts",
                                  "This server runs in single-user local mode: there is no "
                                  "login.")
        account = account_of(request)
        if account is not None:
            return RedirectResponse(home_of(account), status_code=303)
        return self.login_form(request)

    async def login(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        if not self.active():
            return await self.login_page(request)
        form = await self._form(request)
        name = str(form.get("name") or "").strip().lower()[:64]
        password = str(form.get("password") or "")
        target = str(form.get("next") or "")
        if not self.web.csrf_ok(request, form):
            return self.login_form(request, 403, "The form expired or did not come from this "
                                   "page: enter your name and password again.", name, target)
        keys = (_address(request), f"account:{name}")
        wait = max(self.throttle.retry_after(key) for key in keys)
        if wait:
            return self.login_form(request, 429, f"Too many wrong passwords: try again in "
                                   f"{wait} seconds.", name, target,
                                   headers={"Retry-After": str(wait)})
        account = await self._hash(self.store.verify_password, name, password)
        if account is None:
            for key in keys:
                self.throttle.failed(key)
            return self.login_form(request, 401, "Wrong name or password (or the account is "
                                   "disabled).", name, target)
        previous = request.cookies.get(LOGIN_COOKIE)
        if previous:  # a browser holds one login at a time
            self.store.end_session(previous)
        session_id = await run_in_threadpool(self.store.start_session, account.name)
        goal = PASSWORD_PATH if account.must_change_password else next_target(target, account)
        return self._sign_in(RedirectResponse(goal, status_code=303), session_id)

    async def logout(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        if not self.active():
            return self.web.error(request, 404, "No accounts", "There is no login to end.")
        form = await self._form(request)
        if not self.web.csrf_ok(request, form):
            return self.web.error(request, 403, "Not logged out", "The form expired or did not "
                                  "come from this page: use the Log out button again.")
        session_id = request.cookies.get(LOGIN_COOKIE)
        if session_id:
            self.store.end_session(session_id)
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=self.secure)
        return response

    # -- password -------------------------------------------------------------------------
    def password_form(self, request: Any, status: int = 200, message: str = "") -> Any:
        account = account_of(request)
        return self.web.page(request, "password.html", status=status, title="Change password",
                             message=message,
                             forced=bool(account and account.must_change_password))

    async def password_page(self, request: Any) -> Any:
        if account_of(request) is None:
            return self.web.error(request, 404, "No accounts",
                                  "This server runs in single-user local mode: there are no "
                                  "passwords.")
        return self.password_form(request)

    async def change_password(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        from engine.team.accounts import AccountError

        account = account_of(request)
        if account is None:
            return await self.password_page(request)
        form = await self._form(request)
        if not self.web.csrf_ok(request, form):
            return self.password_form(request, 403, "The form expired or did not come from "
                                      "this page: nothing was changed. Try again.")
        current, new = str(form.get("current") or ""), str(form.get("new") or "")
        keys = (_address(request), f"account:{account.name}")
        wait = max(self.throttle.retry_after(key) for key in keys)
        if wait:
            return self.password_form(request, 429, f"Too many wrong passwords: try again in "
                                      f"{wait} seconds.")
        if await self._hash(self.store.verify_password, account.name, current) is None:
            for key in keys:
                self.throttle.failed(key)
            return self.password_form(request, 422, "The current password is wrong.")
        if new != str(form.get("repeat") or ""):
            return self.password_form(request, 422, "The new password and its repetition "
                                      "differ.")
        if new == current:
            return self.password_form(request, 422, "Choose a new password, not the current "
                                      "one.")
        try:
            await self._hash(self.store.change_password, account.name, new)
        except AccountError as error:
            return self.password_form(request, 422, f"The new password must have "
                                      f"{_expected(error)}.")
        session_id = await run_in_threadpool(self.store.start_session, account.name)
        return self._sign_in(RedirectResponse(home_of(account), status_code=303), session_id)

    # -- accounts page --------------------------------------------------------------------
    async def users_page(self, request: Any, status: int = 200, message: str = "",
                         created: tuple[str, str, str] | None = None,
                         values: dict[str, str] | None = None) -> Any:
        from starlette.concurrency import run_in_threadpool

        from engine.team.roles import ROLES

        accounts = await run_in_threadpool(self.store.list) if self.active() else []
        return self.web.page(request, "users.html", status=status, nav="users",
                             title="Accounts", accounts=accounts, roles=ROLES,
                             message=message, created=created, values=values or {})

    async def add_user(self, request: Any) -> Any:
        """Create an account as `mladvisor users add NAME --role ROLE` does (a one-time
        password, shown on this response only, to be changed at first login)."""
        from engine.team.accounts import AccountError

        if not self.active():  # the first account is made on the server, by `users add`
            return self.web.error(request, 404, "No accounts", "This server runs in "
                                  "single-user local mode: create the first (admin) account "
                                  "with `mladvisor users add NAME --role admin`.")
        form = await self._form(request)
        values = {"name": str(form.get("name") or "").strip()[:64],
                  "role": str(form.get("role") or "")}
        if not self.web.csrf_ok(request, form):
            return await self.users_page(request, 403, "The form expired or did not come from "
                                         "this page: no account was created.", values=values)
        try:
            account, one_time = await self._hash(self.store.add, values["name"],
                                                 values["role"])
        except AccountError as error:
            return await self.users_page(request, 422, str(error), values=values)
        return await self.users_page(request, created=(account.name, account.role,
                                                             str(one_time)))


def _expected(error: Any) -> str:
    text = str(error.expected)
    return text.removeprefix("a password of ").split(", got")[0]


def _address(request: Any) -> str:
    return "address:" + str((request.scope.get("client") or ("unknown",))[0])


class TeamAuth:
    """The gate when accounts exist: find the person (session cookie or API token), send the
    others to the login page, and a person with a one-time password to the password form."""

    def __init__(self, app: Any, team: Team, public: Callable[[str], bool]) -> None:
        self.app = app
        self.team = team
        self.public = public

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.public(scope["path"]) or not self.team.active():
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request

        request = Request(scope)
        state = scope.setdefault("state", {})
        state["team"] = True
        header = request.headers.get("authorization", "")
        if header.split(" ", 1)[0].lower() == "bearer":  # a proxy's Basic is not ours
            account = await self._bearer(request, header, send)
            if account is None:
                return
            state["account"], state["bearer"] = account, True
            await self.app(scope, receive, send)
            return
        session_id = request.cookies.get(LOGIN_COOKIE, "")
        account = self.team.store.session(session_id) if session_id else None
        state["account"] = account
        response = self._detour(request, account)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _detour(self, request: Any, account: Account | None) -> Any:
        """Where a request without a person, or with a password to change, goes instead."""
        from starlette.responses import RedirectResponse

        path = request.url.path
        if account is None:
            if path == LOGIN_PATH:
                return None
            if request.method in ("GET", "HEAD"):
                target = security.safe_target(path, request.query_params.multi_items())
                from urllib.parse import urlencode

                query = "" if target == "/" else "?" + urlencode({"next": target})
                return RedirectResponse(LOGIN_PATH + query, status_code=303)
            return self.team.login_form(request, 401, "Log in first (a session ends after "
                                        "12 hours without use); nothing was done.")
        if account.must_change_password and path not in WHILE_CHANGING:
            if request.method in ("GET", "HEAD"):
                return RedirectResponse(PASSWORD_PATH, status_code=303)
            return self.team.web.error(request, 403, "Change your password first",
                                       "The one-time password must be changed before anything "
                                       "else.")
        return None

    async def _bearer(self, request: Any, header: str, send: Any) -> Account | None:
        """The account of a valid API token; otherwise the 401 or 429 is sent here."""
        address = _address(request)
        wait = self.team.throttle.retry_after(address)
        if wait:
            await security.plain(send, 429, f"Too many wrong API tokens from this address: try "
                                            f"again in {wait} seconds.\n",
                                 [(b"retry-after", str(wait).encode())])
            return None
        token = header[6:].strip()
        account = self.team.store.check_token(token) if token else None
        if account is None:
            self.team.throttle.failed(address)
            await security.plain(send, 401, "That API token is not valid (send "
                                            "`Authorization: Bearer TOKEN`, from `mladvisor "
                                            "users token NAME`).\n",
                                 [(b"www-authenticate", b'Bearer realm="mladvisor"')])
        return account
