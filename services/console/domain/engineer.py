"""The engineer's job pages, pure: which of dispatch's steps a job's state allows, and the
forms' fields as the JSON bodies of dispatch's routes (``services/dispatch/bodies.py``).

Dispatch decides in the end (a step from the wrong state is its 409, a bad field its 422);
this only keeps the page from offering a form that cannot work, and sends what was typed
without guessing: an empty optional field is left out, anything else goes as typed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

# dispatch's job states, open ones first (the order of the list)
OPEN = ("assigned", "accepted", "scheduled", "en_route", "on_site", "diagnosed", "quoted",
        "in_progress", "rework", "completed", "escalated")
ENDED = ("closed", "cancelled")
STATES = OPEN + ENDED
ON_SITE = ("on_site", "diagnosed", "quoted", "in_progress")
CAUSES = ("design", "material", "workmanship", "installation", "misuse", "environment",
          "force_majeure")
RESPONSIBILITIES = ("company", "supplier", "customer", "third_party", "none")
PART_ROWS = 3          # rows of sku + quantity on the parts and completion forms


@dataclass(frozen=True)
class Action:
    name: str           # the console's form (and the URL's last part)
    route: str          # dispatch's ``POST /api/v1/jobs/{ticket_no}/<route>``
    states: tuple[str, ...]


ACTIONS = {a.name: a for a in (
    Action("accept", "accept", ("assigned",)),
    Action("decline", "decline", ("assigned",)),
    Action("appointment", "appointment", ("accepted", "scheduled", "rework")),
    Action("depart", "en-route", ("accepted", "scheduled", "rework")),
    Action("check_in", "check-in", ("accepted", "scheduled", "en_route", "rework")),
    Action("diagnose", "diagnosis", ("on_site", "diagnosed")),
    Action("parts", "parts-requests", tuple(s for s in OPEN
                                            if s not in ("escalated", "completed"))),
    Action("report", "reports", ON_SITE),
    Action("complete", "complete", ("on_site", "diagnosed", "in_progress")),
    Action("sign_off", "sign-off", ("completed",)),
)}
PHOTO_STATES = OPEN     # photos: while the job is open (dispatch: closed or cancelled 409)


def allowed(status: str) -> list[str]:
    """The forms a job in ``status`` offers, in the order of the work."""
    return [a.name for a in ACTIONS.values() if status in a.states]


def is_open(status: str) -> bool:
    return status not in ENDED


def sort_jobs(jobs: list[dict]) -> list[dict]:
    """Open jobs first (by the state's place in the work, then the appointment, then when the
    ticket came in), ended ones after them, the latest first."""
    def key(j):
        status = j.get("status") or ""
        appt = (j.get("appointment") or {}).get("from") or ""
        if is_open(status):
            return (0, appt == "", appt, j.get("received_at") or "")
        return (1, "", "", _desc(j.get("closed_at") or j.get("cancelled_at")
                                 or j.get("received_at") or ""))
    return sorted(jobs, key=key)


def _desc(text: str) -> str:
    """A string that sorts the other way round (latest instant first)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


# -- forms to bodies ----------------------------------------------------------------------------
def _text(form, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def _put(body: dict, name: str, value) -> None:
    if value is not None:
        body[name] = value


def local_instant(value: str | None, tz: str) -> str | None:
    """A ``datetime-local`` field (``2026-12-03T09:00``, the branch's wall clock) as an
    ISO-8601 instant with the branch's offset; anything else as typed (dispatch names it)."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    return at.isoformat()


def _number(value: str | None):
    """Digits as an int; anything else as typed (dispatch's validation names the field)."""
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def part_lines(form) -> list[dict]:
    """The filled rows ``sku_<i>`` + ``quantity_<i>`` (a row without a part is skipped)."""
    lines = []
    for i in range(PART_ROWS):
        sku = _text(form, f"sku_{i}")
        if sku is None:
            continue
        lines.append({"sku": sku, "quantity": _number(_text(form, f"quantity_{i}")) or 1})
    return lines


def _bool(form, name: str) -> bool:
    return (form.get(name) or "") in ("1", "on", "true", "yes")


def body_for(action: str, form, tz: str = "Asia/Shanghai") -> dict:
    """The JSON body of dispatch's route for the form ``action`` (``form``: the posted
    fields, a mapping); ``tz``: the branch's time zone for the appointment's times."""
    body: dict = {}
    if action == "decline":
        body["reason"] = _text(form, "reason") or ""
    elif action == "appointment":
        body["window_from"] = local_instant(_text(form, "window_from"), tz) or ""
        body["window_to"] = local_instant(_text(form, "window_to"), tz) or ""
        _put(body, "note", _text(form, "note"))
    elif action == "depart":
        _put(body, "eta", local_instant(_text(form, "eta"), tz))
    elif action == "diagnose":
        body["cause"] = _text(form, "cause") or ""
        body["responsibility"] = _text(form, "responsibility") or ""
        body["warranty_void"] = _bool(form, "warranty_void")
        if body["warranty_void"]:
            _put(body, "void_reason", _text(form, "void_reason"))
        _put(body, "findings", _text(form, "findings"))
    elif action == "parts":
        body["lines"] = part_lines(form)
        _put(body, "note", _text(form, "note"))
    elif action == "report":
        body["progress"] = _text(form, "progress") or ""
        _put(body, "percent", _number(_text(form, "percent")))
    elif action == "complete":
        body["summary"] = _text(form, "summary") or ""
        body["parts_used"] = part_lines(form)
    elif action == "sign_off":
        body["accepted"] = (form.get("accepted") or "1") != "0"
        if not body["accepted"]:
            body["reason"] = _text(form, "reason") or ""
        _put(body, "signed_by", _text(form, "signed_by"))
        _put(body, "signature", _text(form, "signature"))
    return body


def form_field(api_field: str) -> str:
    """The form's field a dispatch error names: ``lines.0.sku`` → ``sku_0``,
    ``parts_used.1.quantity`` → ``quantity_1``; others as they are."""
    parts = api_field.split(".")
    if len(parts) == 3 and parts[0] in ("lines", "parts_used") and parts[1].isdigit():
        return f"{parts[2]}_{parts[1]}"
    return api_field
