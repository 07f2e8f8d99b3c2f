"""What the engineer finds and charges: the diagnosis (cause, responsibility, a void warranty)
and the quote of paid work (materials entered or priced from the approved parts requests,
labour, travel). Pure."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aftersales.money import money, money_text


class NoPartsPrices(ValueError):
    """A quote without materials, and no approved parts request to price them from."""


CAUSES = ("design", "material", "workmanship", "installation", "misuse", "environment",
          "force_majeure")
VOIDING_CAUSES = ("misuse", "force_majeure")   # typical reasons a warranty is void


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    responsibility: str
    warranty_void: bool = False
    void_reason: str | None = None
    findings: str | None = None

    def validate(self) -> list[dict]:
        errors = []
        if self.cause not in CAUSES:
            errors.append({"field": "cause", "message": f"must be one of {', '.join(CAUSES)}"})
        if not self.responsibility.strip():
            errors.append({"field": "responsibility", "message": "say who is responsible"})
        if self.warranty_void and not (self.void_reason or "").strip():
            errors.append({"field": "void_reason", "message": "a void warranty needs its reason"})
        return errors


ENTERED, FROM_PARTS = "entered", "parts_requests"     # where a quote's materials came from


@dataclass(frozen=True)
class Quote:
    materials: Decimal
    labour: Decimal
    travel: Decimal
    note: str | None = None
    materials_source: str = ENTERED           # entered | parts_requests
    parts_request_ids: tuple[str, ...] = ()   # the approved requests priced into materials

    @property
    def total(self) -> Decimal:
        return money(self.materials) + money(self.labour) + money(self.travel)

    def as_dict(self) -> dict:
        """Amounts as strings with two places (``"1200.50"``): exact in JSON, never a float."""
        return {"materials": money_text(self.materials), "labour": money_text(self.labour),
                "travel": money_text(self.travel), "total": money_text(self.total),
                "currency": "CNY", "note": self.note, "materials_source": self.materials_source,
                "parts_request_ids": list(self.parts_request_ids)}
