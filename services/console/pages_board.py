"""The dispatch board's pages and the live stream: ``/console/live`` (server-sent events of
the user's branch, HQ all), ``/console/board`` (dispatch's board and roster, the jobs that
need someone first), its fragment ``/console/board/jobs`` (what the page re-fetches when a
live event arrives) and the assignment form (dispatch's manual assignment, the ranking and
its explanation)."""
from __future__ import annotations

from urllib.parse import quote

from werkzeug.wrappers import Response

from aftersales.reference import branches

from . import web
from .adapters.api import ApiError
from .domain import board as b
from .domain import live
from .pages import Context, Visit, _page, client, visit_of
from .service_layer.live import Hub, stream


# -- live updates ---------------------------------------------------------------------------
def live_stream(ctx: Context, request, hub: Hub, bus_ready: bool = True,
                heartbeat: float = live.HEARTBEAT_S) -> Response:
    """``text/event-stream`` of the events of the user's branch (HQ: all, or ``?branch=``).
    The body is iterated by the web server after this returns: no worker is held."""
    visit = visit_of(ctx, request)
    if visit is None:
        return Response("log in first\n", status=401, content_type="text/plain; charset=utf-8")
    branch = live.scope(visit.user.branch, request.args.get("branch"))
    # eventlet's server would gather small writes into 4 KiB chunks: send each at once
    request.environ["eventlet.minimum_write_chunk_size"] = 0
    body = stream(hub, branch, until=visit.session.expires_at.timestamp(), heartbeat=heartbeat,
                  bus_ready=bus_ready)
    return Response(body, status=200, content_type="text/event-stream; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no",
                             "X-Content-Type-Options": "nosniff"})


# -- the board ------------------------------------------------------------------------------
def _board_visit(ctx: Context, request):
    """(visit, None), or (None, the response: the login page, or 403 for another role)."""
    visit = visit_of(ctx, request)
    if visit is None:
        return None, web.redirect(web.LOGIN)
    if visit.user.role not in b.BOARD_ROLES:
        return None, _page(request, visit, "error.html", status=403, message="board.forbidden")
    return visit, None


def _branch(visit: Visit, request) -> str:
    """The branch the board shows: the user's own; HQ every branch (``HQ``) or the one
    picked (a known branch code only)."""
    asked = live.scope(visit.user.branch, request.args.get("branch"))
    return asked if asked == live.HQ or asked in branches() else visit.user.branch


def _board_data(ctx: Context, visit: Visit, branch: str) -> dict:
    params = {} if branch == live.HQ else {"branch": branch}
    api = client(ctx, visit)
    out = {"jobs": [], "engineers": [], "at": None, "error": None, "field_errors": {}}
    try:
        answer = api.get("dispatch", "/api/v1/board", params=params)
        roster = api.get("dispatch", "/api/v1/engineers", params=params)
    except ApiError as exc:
        out.update(error=exc.message, field_errors=exc.field_errors())
        return out
    out.update(jobs=b.job_rows(answer), engineers=b.engineer_rows(answer, roster),
               at=answer.get("at"))
    return out


def _board_context(visit: Visit, branch: str) -> dict:
    # a branch user's stream and list are their branch's anyway; HQ names the one it picked
    query = f"?branch={quote(branch)}" if visit.user.is_hq and branch != live.HQ else ""
    return {"branch": branch, "live_url": "/console/live" + query,
            "jobs_url": "/console/board/jobs" + query, "live_events": live.BOARD_EVENTS,
            "branch_codes": sorted(branches()),
            "view_branch": branch if branch != live.HQ else None}


def board(ctx: Context, request):
    visit, refused = _board_visit(ctx, request)
    if refused is not None:
        return refused
    branch = _branch(visit, request)
    return _page(request, visit, "board/board.html", **_board_context(visit, branch),
                 **_board_data(ctx, visit, branch))


def board_jobs(ctx: Context, request):
    """The board's job list alone (the fragment the page swaps in on a live event)."""
    visit, refused = _board_visit(ctx, request)
    if refused is not None:
        return refused
    branch = _branch(visit, request)
    return _page(request, visit, "board/jobs.html", **_board_context(visit, branch),
                 **_board_data(ctx, visit, branch))


# -- assigning by hand ----------------------------------------------------------------------
def _job_path(ticket_no: str, tail: str = "") -> str:
    return f"/api/v1/jobs/{quote(ticket_no, safe='')}{tail}"


def assign_form(ctx: Context, request, ticket_no: str, status: int = 200, decision=None,
                error=None, field_errors=None, form=None, done: bool = False):
    visit, refused = _board_visit(ctx, request)
    if refused is not None:
        return refused
    api = client(ctx, visit)
    job, engineers = None, []
    try:
        job = api.get("dispatch", _job_path(ticket_no))
        board_doc = api.get("dispatch", "/api/v1/board", params={"branch": job["branch"]})
        engineers = b.engineer_rows(board_doc, None)
    except ApiError as exc:
        if error is None:
            error, status = exc.message, (exc.status if exc.status in (403, 404) else status)
    return _page(request, visit, "board/assign.html", status=status, ticket_no=ticket_no,
                 job=job, engineers=engineers,
                 decision=decision or b.latest_decision(job), fresh=decision is not None,
                 error=error, field_errors=field_errors or {}, form=form or {}, done=done)


def assign_submit(ctx: Context, request, ticket_no: str):
    visit, refused = _board_visit(ctx, request)
    if refused is not None:
        return refused
    form = request.form
    if not visit.session.csrf_ok(form.get("csrf")):
        return _page(request, visit, "error.html", status=400, message="error.csrf")
    body = {"reason": (form.get("reason") or "").strip()}
    engineer = (form.get("engineer_id") or "").strip()
    if engineer:
        body["engineer_id"] = engineer
    try:
        job = client(ctx, visit).post("dispatch", _job_path(ticket_no, "/assign"), body)
    except ApiError as exc:
        status = exc.status if exc.status in (400, 403, 404, 409, 422) else 502
        return assign_form(ctx, request, ticket_no, status=status, error=exc.message,
                           field_errors=exc.field_errors(), form=dict(form))
    return assign_form(ctx, request, ticket_no, decision=b.latest_decision(job), done=True)
