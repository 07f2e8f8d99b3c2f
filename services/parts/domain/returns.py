"""Returns of faulty parts (RMA, 售后维修单) and QC's decisions.

Pure Python: no framework, database or broker imports.

Every part removed on site comes back to its branch and waits for QC. A faulty part is not
stock: it enters the ledger only when QC repairs and restocks it (a ``return`` movement).
QC's decision is one of:

- ``repaired_and_restocked``: back into the branch warehouse's stock;
- ``scrapped``: written off (it never re-entered stock, so nothing moves);
- ``design_defect``: kept for R&D, reported with the equipment model and the fault.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable

RESTOCKED = "repaired_and_restocked"
SCRAPPED = "scrapped"
DESIGN_DEFECT = "design_defect"
DECISIONS = (RESTOCKED, SCRAPPED, DESIGN_DEFECT)

AWAITING = "awaiting_inspection"
INSPECTED = "inspected"


class AlreadyInspected(Exception):
    """QC decided on this return already (HTTP 409)."""


@dataclass(frozen=True)
class PartReturn:
    return_id: str
    branch: str
    sku: str
    serial_no: str | None         # the removed part's serial number
    model: str                    # the equipment model the part came out of
    fault: str                    # what was wrong with it, as found on site
    received_by: str
    received_at: datetime
    ticket_no: str | None = None
    status: str = AWAITING
    decision: str | None = None
    note: str | None = None       # QC's finding
    inspected_by: str | None = None
    inspected_at: datetime | None = None

    def inspect(self, decision: str, by: str, at: datetime, note: str | None = None) -> "PartReturn":
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        if self.status != AWAITING:
            raise AlreadyInspected(f"return {self.return_id} was inspected already "
                                   f"({self.decision})")
        return replace(self, status=INSPECTED, decision=decision, note=note, inspected_by=by,
                       inspected_at=at)


def defect_statistics(returns: Iterable[PartReturn], top: int = 5) -> list[dict]:
    """Per equipment model: how many parts came back, QC's decisions, the design defects,
    the most frequent faults and the SKUs involved. Most returns first."""
    by_model: dict[str, list[PartReturn]] = {}
    for r in returns:
        by_model.setdefault(r.model, []).append(r)
    out = []
    for model, items in by_model.items():
        decisions = Counter(r.decision for r in items if r.decision)
        faults = Counter(r.fault for r in items)
        defect_faults = Counter(r.fault for r in items if r.decision == DESIGN_DEFECT)
        out.append({
            "model": model,
            "returns": len(items),
            "awaiting_inspection": sum(1 for r in items if r.status == AWAITING),
            "decisions": {d: decisions.get(d, 0) for d in DECISIONS},
            "design_defects": decisions.get(DESIGN_DEFECT, 0),
            "defect_rate": round(decisions.get(DESIGN_DEFECT, 0) / len(items), 4),
            "top_faults": [{"fault": f, "count": n} for f, n in faults.most_common(top)],
            "design_defect_faults": [{"fault": f, "count": n}
                                     for f, n in defect_faults.most_common(top)],
            "skus": dict(sorted(Counter(r.sku for r in items).items())),
        })
    out.sort(key=lambda d: (-d["returns"], d["model"]))
    return out
