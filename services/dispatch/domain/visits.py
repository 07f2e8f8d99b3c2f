"""Whether a ticket gets an engineer, and what dispatch keeps of a ticket that did not (yet).

A ticket needs a visit when its category is one of ``aftersales.categories.VISIT_CATEGORIES``
(``training`` included) or intake said so, unless intake linked it to another open ticket as a
suspected duplicate. A ticket opened without a visit is kept (``KeptTicket``: the few fields a
job is opened from, no personal data) so that a later ``ticket_reclassified`` into a visit
category opens its job. Early events (a reclassification handled before the opening) are
folded in by time, so the order in which the events arrive does not matter.

Pure Python.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from aftersales.categories import needs_visit

ENDING = ("ticket_cancelled", "ticket_resolved")
RECLASSIFIED = "ticket_reclassified"


def needs_engineer(category: str | None, flagged: bool = False,
                   linked_to: str | None = None) -> bool:
    """True when the ticket gets a job: intake flagged a visit, or its category needs one and
    it is not linked to another ticket (a suspected duplicate gets no second engineer)."""
    return bool(flagged) or (needs_visit(category) and not linked_to)


@dataclass(frozen=True)
class KeptTicket:
    """What a job is opened from: the ticket as ``ticket_opened`` described it, with the
    category and priority as last (re)classified."""
    ticket_no: str
    branch: str
    priority: str
    category: str
    received_at: datetime
    product_line: str | None = None     # the asset's component category
    warranty_status: str | None = None  # in_warranty | expired | unknown_asset
    site: str = ""                      # the site address (the zone is matched against it)
    linked_to: str | None = None
    flagged: bool = False               # intake's needs_visit

    @property
    def in_warranty(self) -> bool | None:
        return {"in_warranty": True, "expired": False}.get(self.warranty_status)

    @property
    def needs_engineer(self) -> bool:
        return needs_engineer(self.category, self.flagged, self.linked_to)

    def reclassified(self, data: dict) -> "KeptTicket":
        """As a ``ticket_reclassified`` (its data) leaves it: new category, visit flag (the
        priority is applied to the job's clocks as a priority change, with its history)."""
        return replace(self, category=str(data.get("category") or self.category),
                       flagged=bool(data.get("needs_visit", self.flagged)))

    def as_of(self, early: list[tuple[str, datetime, dict]]) -> "KeptTicket":
        """The ticket after the reclassifications among ``early`` (oldest first)."""
        out = self
        for type_, _at, data in early:
            if type_ == RECLASSIFIED:
                out = out.reclassified(data)
        return out

    def as_doc(self) -> dict:
        return {**asdict(self), "received_at": self.received_at.isoformat()}

    @classmethod
    def from_doc(cls, doc: dict) -> "KeptTicket":
        return cls(**{**doc, "received_at": datetime.fromisoformat(doc["received_at"])})


def ended(early: list[tuple[str, datetime, dict]]) -> str | None:
    """The cancellation or resolution among the early events, if any: then no job opens."""
    return next((t for t, _at, _d in early if t in ENDING), None)
