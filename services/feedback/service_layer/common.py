"""What feedback's handlers and views share: the settings they run with, what a use case
reports for the metrics, and who may do what."""
from __future__ import annotations

from dataclasses import dataclass, field

from aftersales.auth import Principal
from aftersales.errors import NotFound

from ..domain import model
from ..domain import visits as rv

TOKEN_ROLES = ("agent", "manager", "admin")   # staff who may see (and pass on) the survey link
STAFF_ROLES = ("agent", "dispatcher", "manager")   # agents, supervisors, managers
DEFAULT_TZ = "Asia/Shanghai"


def visible(principal: Principal, found, what: str):
    """``found`` (a survey, follow-up, complaint, visit) when the key may see its branch;
    NotFound (``no such <what>``) when there is none or it belongs to another branch."""
    if found is None or not principal.can_access(found.branch):
        raise NotFound(f"no such {what}")
    return found


@dataclass(frozen=True)
class Settings:
    branches: dict
    valid_days: float = model.DEFAULT_VALID_DAYS
    reminder_days: tuple[float, ...] = model.DEFAULT_REMINDER_DAYS
    visit_months: tuple[int, ...] = rv.DEFAULT_VISIT_MONTHS
    plan_lead_days: int = 30

    def tz(self, branch: str) -> str:
        return (self.branches.get(branch) or {}).get("timezone", DEFAULT_TZ)


@dataclass
class Outcome:
    """What a use case did that is counted in metrics once committed."""
    view: dict | None = None
    complaints: list[tuple[str, str]] = field(default_factory=list)   # (branch, severity)
