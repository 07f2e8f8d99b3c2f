"""Reference data for feedback: the seasonal and annual return-visit plans
(``deploy/reference/visit_plans.json``; HQ managers change them over HTTP afterwards)."""
from __future__ import annotations

import json
from pathlib import Path

from aftersales.config import reference_dir
from aftersales.contracts.envelope import utcnow

from .adapters.visits import PlanRepository
from .domain.visits import plan_errors


def load_plans(path: Path) -> dict:
    plans = json.loads(path.read_text(encoding="utf-8"))
    for plan_id, doc in plans.items():
        errors = plan_errors(doc)
        if errors:
            raise ValueError(f"{path}: plan {plan_id}: {errors}")
    return plans


def seed(session, only_if_empty: bool = False, directory: Path | None = None) -> str:
    repo = PlanRepository(session)
    if only_if_empty and repo.all():
        return "visit plans already loaded"
    plans = load_plans(Path(directory or reference_dir()) / "visit_plans.json")
    now = utcnow()
    for plan_id, doc in plans.items():
        repo.put(plan_id, doc, now)
    return f"{len(plans)} return-visit plan(s) loaded"
