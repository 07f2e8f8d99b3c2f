"""What parts' HTTP routes answer, as pydantic models: the OpenAPI document's response schemas
(``json_api(..., response=...)``). They describe the dicts the views and use cases return
(``service_layer/views.py``, ``reports.py``, ``warehouse.py``); ``extra="forbid"`` so that a
field a view adds without documenting it fails the Schemathesis run. Amounts are CNY as
strings with two decimals (``aftersales/money.py``); times are ISO-8601 with their offset."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain import model, requests as rq, returns as rma

Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["128.00"],
                             description="an amount in CNY (元), two decimals")]
Kind = Literal[model.KINDS]
RequestStatus = Literal[rq.STATUSES]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- catalogue, stock, ledger -------------------------------------------------------------------
class CataloguePart(_Answer):
    sku: str
    name: str
    unit: str
    cost_price: Money = Field(description="what the company pays (CNY)")
    price: Money = Field(description="what a customer pays on a paid job (CNY)")
    compatible_models: list[str]
    lead_time_days: int = Field(description="the supplier's lead time for a backorder")
    reorder_point: int | None = Field(description="the default reorder point; null: no alert")


class CatalogueAnswer(_Answer):
    model: str | None = Field(description="the equipment model filtered on, if any")
    parts: list[CataloguePart]


class StockLine(_Answer):
    sku: str
    name: str
    unit: str
    on_hand: int
    reserved: int
    issued: int = Field(description="out with an engineer")
    available: int = Field(description="on hand minus reserved")
    reorder_point: int | None
    reorder_needed: bool


class StockAnswer(_Answer):
    branch: str
    stock: list[StockLine]


class Position(_Answer):
    on_hand: int
    reserved: int
    issued: int
    available: int


class MovementAnswer(_Answer):
    branch: str
    sku: str
    kind: Literal["receive", "scrap", "stocktake"]
    before: Position
    after: Position


class ReorderPointAnswer(_Answer):
    branch: str
    sku: str
    reorder_point: int | None = Field(description="the warehouse's point (its own, else the "
                                                  "catalogue's); null: no alert")
    below: bool = Field(description="available stock is at or below the point")
    reorder_needed: bool = Field(description="this change sent `reorder_needed`")


class LedgerEntryView(_Answer):
    warehouse: str
    sku: str
    quantity: int = Field(description="signed change of on hand")
    kind: Kind
    reserved: int = Field(description="signed change of reserved")
    issued: int = Field(description="signed change of issued")
    ticket_no: str | None
    serial_no: str | None
    request_id: str | None
    ref: str | None = Field(description="transfer, backorder or return id")
    note: str | None
    actor: str | None
    event_id: str | None = Field(description="the event that caused the movement")
    created_at: datetime


class LedgerAnswer(_Answer):
    branch: str
    ticket_no: str | None
    entries: list[LedgerEntryView]


# -- parts requests ------------------------------------------------------------------------------
class Approval(_Answer):
    by: str | None
    at: datetime | None
    auto: bool
    reason: str | None = Field(description="why it was rejected or cancelled")


class RequestLineView(_Answer):
    sku: str
    name: str
    unit: str
    quantity: int
    unit_price: Money
    line_total: Money


class RequestStock(_Answer):
    sku: str
    reserved: int = Field(description="reserved on the shelf for the request")
    issued: int
    in_transfer: int
    backordered: int
    consumed: int


class SkuQuantity(_Answer):
    sku: str
    quantity: int


class TransferView(_Answer):
    transfer_id: str
    from_warehouse: str
    to_warehouse: str
    lines: list[SkuQuantity]
    expected_at: datetime
    request_id: str | None
    ticket_no: str | None
    status: Literal["in_transit", "received"]
    created_at: datetime
    received_at: datetime | None
    received_by: str | None


class BackorderView(_Answer):
    backorder_id: str
    request_id: str | None
    ticket_no: str | None
    warehouse: str
    sku: str
    quantity: int
    lead_time_days: int
    expected_at: datetime
    status: Literal["open", "received", "cancelled"]
    created_at: datetime
    closed_at: datetime | None


class HistoryEntry(_Answer):
    """One change of a request's status; the optional fields only where they apply."""
    model_config = ConfigDict(populate_by_name=True)
    action: Literal["create", *rq.ALLOWED]
    from_: RequestStatus | None = Field(default=None, alias="from",
                                        description="absent on creation")
    to: RequestStatus
    by: str
    at: datetime
    source: Literal["http", "dispatch"] | None = Field(default=None, description="on creation")
    auto: bool | None = Field(default=None, description="an automatic approval (only if so)")
    note: str | None = None
    reason: str | None = None


class PartsRequestView(_Answer):
    request_id: str
    ticket_no: str
    branch: str
    status: RequestStatus
    in_warranty: bool
    source: Literal["http", "dispatch"]
    requested_by: str
    note: str | None
    created_at: datetime
    approval: Approval
    currency: Literal["CNY"]
    total: Money
    chargeable_total: Money = Field(description="what the customer pays: 0.00 in warranty")
    cost_total: Money
    lines: list[RequestLineView]
    stock: list[RequestStock]
    transfers: list[TransferView]
    backorders: list[BackorderView]
    history: list[HistoryEntry]


class RequestSummary(_Answer):
    request_id: str
    ticket_no: str
    branch: str
    status: RequestStatus
    in_warranty: bool
    total: Money
    auto_approved: bool
    created_at: datetime
    lines: list[SkuQuantity]


class RequestList(_Answer):
    branch: str | None = Field(description="the branch listed; null: every branch (HQ)")
    requests: list[RequestSummary]


class TransferList(_Answer):
    branch: str | None
    transfers: list[TransferView]


class BackorderList(_Answer):
    branch: str | None
    backorders: list[BackorderView]


# -- returns (RMA) and reports -------------------------------------------------------------------
class ReturnView(_Answer):
    return_id: str
    branch: str
    ticket_no: str | None
    sku: str
    serial_no: str | None
    model: str
    fault: str
    status: Literal[rma.AWAITING, rma.INSPECTED]
    decision: Literal[rma.DECISIONS] | None
    note: str | None = Field(description="QC's finding")
    received_by: str
    received_at: datetime
    inspected_by: str | None
    inspected_at: datetime | None


class ReturnList(_Answer):
    branch: str | None
    returns: list[ReturnView]


class FaultCount(_Answer):
    fault: str
    count: int


class Decisions(_Answer):
    repaired_and_restocked: int
    scrapped: int
    design_defect: int


class ModelDefects(_Answer):
    model: str
    returns: int
    awaiting_inspection: int
    decisions: Decisions
    design_defects: int
    defect_rate: float = Field(ge=0, le=1, description="design defects / returns, 4 decimals")
    top_faults: list[FaultCount]
    design_defect_faults: list[FaultCount]
    skus: dict[str, int] = Field(description="returns per SKU")


class DefectsReport(_Answer):
    branch: str | None
    model: str | None
    since: datetime | None
    until: datetime | None
    returns: int
    models: list[ModelDefects]


class MonthLineView(_Answer):
    sku: str
    name: str
    unit: str
    opening: int
    received: int
    transferred_in: int
    returned: int
    consumed: int
    transferred_out: int
    scrapped: int
    adjusted: int = Field(description="signed")
    closing: int
    cost_price: Money
    consumed_value: Money
    closing_value: Money


class LedgerTotals(_Answer):
    consumed_value: Money
    closing_value: Money


class LedgerReport(_Answer):
    """The monthly parts ledger of a branch warehouse (售后物品清单)."""
    model_config = ConfigDict(populate_by_name=True)
    branch: str
    branch_name: str | None
    month: str = Field(examples=["2026-11"])
    timezone: str
    from_: datetime = Field(alias="from", description="the month's first instant (UTC)")
    to: datetime = Field(description="the next month's first instant (UTC)")
    currency: Literal["CNY"]
    lines: list[MonthLineView]
    totals: LedgerTotals
    movements: list[LedgerEntryView]


CSV = {"text/csv": {"schema": {"type": "string", "description":
                               "the lines as CSV (UTF-8 with BOM), with `?format=csv`"}}}
