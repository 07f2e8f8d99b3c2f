"""The job's parts requests as the parts service reports them (approved with prices, rejected,
reserved, in transit, backordered, shipped, delivered): what a paid job's quote charges and
when the parts are expected. Pure."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Iterable, Mapping

from aftersales.localtime import iso
from aftersales.money import money

# -- parts requests of the job (as the parts service reports them) ---------------------------
# requested → approved | rejected; approved → reserved (complete or not) / in_transit /
# backordered → shipped → delivered. The status is derived from the facts recorded, so
# events arriving out of order or twice end in the same state.
(PARTS_REQUESTED, PARTS_APPROVED, PARTS_REJECTED, PARTS_RESERVED, PARTS_IN_TRANSIT,
 PARTS_BACKORDERED, PARTS_SHIPPED, PARTS_DELIVERED) = (
    "requested", "approved", "rejected", "reserved", "in_transit", "backordered", "shipped",
    "delivered")


def _waiting(items: dict) -> list[dict]:
    return [i for i in items.values() if not i.get("arrived")]


def _parts_status(r: dict) -> str:
    if r.get("rejected_at"):
        return PARTS_REJECTED
    if r.get("delivered_at"):
        return PARTS_DELIVERED
    if r.get("shipped_at"):
        return PARTS_SHIPPED
    if not r.get("complete"):
        if _waiting(r["backorders"]):
            return PARTS_BACKORDERED
        if _waiting(r["transfers"]):
            return PARTS_IN_TRANSIT
    if r.get("reserved"):
        return PARTS_RESERVED
    return PARTS_APPROVED if r.get("approved_at") else PARTS_REQUESTED


def _parts_expected(r: dict) -> str | None:
    """When the last part still on its way (transfer or backorder) is expected; None when
    nothing waits (everything reserved, or the request was rejected)."""
    if r.get("rejected_at") or r.get("complete"):
        return None
    times = [i["expected_at"] for i in (*_waiting(r["transfers"]), *_waiting(r["backorders"]))
             if i.get("expected_at")]
    return max(times, key=datetime.fromisoformat) if times else None


class PartsRequests:
    """The parts side of :class:`~services.dispatch.domain.model.Job` (its ``parts_requests``
    list of dicts)."""

    parts_requests: list[dict]

    # parts requests, as the parts service reports them (each method is idempotent and the
    # result does not depend on the order the events arrive in)
    def _parts_request(self, request_id: str) -> dict:
        for r in self.parts_requests:
            if r["request_id"] == request_id:
                return r
        r = {"request_id": request_id, "status": PARTS_REQUESTED, "in_warranty": None,
             "approved_at": None, "approved_by": None, "auto_approved": None, "lines": [],
             "total": None, "chargeable_total": None, "rejected_at": None, "reason": None,
             "reserved": False, "complete": False, "transfers": {}, "backorders": {},
             "expected_at": None, "shipped_at": None, "delivered_at": None}
        self.parts_requests = [*self.parts_requests, r]
        return r

    def _parts_changed(self, r: dict) -> None:
        r["status"] = _parts_status(r)
        r["expected_at"] = _parts_expected(r)

    def parts_approved(self, request_id: str, at: datetime, lines: Iterable[Mapping],
                       total, chargeable_total, in_warranty: bool, approved_by: str = "",
                       auto_approved: bool = False) -> None:
        """Approved, with the parts' unit prices (CNY): what a paid job's quote charges."""
        r = self._parts_request(request_id)
        r.update(approved_at=iso(at), approved_by=approved_by, auto_approved=auto_approved,
                 in_warranty=in_warranty, total=str(money(total)),
                 chargeable_total=str(money(chargeable_total)),
                 lines=[{"sku": ln["sku"], "name": ln.get("name"), "unit": ln.get("unit"),
                         "quantity": int(ln["quantity"]),
                         "unit_price": str(money(ln["unit_price"])),
                         "line_total": str(money(ln["line_total"]))} for ln in lines])
        self._parts_changed(r)

    def parts_rejected(self, request_id: str, at: datetime, reason: str) -> None:
        r = self._parts_request(request_id)
        r.update(rejected_at=iso(at), reason=reason)
        self._parts_changed(r)

    def parts_reserved(self, request_id: str, complete: bool, transfer_id: str | None = None,
                       backorder_id: str | None = None) -> None:
        """Parts set aside in the branch warehouse; with ``transfer_id``/``backorder_id`` the
        transfer or backorder arrived. ``complete``: nothing of the request waits any more
        (sticky: a late event about a transfer or backorder cannot make it wait again)."""
        r = self._parts_request(request_id)
        r["reserved"] = True
        r["complete"] = bool(r["complete"] or complete)
        for items, key in ((r["transfers"], transfer_id), (r["backorders"], backorder_id)):
            if key:
                items.setdefault(key, {"expected_at": None})["arrived"] = True
        self._parts_changed(r)

    def parts_transfer_started(self, request_id: str, transfer_id: str,
                               expected_at: datetime) -> None:
        r = self._parts_request(request_id)
        item = r["transfers"].setdefault(transfer_id, {"arrived": False})
        item["expected_at"] = iso(expected_at)
        self._parts_changed(r)

    def parts_backordered(self, request_id: str,
                          lines: Iterable[tuple[str, datetime]]) -> None:
        """``lines``: (backorder id, expected arrival) of each backordered line."""
        r = self._parts_request(request_id)
        for backorder_id, expected_at in lines:
            item = r["backorders"].setdefault(backorder_id, {"arrived": False})
            item["expected_at"] = iso(expected_at)
        self._parts_changed(r)

    def parts_shipped(self, request_id: str, at: datetime) -> None:
        r = self._parts_request(request_id)
        if r["shipped_at"] is None or datetime.fromisoformat(r["shipped_at"]) < at:
            r["shipped_at"] = iso(at)
        self._parts_changed(r)

    def parts_delivered(self, request_id: str, at: datetime) -> None:
        r = self._parts_request(request_id)
        if r["delivered_at"] is None or datetime.fromisoformat(r["delivered_at"]) < at:
            r["delivered_at"] = iso(at)
        self._parts_changed(r)

    @property
    def approved_parts_request_ids(self) -> list[str]:
        return [r["request_id"] for r in self.parts_requests
                if r.get("approved_at") and not r.get("rejected_at")]

    @property
    def parts_chargeable_total(self) -> Decimal:
        """What the customer pays for the parts: the sum of the approved requests'
        ``chargeable_total`` (exact, two places)."""
        return sum((money(r["chargeable_total"]) for r in self.parts_requests
                    if r.get("approved_at") and not r.get("rejected_at")), money(0))

    @property
    def parts_expected_at(self) -> datetime | None:
        """The latest expected arrival of the parts still on their way (transfer or
        backorder); None when nothing waits."""
        times = [datetime.fromisoformat(r["expected_at"]) for r in self.parts_requests
                 if r.get("expected_at")]
        return max(times) if times else None
