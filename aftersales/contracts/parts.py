"""The events parts publishes (exchange ``parts.events``): stock taken for jobs, the answers to
dispatch's parts requests (approval, reservation, transfer, backorder, shipping, delivery),
reorders, and the returns of faulty parts (RMA)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ..money import Money
from .common import PartLine, Schema

SOURCE = "parts"

PartReturnDecision = Literal["repaired_and_restocked", "scrapped", "design_defect"]


class PartsConsumedV1(Schema):
    ticket_no: str
    warehouse: str
    lines: list[PartLine]
    shortages: list[PartLine] = Field(default_factory=list)


# --------------------------------------------------------------------------------------
# A parts request (dispatch's parts_requested): every answer names the request and its ticket
# --------------------------------------------------------------------------------------
class PartsQuantity(Schema):
    sku: str
    quantity: int = Field(ge=1)


class PartsPricedLine(Schema):
    sku: str
    name: str
    unit: str
    quantity: int = Field(ge=1)
    unit_price: Money = Field(ge=0, description="CNY, the price on a paid job")
    line_total: Money = Field(ge=0, description="unit_price × quantity")


class PartsBackorderedLine(Schema):
    backorder_id: str
    sku: str
    quantity: int = Field(ge=1)
    lead_time_days: int = Field(ge=0)
    expected_at: datetime


class _PartsRequestEvent(Schema):
    request_id: str
    ticket_no: str


class PartsRequestApprovedV1(_PartsRequestEvent):
    in_warranty: bool
    approved_by: str = Field(description="the manager (the API key's subject), or `auto` (auto-approval rule)")
    auto_approved: bool
    approved_at: datetime
    currency: Literal["CNY"] = "CNY"
    lines: list[PartsPricedLine]
    total: Money = Field(ge=0, description="sum of the line totals")
    chargeable_total: Money = Field(
        ge=0, description="what the customer pays for the parts: 0 in warranty, else total")


class PartsRequestRejectedV1(_PartsRequestEvent):
    rejected_by: str
    reason: str
    rejected_at: datetime


class PartsReservedV1(_PartsRequestEvent):
    warehouse: str
    lines: list[PartsQuantity]
    complete: bool = Field(description="every line of the request is now reserved")
    transfer_id: str | None = None    # the parts came from another branch
    backorder_id: str | None = None   # the parts came from the supplier


class PartsTransferStartedV1(Schema):
    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    lines: list[PartsQuantity]
    expected_at: datetime
    request_id: str | None = None
    ticket_no: str | None = None


class PartsBackorderedV1(_PartsRequestEvent):
    warehouse: str
    lines: list[PartsBackorderedLine]
    expected_at: datetime = Field(description="when the last backordered line is expected")


class PartsShippedV1(_PartsRequestEvent):
    warehouse: str
    lines: list[PartsQuantity]
    shipped_by: str
    shipped_at: datetime


class PartsDeliveredV1(_PartsRequestEvent):
    delivered_by: str
    delivered_at: datetime


class ReorderNeededV1(Schema):
    warehouse: str
    sku: str
    name: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    suggested_quantity: int = Field(ge=1)
    lead_time_days: int


# --------------------------------------------------------------------------------------
# Returns of faulty parts: every event names the return and the part
# --------------------------------------------------------------------------------------
class _ReturnedPart(Schema):
    return_id: str
    ticket_no: str | None = None
    sku: str
    serial_no: str | None = None
    model: str


class PartReturnReceivedV1(_ReturnedPart):
    fault: str
    received_at: datetime


class PartReturnInspectedV1(_ReturnedPart):
    decision: PartReturnDecision
    note: str | None = None
    inspected_by: str
    inspected_at: datetime


class DesignDefectReportedV1(_ReturnedPart):
    fault: str
    finding: str | None = None
    reported_by: str
    reported_at: datetime


# type, version, schema, summary (docs/events.md); in the order they were first registered
SPECS = (
    ("parts_consumed", 1, PartsConsumedV1,
     "Parts fitted on a job were taken out of the branch warehouse's stock."),
    ("parts_request_approved", 1, PartsRequestApprovedV1,
     "A parts request was approved (by the manager or the in-warranty auto-approval rule); "
     "unit prices and totals for the quote of a paid job."),
    ("parts_request_rejected", 1, PartsRequestRejectedV1,
     "The branch manager rejected a parts request, or it named parts not in the catalogue."),
    ("parts_reserved", 1, PartsReservedV1,
     "Parts of a request were reserved in the branch warehouse (from stock, after a "
     "transfer arrived, or after a backorder arrived); `complete` when nothing is missing."),
    ("parts_transfer_started", 1, PartsTransferStartedV1,
     "The branch was short: parts left the nearest branch that had them, on their way."),
    ("parts_backordered", 1, PartsBackorderedV1,
     "Nobody had the parts: ordered from the supplier; `expected_at` from its lead time."),
    ("parts_shipped", 1, PartsShippedV1,
     "Reserved parts left the warehouse for the site."),
    ("parts_delivered", 1, PartsDeliveredV1,
     "The parts of a request were handed over on site."),
    ("reorder_needed", 1, ReorderNeededV1,
     "Available stock of a SKU in a warehouse fell to or below its reorder point (once per "
     "crossing)."),
    ("part_return_received", 1, PartReturnReceivedV1,
     "A part removed on site came back (RMA, 售后维修单) and waits for QC."),
    ("part_return_inspected", 1, PartReturnInspectedV1,
     "QC decided on a returned part: repaired_and_restocked, scrapped or design_defect."),
    ("design_defect_reported", 1, DesignDefectReportedV1,
     "QC found a design defect in a returned part: reported to R&D with model and fault."),
)
