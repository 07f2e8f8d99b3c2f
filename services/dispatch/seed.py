"""Reference data for dispatch: the branches' roster (engineers and supervisors)."""
from __future__ import annotations

import csv
from pathlib import Path

from aftersales.config import reference_dir

from .adapters.repository import EngineerRepository
from .domain.model import ENGINEER, SUPERVISOR, Engineer

TRUE = ("1", "true", "yes", "y")


def load_engineers_csv(path: Path):
    """Yield (line, Engineer | None, error) for every row of a roster CSV. ``skills`` are
    separated by ``;``."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                role = (row.get("role") or ENGINEER).strip()
                if role not in (ENGINEER, SUPERVISOR):
                    raise ValueError(f"role must be {ENGINEER} or {SUPERVISOR}, not {role!r}")
                max_jobs = int(row.get("max_jobs") or 0)
                if max_jobs < 0:
                    raise ValueError("max_jobs must not be negative")
                yield line, Engineer(
                    engineer_id=row["engineer_id"].strip(), name=row["name"].strip(),
                    branch=row["branch"].strip(), role=role,
                    skills=tuple(s.strip() for s in (row.get("skills") or "").split(";") if s.strip()),
                    active=(row.get("active") or "true").strip().lower() in TRUE,
                    max_jobs=max_jobs), None
            except (KeyError, ValueError, AttributeError) as exc:
                yield line, None, str(exc)


def seed(session, only_if_empty: bool = False) -> str:
    repo = EngineerRepository(session)
    if only_if_empty and repo.count():
        return "roster already loaded"
    n, bad = 0, []
    for line, engineer, err in load_engineers_csv(reference_dir() / "engineers.csv"):
        if engineer:
            repo.upsert(engineer)
            n += 1
        else:
            bad.append(f"line {line}: {err}")
    return f"{n} engineers and supervisors loaded" + (f"; skipped {'; '.join(bad)}" if bad else "")
