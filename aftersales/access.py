"""Which role may call which route: one table for the four services, enforced by
``json_api`` before the route's own checks, rendered into docs/access.md
(``aftersales events-doc``), and asserted route by route, role by role, by
tests/test_route_access.py.

``admin`` may call every route. The table says who may call a route at all; the route itself
then scopes what the key sees: its branch only (HQ: every branch), an engineer only the jobs
assigned to them, visit plans HQ managers only. ``PUBLIC`` routes need no key (the survey link,
whose unguessable token is the secret); ``/health`` and ``/metrics`` are public too.
"""
from __future__ import annotations

from .auth import ROLES

PUBLIC = "public"
EVERYONE = tuple(r for r in ROLES if r != "admin")
# the services' own role groups (kept equal to the checks in their handlers)
JOB_ACTORS = ("engineer", "dispatcher", "manager")
SIGNERS = ("engineer", "dispatcher", "manager", "agent")
DESK = ("agent", "manager", "dispatcher")
STAFF = ("agent", "dispatcher", "manager")
STOCK = ("warehouse", "manager")

ROUTES: dict[str, dict[tuple[str, str], tuple[str, ...] | str]] = {
    "intake": {
        ("POST", "/api/v1/tickets"): ("agent", "integration", "manager"),
        ("GET", "/api/v1/tickets"): EVERYONE,
        ("GET", "/api/v1/tickets/{ticket_no}"): EVERYONE,
        ("POST", "/api/v1/tickets/{ticket_no}/contact"): DESK,
        ("POST", "/api/v1/tickets/{ticket_no}/classification"): DESK,
        ("POST", "/api/v1/tickets/{ticket_no}/resolve"): DESK,
        ("POST", "/api/v1/tickets/{ticket_no}/cancel"): DESK,
        ("POST", "/api/v1/tickets/{ticket_no}/split"): DESK,
    },
    "dispatch": {
        ("GET", "/api/v1/board"): ("dispatcher", "manager", "agent"),
        ("GET", "/api/v1/engineers"): ("dispatcher", "manager", "agent"),
        ("PUT", "/api/v1/engineers/{engineer_id}"): ("dispatcher", "manager"),
        ("POST", "/api/v1/engineers/{engineer_id}/leave"): ("dispatcher", "manager"),
        ("GET", "/api/v1/jobs"): EVERYONE,
        ("GET", "/api/v1/jobs/{ticket_no}"): EVERYONE,
        ("GET", "/api/v1/jobs/{ticket_no}/sla"): EVERYONE,
        ("GET", "/api/v1/jobs/{ticket_no}/evidence"): EVERYONE,
        ("GET", "/api/v1/jobs/{ticket_no}/evidence/{sha256}"): EVERYONE,
        ("POST", "/api/v1/jobs/{ticket_no}/photos"): JOB_ACTORS,
        ("POST", "/api/v1/jobs/{ticket_no}/assign"): ("dispatcher", "manager"),
        **{("POST", f"/api/v1/jobs/{{ticket_no}}/{action}"): JOB_ACTORS
           for action in ("accept", "decline", "appointment", "en-route", "check-in",
                          "diagnosis", "quote", "reports", "complete", "parts-requests")},
        ("POST", "/api/v1/jobs/{ticket_no}/sign-off"): SIGNERS,
        ("POST", "/api/v1/jobs/{ticket_no}/quote/decision"): SIGNERS,
        ("POST", "/api/v1/jobs/{ticket_no}/waiting-on-customer"): SIGNERS,
        ("POST", "/api/v1/jobs/{ticket_no}/resume"): SIGNERS,
    },
    "parts": {
        ("GET", "/api/v1/catalogue"): EVERYONE,
        ("GET", "/api/v1/stock"): EVERYONE,
        ("POST", "/api/v1/stock/movements"): STOCK,
        ("PUT", "/api/v1/reorder-points"): STOCK,
        ("GET", "/api/v1/ledger"): EVERYONE,
        ("POST", "/api/v1/parts-requests"): JOB_ACTORS,
        ("GET", "/api/v1/parts-requests"): EVERYONE,
        ("GET", "/api/v1/parts-requests/{request_id}"): EVERYONE,
        ("POST", "/api/v1/parts-requests/{request_id}/approve"): ("manager",),
        ("POST", "/api/v1/parts-requests/{request_id}/reject"): ("manager",),
        ("POST", "/api/v1/parts-requests/{request_id}/ship"): STOCK,
        ("POST", "/api/v1/parts-requests/{request_id}/deliver"):
            ("engineer", "warehouse", "dispatcher", "manager"),
        ("POST", "/api/v1/parts-requests/{request_id}/return-unused"): STOCK,
        ("POST", "/api/v1/parts-requests/{request_id}/cancel"): JOB_ACTORS,
        ("GET", "/api/v1/transfers"): EVERYONE,
        ("POST", "/api/v1/transfers/{transfer_id}/receive"): STOCK,
        ("GET", "/api/v1/backorders"): EVERYONE,
        ("POST", "/api/v1/backorders/{backorder_id}/receive"): STOCK,
        ("POST", "/api/v1/returns"): ("engineer", "warehouse", "qc", "dispatcher", "manager"),
        ("GET", "/api/v1/returns"): EVERYONE,
        ("GET", "/api/v1/returns/{return_id}"): EVERYONE,
        ("POST", "/api/v1/returns/{return_id}/inspect"): ("qc",),
        ("GET", "/api/v1/reports/defects"): EVERYONE,
        ("GET", "/api/v1/reports/ledger"): EVERYONE,
    },
    "feedback": {
        ("GET", "/api/v1/surveys/{token}"): PUBLIC,
        ("POST", "/api/v1/surveys/{token}"): PUBLIC,
        ("GET", "/api/v1/surveys"): EVERYONE,
        ("POST", "/api/v1/surveys/{survey_id}/phone-answer"): ("agent", "manager"),
        ("GET", "/api/v1/follow-ups"): STAFF,
        ("POST", "/api/v1/follow-ups/{follow_up_id}/close"): STAFF,
        ("POST", "/api/v1/complaints"): STAFF,
        ("GET", "/api/v1/complaints"): STAFF,
        ("GET", "/api/v1/complaints/{complaint_id}"): STAFF,
        ("POST", "/api/v1/complaints/{complaint_id}/{action}"): STAFF,
        ("GET", "/api/v1/return-visits"): STAFF,
        ("POST", "/api/v1/return-visits/{visit_id}/outcome"): STAFF,
        ("GET", "/api/v1/visit-plans"): STAFF,
        ("PUT", "/api/v1/visit-plans/{plan_id}"): ("manager",),            # HQ managers only
        ("POST", "/api/v1/visit-plans/{plan_id}/generate"): ("manager",),  # HQ managers only
        ("GET", "/api/v1/reports/monthly"): ("manager", "dispatcher", "agent"),
    },
}


def rule(service: str, method: str, route: str):
    """The roles that may call the route, ``PUBLIC``, or None when the table lacks it."""
    return ROUTES.get(service, {}).get((method.upper(), route))


def check(svc, request, route: str) -> None:
    """In ``json_api``: a key of a role the table does not list for the route gets 403 before
    the route reads its body (Forbidden; AuthError without a valid key)."""
    roles = rule(getattr(svc, "name", ""), request.method, route)
    if roles is None or roles == PUBLIC:
        return
    svc.store.principal(request).require_role(*roles)


def render() -> str:
    head = ["route", *ROLES]
    out = ["# Who may call which route", "",
           "Generated from `aftersales/access.py` by `aftersales events-doc`; "
           "tests/test_route_access.py calls every route with every role, of the route's branch "
           "and of another one, and asserts this table. ✓: the role may call the route (the "
           "route then shows it only its branch's data, HQ every branch's); —: 403. "
           "`/health` and `/metrics` need no key; routes marked *public* neither.", ""]
    for service, routes in ROUTES.items():
        out += [f"## {service}", "", "| " + " | ".join(head) + " |",
                "|" + "---|" * len(head)]
        for (method, path), roles in sorted(routes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            cells = ["*public*"] * len(ROLES) if roles == PUBLIC else [
                "✓" if r == "admin" or r in roles else "—" for r in ROLES]
            out.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
