"""The team's pages (issue 16): reviews on a result page, a project's history, the portfolio.

Every page here is a thin view of the library the command line uses: `record_review` (as
`mladvisor review`, with the reviewer `mladvisor review --as` would stand for), `history` (as
`mladvisor project`) and `portfolio` (as `mladvisor portfolio`). Nothing is stored apart from
the audit log.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.web.team import account_of

if TYPE_CHECKING:
    from engine.audit.record import AuditRecord
    from engine.web.app import WebApp

PROJECT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_REVIEW_FIELD = 16 * 1024  # a form part: the library caps the texts themselves


def project_state(web: WebApp, record: AuditRecord) -> dict[str, Any]:
    """What a result page shows of its project: id, review state, and this assessment's
    reviews (oldest first), read as `mladvisor project` reads them (without the diffs)."""
    from engine.audit.review import all_reviews, blockers_of, state_label
    from engine.projects.history import build_history, projects
    from engine.projects.ids import project_of_record

    log = web.log
    pid, _ = project_of_record(record.body)
    reviews = all_reviews(log)
    name, milestones = projects(log, only=pid, index=web.project_index).get(pid, ("", []))
    history = build_history(pid, name, milestones, reviews, changes=False)
    latest = history.latest.record_id if milestones else record.record_id
    return {"project_id": pid, "state": history.state, "state_label": state_label(history.state),
            "reviews": reviews.get(record.record_id, []), "latest": latest,
            "is_latest": latest == record.record_id, "count": len(milestones),
            "blockers": blockers_of(record.decision)}


class TeamPages:
    """Route handlers of the team's pages, sharing the WebApp's log, templates and checks."""

    def __init__(self, web: WebApp) -> None:
        self.web = web

    # -- review -----------------------------------------------------------------------------
    async def review(self, request: Any) -> Any:
        """Record a review of an assessment, as `mladvisor review` does, then show the result
        page again: with the review, or with the library's one-line error and nothing recorded.
        """
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        web = self.web
        rid = request.path_params["record_id"]
        record = await run_in_threadpool(web.record, request, rid)
        if record is None:
            return web.error(request, 404, "Assessment not found",
                             "No recorded assessment has that id.")
        try:
            form = await request.form(max_files=0, max_fields=20,
                                      max_part_size=MAX_REVIEW_FIELD)
        except Exception:  # malformed bodies and uploads alike
            return web.error(request, 400, "The review could not be read",
                             "The request was not a review form.")
        values = {k: str(form.get(k) or "") for k in ("action", "comment", "justification",
                                                       "name")}
        if not web.csrf_ok(request, form):
            return await web.result(request, status=403, review_values=values,
                                    review_error="The form expired or did not come from this "
                                    "page: nothing was recorded. Press the button again.")
        from engine.errors import InputError

        try:
            await run_in_threadpool(self._record, request, record.record_id, values)
        except InputError as error:  # the one-line error `mladvisor review` prints
            return await web.result(request, status=422, review_values=values,
                                    review_error=str(error))
        web.forget_pdfs(record.record_id)
        return RedirectResponse(f"/assessments/{record.record_id}#sign-off", status_code=303)

    def _record(self, request: Any, record_id: str, values: dict[str, str]) -> None:
        from engine.audit.review import record_review
        from engine.projects.reviewer import reviewer

        account = account_of(request)
        # With accounts the person logged in reviews; in the local mode the CLI's rule: the
        # name given, recorded with the local reviewer role and `account: false`.
        who = reviewer(account.name if account is not None else values["name"],
                       self.web.settings.home, self.web.settings.database)
        record_review(self.web.log, record_id, values["action"], who.name, who.role,
                      values["comment"], values["justification"] or None, account=who.account)

    # -- project ----------------------------------------------------------------------------
    async def project(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        from engine.errors import InputError
        from engine.projects.history import changes_summary, history

        web = self.web
        ref = request.path_params["project_id"]
        if not PROJECT_REF.fullmatch(ref):
            return web.error(request, 404, "Project not found", "No project has that id.")
        try:
            found = await run_in_threadpool(history, web.log, ref, web.project_index)
        except InputError:
            return web.error(request, 404, "Project not found",
                             "No project or assessment has that id.")
        if found.project_id != ref:  # named by one of its assessments
            from urllib.parse import quote

            return RedirectResponse(f"/projects/{quote(found.project_id)}", status_code=303)
        from engine.audit.review import state_label

        rows = [{"m": m, "changes": changes_summary(m.changes) if m.changes else [],
                 "number": number}
                for number, m in enumerate(found.milestones, start=1)]
        return web.page(request, "project.html", nav="portfolio",
                        title=f"Project: {found.name}", history=found, rows=rows[::-1],
                        state_label=state_label(found.state))

    # -- portfolio --------------------------------------------------------------------------
    def _rows(self) -> list[Any]:
        from engine.projects.portfolio import portfolio

        return portfolio(self.web.log)

    async def portfolio(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool

        rows = await run_in_threadpool(self._rows)
        return self.web.page(request, "portfolio.html", nav="portfolio", title="Portfolio",
                             rows=rows)

    async def portfolio_csv(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        from engine.projects.portfolio import to_csv

        rows = await run_in_threadpool(self._rows)
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="mladvisor-portfolio.csv"'})

    async def portfolio_json(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        from engine.projects.portfolio import to_json

        rows = await run_in_threadpool(self._rows)
        return Response(to_json(rows), media_type="application/json",
                        headers={"Content-Disposition":
                                 'attachment; filename="mladvisor-portfolio.json"'})
