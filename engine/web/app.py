"""The web front-end: the questionnaire as one server-rendered form, results and past ones.

Pages work without JavaScript (none is served): the form posts, the server validates it with
the same answers model as every other front-end, assesses it through `engine.api.assess`,
records it in the audit log and redirects to the result, which embeds the HTML report.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.model.vocab import AUDIENCES, DEFAULT_AUDIENCE
from engine.team.accounts import SESSION_IDLE, Account
from engine.team.roles import Action
from engine.web import security
from engine.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from engine.web.team import Team, TeamAuth, account_of, home_of

if TYPE_CHECKING:
    from engine.audit.record import AuditRecord

HERE = Path(__file__).resolve().parent
RECORD_ID = re.compile(r"^[0-9a-fA-F-]{4,64}$")
PDF_CACHE_SIZE = 8
PDF_RENDERS = 1  # at once: a render takes seconds and ~150 MB; the rest wait their turn
PAGE_SIZE = 50  # past assessments per page
FAVICON = HERE / "static" / "favicon.svg"


def _public(path: str) -> bool:
    """Static files and the icon: served without the access token, cached by browsers."""
    return path.startswith("/static/") or path == "/favicon.ico"


@dataclass
class Settings:
    """How the server runs; `token` is required off loopback (see engine.cli.serve)."""

    host: str = "127.0.0.1"
    token: str | None = None
    home: Path | None = None
    database: str | None = None  # PostgreSQL URL for accounts and the log; None: MLADVISOR_HOME
    max_body: int = 64 * 1024
    max_upload: int = 2 * 1024 * 1024  # the questionnaire form only: it may carry evidence
    secret: str | None = None
    allowed_hosts: list[str] | None = None
    body_timeout: float = 30.0  # seconds for a request body to arrive
    login_failures: int = 5  # wrong tokens per client address within login_window ...
    login_window: float = 60.0  # ... before that address must wait (429)
    page_size: int = PAGE_SIZE  # past assessments per page
    session_idle: float = SESSION_IDLE  # seconds without a request before a login ends
    secure_cookie: bool | None = None  # the login cookie's Secure flag; None: off loopback
    clock: Callable[[], float] | None = None  # for session expiry; None: time.time


def _label(identifier: Any) -> str:
    text = str(identifier or "").replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _verdict(verdict: Any) -> str:
    """A verdict as the report names it ("ML not recommended"), else as a label."""
    from engine.report.context import VERDICT_LABELS

    return VERDICT_LABELS.get(str(verdict), _label(verdict))


def _when(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _decision(record: AuditRecord) -> dict[str, Any]:
    """The decision of a record `App.record` returned (it only returns ones that have one)."""
    return record.decision or {}


def _past_href(query: str, **cursor: int) -> str:
    """A link to a page of past assessments, keeping the filter."""
    from urllib.parse import urlencode

    params = {**({"q": query} if query else {}), **cursor}
    return "/assessments" + (f"?{urlencode(params)}" if params else "")


_AUDIENCE_HELP = ("A report is written for one of: " + ", ".join(AUDIENCES)
                  + " (?audience=executive for the one- or two-page summary).")


def _audience(request: Any) -> str | None:
    """Who the report is for (?audience=), the architect by default; None when unknown."""
    audience = request.query_params.get("audience") or DEFAULT_AUDIENCE
    return audience if audience in AUDIENCES else None


def _slug(text: Any) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text or "").lower()).strip("-")
    return slug[:40] or "assessment"


class WebApp:
    """Route handlers sharing the settings, templates, signer and the audit log."""

    def __init__(self, settings: Settings) -> None:
        import jinja2

        self.settings = settings
        self.team = Team(self)
        self.signer = security.Signer(settings.secret or self.team.shared_secret())
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True, trim_blocks=True, lstrip_blocks=True,
            undefined=jinja2.StrictUndefined)
        self.env.filters["label"] = _label
        self.env.filters["when"] = _when
        self.env.filters["verdict"] = _verdict
        self._log: Any = None
        self._log_lock = threading.Lock()
        from engine.web.worker import Assessor

        self.assessor = Assessor(settings.home, settings.database)
        self._pdf_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._pdf_lock = threading.Lock()
        self._pdf_slots: Any = None
        self.throttle = security.LoginThrottle(settings.login_failures, settings.login_window)
        from engine.web.teampages import TeamPages

        self.pages = TeamPages(self)

    # -- helpers ------------------------------------------------------------------------
    @property
    def log(self) -> Any:
        with self._log_lock:
            if self._log is None:
                from engine.audit import open_log

                self._log = open_log(self.settings.home, database=self.settings.database)
            return self._log

    def page(self, request: Any, template: str, status: int = 200, **context: Any) -> Any:
        """Render a page; make sure the browser holds a CSRF nonce for the forms on it."""
        from starlette.responses import HTMLResponse

        nonce = request.cookies.get(CSRF_COOKIE)
        fresh = not nonce or len(nonce) > 100
        if fresh:
            nonce = security.new_nonce()
        context.setdefault("nav", "")
        account = account_of(request)
        context.setdefault("user", account)
        context.setdefault("may", self.team.may(request))
        context.setdefault("home", home_of(account))
        html = self.env.get_template(template).render(
            csrf=self.signer.csrf_token(nonce), **context)
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", path="/")
        return response

    def error(self, request: Any, status: int, title: str, message: str) -> Any:
        return self.page(request, "error.html", status=status, title=title, message=message)

    def record(self, request: Any, record_id: str) -> AuditRecord | None:
        from engine.errors import InputError

        if not RECORD_ID.fullmatch(record_id):
            return None
        try:
            record = self.log.get(record_id)
        except InputError:
            return None
        if record.kind != "assessment" or record.decision is None:
            return None
        return record

    def form_page(self, request: Any, values: dict[str, Any], errors: dict[str, str],
                  rows: int, status: int = 200, notice: str = "",
                  evidence_errors: dict[str, str] | None = None) -> Any:
        from engine.web.forms import error_list, view

        evidence_errors = evidence_errors or {}
        listed = error_list(errors) + [
            {"href": f"#q-{name}", "label": EVIDENCE_LABELS[name], "message": message}
            for name, message in evidence_errors.items()]
        return self.page(request, "form.html", status=status, nav="new",
                         title="Assess an ML project", sections=view(values, errors, rows),
                         errors=listed, notice=notice, evidence_errors=evidence_errors,
                         project_id=values.get(PROJECT_ID_FIELD, ""),
                         upload_mib=f"{self.settings.max_upload / (1 << 20):g}")

    # -- routes -------------------------------------------------------------------------
    async def new(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        from engine.web.forms import MIN_CRITERIA_ROWS, from_answers

        values: dict[str, Any] = {}
        notice = ""
        source = request.query_params.get("from")
        if source:
            record = await run_in_threadpool(self.record, request, source)
            if record is None:
                notice = "That assessment was not found; the form starts empty."
            else:
                answers = (record.input or {}).get("answers") or {}
                values = from_answers(answers)
                from engine.projects.ids import project_of_record

                # the same project: its id travels with the form (project.id, else the slug)
                values[PROJECT_ID_FIELD] = project_of_record(record.body)[0]
                notice = "The answers of the earlier assessment are filled in; change any of " \
                         "them and assess again. The earlier assessment stays in the log."
        rows = max(MIN_CRITERIA_ROWS, len([k for k in values if k.endswith("-metric")]) + 1)
        return self.form_page(request, values, {}, rows, notice=notice)

    async def submit(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        from engine.web.forms import read_form

        try:
            form = await request.form(max_files=len(EVIDENCE_LABELS), max_fields=500,
                                      max_part_size=64 * 1024)
        except Exception:  # malformed bodies and too many files alike: a 400, not a traceback
            return self.error(request, 400, "The form could not be read",
                              "The request was not a questionnaire form.")
        uploads = _uploads(form)
        if uploads is None:
            return self.error(request, 400, "The form could not be read",
                              "The request was not a questionnaire form.")
        if uploads and (refused := self.team.refuse(request, "upload-evidence")) is not None:
            return refused
        sub = read_form(form)
        _keep_project_id(form, sub)
        if not (_by_api_token(request) or self.csrf_ok(request, form)):
            # Nothing is assessed or recorded; the answers are shown again (escaped) with a
            # fresh token, so a person whose form outlived a server restart loses nothing.
            return self.form_page(
                request, sub.values, {}, sub.criteria_rows, status=403,
                notice="The form has expired or did not come from this page, so nothing was "
                       "assessed. Check the answers below and press “Assess the project” again.")
        if form.get("action") == "more":
            from engine.web.forms import MAX_CRITERIA

            return self.form_page(request, sub.values, {},
                                  min(MAX_CRITERIA, sub.criteria_rows + 3))
        evidence, evidence_errors = await _read_evidence(uploads)
        if sub.errors or evidence_errors:
            return self.form_page(request, sub.values, sub.errors, sub.criteria_rows,
                                  status=422, evidence_errors=evidence_errors)
        from engine.errors import InputError, MladvisorError
        from engine.web.worker import EngineStopped

        try:
            record_id = await run_in_threadpool(self._assess, sub.doc, evidence,
                                                account_of(request))
        except InputError as error:
            from engine.web.forms import field_path, reason

            # an evidence file the engine's own checks refused (e.g. an unknown service)
            field = _evidence_field(evidence, error.file)
            errors = {} if field else {field_path(error.path): reason(error)}
            return self.form_page(request, sub.values, errors, sub.criteria_rows, status=422,
                                  evidence_errors={field: str(error)} if field else None)
        except EngineStopped as error:
            return self.error(request, 500, "The assessment could not be completed",
                              f"Nothing was saved: {error}. Please report the answers that "
                              "caused it; the server is still running.")
        except MladvisorError as error:  # e.g. the audit log cannot be written
            return self.error(request, 500, "The assessment could not be recorded",
                              f"Nothing was saved. {error}")
        return RedirectResponse(f"/assessments/{record_id}", status_code=303)

    def csrf_ok(self, request: Any, form: Any) -> bool:
        """The form came from one of this site's pages, in this browser."""
        return self._same_origin(request) and self.signer.csrf_ok(
            str(form.get(CSRF_FIELD) or ""), request.cookies.get(CSRF_COOKIE))

    @staticmethod
    def _same_origin(request: Any) -> bool:
        """A browser names the page a form came from; another site's page is refused."""
        from urllib.parse import urlsplit

        origin = request.headers.get("origin")
        if not origin or origin == "null":
            return True  # privacy modes, non-browser clients: the CSRF token decides
        return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()

    def _assess(self, doc: dict[str, Any], evidence: Any = None,
                account: Account | None = None) -> str:
        """Assess and record in the worker process (see engine.web.worker for why), as
        submitted by the logged-in account."""
        who = None if account is None else {"name": account.name, "role": account.role}
        return str(self.assessor.run(doc, evidence, who))

    async def past(self, request: Any) -> Any:
        """Past assessments, newest first, a page at a time (keyset paging on the log's
        sequence numbers: `before` for older, `after` for newer), filtered by `q`."""
        from starlette.concurrency import run_in_threadpool

        from engine.audit.search import MAX_QUERY

        cursors: dict[str, int | None] = {}
        for name in ("before", "after"):
            raw = request.query_params.get(name, "")
            if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
                return self.error(request, 400, "No such page",
                                  "The page of past assessments asked for does not exist.")
            cursors[name] = int(raw) if raw else None
        before, after = cursors["before"], cursors["after"]
        if before is not None and after is not None:
            return self.error(request, 400, "No such page",
                              "The page of past assessments asked for does not exist.")
        query = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
        size = self.settings.page_size
        rows = await run_in_threadpool(
            lambda: self.log.page(before=before, after=after, limit=size + 1, search=query))
        more = len(rows) > size
        if after is not None:  # the extra row is the newest one, beyond this page
            rows = rows[1:] if more else rows
            newer = rows[0].seq if more and rows else None
            older = rows[-1].seq if rows else None
        else:
            rows = rows[:size]
            newer = rows[0].seq if before is not None and rows else None
            older = rows[-1].seq if more else None
        return self.page(request, "list.html", nav="past", title="Past assessments",
                         rows=rows, query=query, max_query=MAX_QUERY,
                         first=before is None and (after is None or not more),
                         newest=_past_href(query),
                         older=_past_href(query, before=older) if older else None,
                         newer=_past_href(query, after=newer) if newer else None)

    async def result(self, request: Any, status: int = 200,
                     review_values: dict[str, str] | None = None,
                     review_error: str = "") -> Any:
        """An assessment's result, its project's review state, its reviews and (for those who
        may review) the review form, with the error of a refused review."""
        from starlette.concurrency import run_in_threadpool

        from engine.web.teampages import project_state

        record_id = request.path_params["record_id"]
        record = await run_in_threadpool(self.record, request, record_id)
        if record is None:
            return self.error(request, 404, "Assessment not found",
                              "No recorded assessment has that id.")
        from engine.model.decision import load_decision

        decision = load_decision(record_id, _decision(record), partial=True)
        name = decision.project.name if decision.project else None
        project = await run_in_threadpool(project_state, self, record)
        return self.page(request, "result.html", status=status, nav="past",
                         title=f"Result: {name or ''}", record=record, decision=decision,
                         rid=record.record_id, project_info=project,
                         review=review_values or {}, review_error=review_error,
                         local=not self.team.active())

    def reviews_for_report(self, record_id: str) -> list[dict[str, Any]]:
        """The reviews of an assessment for its report's sign-off section."""
        from engine.audit.review import reviews_of

        return [review.to_dict() for review in reviews_of(self.log, record_id)]

    def forget_pdfs(self, record_id: str) -> None:
        """A new review changes the sign-off section: drop the assessment's cached PDFs."""
        with self._pdf_lock:
            for key in [k for k in self._pdf_cache if k[0] == record_id]:
                del self._pdf_cache[key]

    async def report_html(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        record = await run_in_threadpool(self.record, request, request.path_params["record_id"])
        if record is None:
            return self.error(request, 404, "Assessment not found",
                              "No recorded assessment has that id.")
        audience = _audience(request)
        if audience is None:
            return self.error(request, 400, "No such report", _AUDIENCE_HELP)
        from engine.report import render_html

        reviews = await run_in_threadpool(self.reviews_for_report, record.record_id)
        html = await run_in_threadpool(render_html, _decision(record), audience, reviews)
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": security.REPORT_CSP})

    async def report_pdf(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        record = await run_in_threadpool(self.record, request, request.path_params["record_id"])
        if record is None:
            return self.error(request, 404, "Assessment not found",
                              "No recorded assessment has that id.")
        audience = _audience(request)
        if audience is None:
            return self.error(request, 400, "No such report", _AUDIENCE_HELP)
        rid = record.record_id
        pdf = await self._pdf(record, audience)
        edition = "" if audience == DEFAULT_AUDIENCE else f"{audience}-"
        name = f"mladvisor-{_slug((_decision(record).get('project') or {}).get('name'))}-" \
               f"{edition}{rid[:8]}.pdf"
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def _pdf(self, record: AuditRecord, audience: str = DEFAULT_AUDIENCE) -> bytes:
        """The cached PDF, or one rendered when a render slot is free (then cached).

        A stored assessment's report is not a new assessment: nothing is appended to the log.
        """
        import anyio
        from starlette.concurrency import run_in_threadpool

        rid = record.record_id
        if self._pdf_slots is None:
            self._pdf_slots = anyio.Semaphore(PDF_RENDERS)
        async with self._pdf_slots:
            with self._pdf_lock:  # a request that waited may find it rendered meanwhile
                pdf = self._pdf_cache.get((rid, audience))
            if pdf is None:
                pdf = await run_in_threadpool(self._render_pdf, record, audience)
        return pdf

    def _render_pdf(self, record: AuditRecord, audience: str = DEFAULT_AUDIENCE) -> bytes:
        from engine.report import render_pdf

        pdf: bytes = render_pdf(_decision(record), audience,
                                self.reviews_for_report(record.record_id))
        with self._pdf_lock:
            self._pdf_cache[(record.record_id, audience)] = pdf
            while len(self._pdf_cache) > PDF_CACHE_SIZE:
                self._pdf_cache.popitem(last=False)
        return pdf

    async def answers_file(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        from engine.questionnaire.fields import dump_answers

        record = await run_in_threadpool(self.record, request, request.path_params["record_id"])
        if record is None:
            return self.error(request, 404, "Assessment not found",
                              "No recorded assessment has that id.")
        answers = (record.input or {}).get("answers") or {}
        name = f"{_slug((_decision(record).get('project') or {}).get('name'))}-answers.yaml"
        origin = (f"downloaded from the web questionnaire (`mladvisor serve`)\n"
                  f"the answers of assessment {record.record_id}, recorded {_when(record.time)}")
        return Response(dump_answers(answers, origin=origin),
                        media_type="application/yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def verify_log(self, request: Any) -> Any:
        from engine.web.logpages import verify_page

        return await verify_page(self, request)

    async def export_log(self, request: Any) -> Any:
        from engine.web.logpages import export_file

        return await export_file(self, request)

    async def replay_decision(self, request: Any) -> Any:
        from engine.web.logpages import replay_page

        return await replay_page(self, request)

    async def favicon(self, request: Any) -> Any:
        """Browsers ask for /favicon.ico whatever the page links: the same SVG icon."""
        from starlette.responses import FileResponse

        return FileResponse(FAVICON, media_type="image/svg+xml")

    async def not_found(self, request: Any, exc: Exception) -> Any:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return self.error(request, 405, "Not allowed", "That page cannot be used this way.")
        return self.error(request, 404, "Page not found", "There is no page at this address.")

    async def server_error(self, request: Any, exc: Exception) -> Any:
        return self.error(request, 500, "Something went wrong",
                          "The server could not complete the request; the error is logged.")


EVIDENCE_LABELS = {"benchmarks": "Benchmark results (CSV or JSON)",
                   "drift": "Drift summary (mladvisor.drift/1 JSON)"}
PROJECT_ID_FIELD = "project-id"


def _uploads(form: Any) -> dict[str, Any] | None:
    """The evidence files chosen in the form (empty file inputs left out); None when the form
    carries a file under another name, or text under an evidence field's name."""
    from starlette.datastructures import UploadFile

    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in EVIDENCE_LABELS or key in out:
                return None
            if value.filename:
                out[key] = value
        elif key in EVIDENCE_LABELS and value:
            return None
    return out


async def _read_evidence(uploads: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The uploaded files read by the CLI's own loaders (engine.evidence.files), and the
    one-line error of each that is refused, as `--benchmarks`/`--drift` would print it."""
    from pathlib import PurePath

    from engine.errors import InputError
    from engine.evidence.files import benchmarks_from_bytes, drift_from_bytes
    from engine.web.worker import Evidence

    found: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, upload in uploads.items():
        name = PurePath(upload.filename.replace("\\", "/")).name[:120] or key
        data = await upload.read()
        try:
            loader = benchmarks_from_bytes if key == "benchmarks" else drift_from_bytes
            found[key] = loader(data, name)
            found[f"{key}_file"] = name
        except InputError as error:
            errors[key] = str(error)
    return Evidence(**found), errors


def _evidence_field(evidence: Any, file: str) -> str | None:
    """The evidence field an engine error names by its file, None for the answers."""
    if evidence.benchmarks is not None and file == evidence.benchmarks_file:
        return "benchmarks"
    if evidence.drift is not None and file == evidence.drift_file:
        return "drift"
    return None


def _keep_project_id(form: Any, sub: Any) -> None:
    """A re-assessment keeps its project's id (the hidden field the prefilled form carries),
    so that it joins the same project's history even if the name changed."""
    from engine.projects.ids import MAX_SLUG

    raw = str(form.get(PROJECT_ID_FIELD) or "").strip()
    if not raw:
        return
    from engine.projects.ids import project_of

    sub.values[PROJECT_ID_FIELD] = raw[:MAX_SLUG]
    # Only when the answers would not name the project so anyway (a renamed project), so that
    # an unchanged name does not show up as a changed answer in the project's history.
    if isinstance(sub.doc.get("project"), dict) and project_of(sub.doc)[0] != raw:
        sub.doc["project"]["id"] = raw[:MAX_SLUG + 1]  # the answers model checks the slug


def _by_api_token(request: Any) -> bool:
    """A script with an account's API token: no browser sends one unasked, so no CSRF."""
    return bool((request.scope.get("state") or {}).get("bearer"))


class AccessToken:
    """Require the access token: `Authorization: Bearer`, the session cookie, or `?token=`.

    `?token=` (the link `mladvisor serve` prints) sets a signed session cookie and redirects to
    the same page without the token, so it does not stay in the address bar or history.
    """

    def __init__(self, app: Any, web: WebApp, token: str) -> None:
        self.app = app
        self.web = web
        self.token = token
        self.digest = security.token_digest(token)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _public(scope["path"]) or (scope.get("state") or {}).get(
                "team"):  # accounts exist: TeamAuth has let this person in
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import RedirectResponse

        request = Request(scope)
        if self.web.signer.session_ok(request.cookies.get(SESSION_COOKIE), self.digest):
            await self.app(scope, receive, send)
            return
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        given = request.query_params.get("token") if request.method == "GET" else None
        if bearer is None and given is None:
            await self._ask(scope, receive, send, wrong=False)
            return
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.web.throttle.retry_after(client)
        if wait:
            await security.plain(
                send, 429, f"Too many wrong access tokens from this address: try again in "
                           f"{wait} seconds.\n", [(b"retry-after", str(wait).encode())])
            return
        if bearer is not None and security.token_matches(bearer, self.token):
            await self.app(scope, receive, send)
            return
        if given is not None and security.token_matches(given, self.token):
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(security.safe_target(scope["path"], params),
                                        status_code=303)
            response.set_cookie(SESSION_COOKIE, self.web.signer.session_cookie(self.digest),
                                httponly=True, samesite="lax", path="/")
            await response(scope, receive, send)
            return
        self.web.throttle.failed(client)
        await self._ask(scope, receive, send, wrong=True)

    async def _ask(self, scope: Any, receive: Any, send: Any, wrong: bool) -> None:
        """The page asking for the token (401)."""
        from starlette.responses import HTMLResponse

        html = self.web.env.get_template("token.html").render(
            title="Access token needed", nav="", csrf="", wrong=wrong, user=None,
            may=lambda action: False, home="/")
        await HTMLResponse(html, status_code=401,
                           headers={"WWW-Authenticate": 'Bearer realm="mladvisor"'})(
            scope, receive, send)


class Headers:
    """Security headers on every response; pages are never cached (answers can be personal)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = _public(scope["path"])

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"SAMEORIGIN"),
                         (b"content-security-policy", security.PAGE_CSP.encode()),
                         (b"cache-control", b"no-store" if not static else b"max-age=3600")]
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


@dataclass(frozen=True)
class Page:
    """A route and the action of the role table it does; `handler` names a WebApp method
    (`team.x` one of its Team's). Pages without an action are the login pages themselves."""

    method: str
    path: str
    handler: str
    action: Action | None


# Every page a person can reach, and what it does. tests/test_web_team.py tries every role
# against every row, so a page added here is checked against the role table at once.
PAGES: tuple[Page, ...] = (
    Page("GET", "/", "new", "assess"),
    Page("POST", "/assess", "submit", "assess"),
    Page("GET", "/assessments", "past", "view"),
    Page("GET", "/assessments/{record_id}", "result", "view"),
    Page("GET", "/assessments/{record_id}/report.html", "report_html", "view"),
    Page("GET", "/assessments/{record_id}/report.pdf", "report_pdf", "view"),
    Page("GET", "/assessments/{record_id}/answers.yaml", "answers_file", "view"),
    Page("GET", "/audit/verify", "verify_log", "verify-log"),
    Page("GET", "/audit/export.jsonl", "export_log", "export-log"),
    Page("GET", "/assessments/{record_id}/replay", "replay_decision", "replay"),
    Page("POST", "/assessments/{record_id}/reviews", "pages.review", "review"),
    Page("GET", "/projects/{project_id}", "pages.project", "view"),
    Page("GET", "/portfolio", "pages.portfolio", "view"),
    Page("GET", "/portfolio.csv", "pages.portfolio_csv", "view"),
    Page("GET", "/portfolio.json", "pages.portfolio_json", "view"),
    Page("GET", "/users", "team.users_page", "manage-users"),
    Page("POST", "/users", "team.add_user", "manage-users"),
    Page("GET", "/login", "team.login_page", None),
    Page("POST", "/login", "team.login", None),
    Page("POST", "/logout", "team.logout", None),
    Page("GET", "/password", "team.password_page", None),
    Page("POST", "/password", "team.change_password", None),
)


def _endpoint(web: WebApp, page: Page) -> Callable[[Any], Any]:
    """The page's handler, refusing (403) a person whose role may not do its action."""
    target: Any = web
    for part in page.handler.split("."):
        target = getattr(target, part)
    handler = target
    action = page.action
    if action is None:
        return handler  # type: ignore[no-any-return]

    async def guarded(request: Any) -> Any:
        refused = web.team.refuse(request, action)
        return refused if refused is not None else await handler(request)

    return guarded


def create_app(settings: Settings | None = None) -> Any:
    """The ASGI application; `mladvisor serve` runs it under uvicorn."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    settings = settings or Settings()
    web = WebApp(settings)
    if not security.is_loopback(settings.host) and not settings.token and not web.team.active():
        raise ValueError("an access token or accounts are required when serving on a "
                         "non-loopback address")
    routes = [
        *(Route(p.path, _endpoint(web, p), methods=[p.method]) for p in PAGES),
        Route("/favicon.ico", web.favicon, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    hosts = settings.allowed_hosts
    if hosts is None:
        hosts = list(security.LOOPBACK_NAMES) if security.is_loopback(settings.host) else ["*"]
        if settings.host not in hosts and "*" not in hosts:
            hosts.append(settings.host)
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
                  Middleware(Headers),
                  Middleware(security.BodyLimit, limit=settings.max_body,
                             timeout=settings.body_timeout,
                             uploads={"/assess": max(settings.max_upload, settings.max_body)})]
    middleware.append(Middleware(TeamAuth, team=web.team, public=_public))
    if settings.token:
        middleware.append(Middleware(AccessToken, web=web, token=settings.token))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: web.not_found, 405: web.not_found,
                                        500: web.server_error})
    app.state.web = web
    return app
