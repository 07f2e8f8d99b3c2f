"""The field engineer's pages (phone first): my jobs, the job with the steps its state allows,
photos and the customer's signature. Everything comes from dispatch's API (the site from
intake's, the parts from the parts catalogue), called with the key minted for the user; a
form posts here (CSRF-checked), the console calls dispatch and redirects back to the job page
(post/redirect/get), or shows the page again with dispatch's errors next to their fields."""
from __future__ import annotations

import logging
import re
from urllib.parse import quote

from werkzeug.wrappers import Response

from aftersales.reference import timezone_of

from . import web
from .adapters.api import ApiError
from .adapters.api_engineer import EngineerClient
from .domain import engineer as eng
from .pages import Context, Visit, _page, visit_of

log = logging.getLogger(__name__)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
TICKET = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
JOBS = "/console/jobs"
MAX_SITES = 20          # the list asks intake for the site of this many jobs at most


def _client(ctx: Context, visit: Visit) -> EngineerClient:
    return EngineerClient(ctx.minter.key_for(visit.session.token_hash, visit.user), ctx.urls)


def _job_path(ticket_no: str, tail: str = "") -> str:
    return f"/api/v1/jobs/{quote(ticket_no, safe='')}{tail}"


def job_url(ticket_no: str) -> str:
    return f"/console/jobs/{quote(ticket_no, safe='')}"


def _not_found(request, visit: Visit):
    return _page(request, visit, "error.html", status=404, message="engineer.not_found")


def _site(api: EngineerClient, ticket_no: str) -> dict | None:
    """The ticket's customer and site as intake's API gives them (None when intake does not
    show it to this key, e.g. a job lent from a neighbouring branch)."""
    try:
        t = api.get("intake", f"/api/v1/tickets/{quote(ticket_no, safe='')}")
    except ApiError:
        return None
    return {"customer": t.get("customer") or {}, "site": t.get("site") or {},
            "fault": t.get("fault") or {}, "asset": t.get("asset") or {}}


# -- my jobs ------------------------------------------------------------------------------------
def jobs(ctx: Context, request):
    visit = visit_of(ctx, request)
    if visit is None:
        return web.redirect(web.LOGIN)
    api = _client(ctx, visit)
    found, error = [], None
    try:
        found = eng.sort_jobs(api.get("dispatch", "/api/v1/jobs",
                                      params={"limit": "200"}).get("jobs", []))
    except ApiError as exc:
        error = exc.message
    sites = {j["ticket_no"]: _site(api, j["ticket_no"])
             for j in found[:MAX_SITES] if eng.is_open(j["status"])}
    return _page(request, visit, "engineer/jobs.html", jobs=found, sites=sites, error=error,
                 is_open=eng.is_open, job_url=job_url)


# -- the job ------------------------------------------------------------------------------------
def job(ctx: Context, request, ticket_no: str, status: int = 200, failed: dict | None = None):
    visit = visit_of(ctx, request)
    if visit is None:
        return web.redirect(web.LOGIN)
    if not TICKET.match(ticket_no):
        return _not_found(request, visit)
    api = _client(ctx, visit)
    try:
        view = api.get("dispatch", _job_path(ticket_no))
    except ApiError as exc:
        if exc.status in (403, 404):
            return _not_found(request, visit)
        return _page(request, visit, "error.html", status=502, message="engineer.unavailable")
    if not _mine(visit, view):
        return _not_found(request, visit)
    actions = eng.allowed(view["status"]) if view["status"] else []
    catalogue = []
    if "parts" in actions or "complete" in actions:
        try:
            catalogue = api.get("parts", "/api/v1/catalogue").get("parts", [])
        except ApiError as exc:
            log.info("parts catalogue unavailable for the job page: %s", exc.message)
    return _page(request, visit, "engineer/job.html", status=status, job=view,
                 info=_site(api, ticket_no), actions=actions, catalogue=catalogue,
                 can_photo=view["status"] in eng.PHOTO_STATES, failed=failed or {},
                 causes=eng.CAUSES, responsibilities=eng.RESPONSIBILITIES,
                 part_rows=range(eng.PART_ROWS), job_url=job_url(ticket_no),
                 form=request.form if failed else {})


def _mine(visit: Visit, view: dict) -> bool:
    """An engineer's pages show their own jobs only (dispatch lets an engineer read the
    branch's other jobs, not act on them); staff see every job dispatch shows them."""
    user = visit.user
    return user.role != "engineer" or view.get("engineer_id") == user.engineer_id


def _failure(action: str, exc: ApiError) -> dict:
    return {"action": action, "message": exc.message, "status": exc.status,
            "fields": {eng.form_field(f): m for f, m in exc.field_errors().items()}}


def _posted(ctx: Context, request, ticket_no: str):
    """The visit when the POST may go on (logged in, its CSRF token), else the answer."""
    visit = visit_of(ctx, request)
    if visit is None:
        return None, web.redirect(web.LOGIN)
    if not visit.session.csrf_ok(request.form.get("csrf")):
        return None, _page(request, visit, "error.html", status=400, message="error.csrf")
    if not TICKET.match(ticket_no):
        return None, _not_found(request, visit)
    return visit, None


def act(ctx: Context, request, ticket_no: str, action: str):
    """A step of the job: the form as dispatch's body, posted to its route."""
    visit, answer = _posted(ctx, request, ticket_no)
    if answer is not None:
        return answer
    step = eng.ACTIONS.get(action)
    if step is None:
        return _not_found(request, visit)
    # the appointment's wall-clock times: the user's branch's zone (HQ: the default)
    body = eng.body_for(action, request.form, timezone_of(visit.user.branch))
    try:
        _client(ctx, visit).post("dispatch", _job_path(ticket_no, f"/{step.route}"), body)
    except ApiError as exc:
        if exc.status == 404:
            return _not_found(request, visit)
        return job(ctx, request, ticket_no, status=_shown(exc.status),
                   failed=_failure(action, exc))
    # a declined job goes to someone else: back to my jobs
    return web.redirect(JOBS if action == "decline" else job_url(ticket_no))


def _shown(status: int) -> int:
    """The page's status for an API's error: its own 4xx, 502 for a service's failure."""
    return status if 400 <= status < 500 else 502


def photo(ctx: Context, request, ticket_no: str):
    """A photo from the phone's camera, forwarded to dispatch's photo route as is."""
    visit, answer = _posted(ctx, request, ticket_no)
    if answer is not None:
        return answer
    upload = request.files.get("photo")
    fields = {k: v for k in ("caption",) if (v := (request.form.get(k) or "").strip())}
    try:
        if upload is None or not upload.filename:
            raise ApiError(400, "invalid request", [{"field": "photo",
                                                     "message": "engineer.photo_missing"}])
        _client(ctx, visit).upload("dispatch", _job_path(ticket_no, "/photos"), "photo",
                                   upload.filename, upload.stream, upload.mimetype, fields)
    except ApiError as exc:
        if exc.status == 404:
            return _not_found(request, visit)
        return job(ctx, request, ticket_no, status=_shown(exc.status),
                   failed=_failure("photo", exc))
    return web.redirect(job_url(ticket_no))


def evidence(ctx: Context, request, ticket_no: str, sha256: str):
    """A photo or signature of the job, read from dispatch with the user's key."""
    visit = visit_of(ctx, request)
    if visit is None:
        return Response("", status=401)
    if not TICKET.match(ticket_no) or not SHA256.match(sha256):
        return Response("not found", status=404, content_type="text/plain; charset=utf-8")
    api = _client(ctx, visit)
    try:
        if visit.user.role == "engineer" and not _mine(visit, api.get("dispatch",
                                                                      _job_path(ticket_no))):
            raise ApiError(404, "not found")
        image = api.image("dispatch", _job_path(ticket_no, f"/evidence/{sha256}"))
    except ApiError as exc:
        status = exc.status if exc.status in (403, 404) else 502
        return Response(exc.message, status=status, content_type="text/plain; charset=utf-8")
    return Response(image.data, status=200, content_type=image.content_type,
                    headers={"Cache-Control": "private, max-age=86400",
                             "X-Content-Type-Options": "nosniff",
                             "ETag": f'"{sha256}"'})
