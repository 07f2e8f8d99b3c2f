"""Reference data for dispatch: the branches' roster (engineers and supervisors), and the
roster CSV reader the CLI's ``roster import`` uses.

Columns: ``engineer_id, name, branch, role, skills, active, max_jobs`` and optionally
``zone, shift, leave`` (formats in ``domain/roster.py``)."""
from __future__ import annotations

import csv
from pathlib import Path

from aftersales.config import reference_dir
from aftersales.reference import branches

from .adapters.repository import EngineerRepository
from .domain.policy import shift_calendar
from .domain.roster import ENGINEER, SUPERVISOR, Engineer, parse_leave, parse_shift, parse_skills

TRUE = ("1", "true", "yes", "y")
FALSE = ("0", "false", "no", "n")
REQUIRED = ("engineer_id", "name", "branch")
MAX_JOBS = 100          # concurrent open jobs of one person (a database integer)


def engineer_from_row(row: dict, known_branches=None) -> Engineer:
    """One roster row → Engineer, or ValueError naming the problem."""
    for col in REQUIRED:
        if not (row.get(col) or "").strip():
            raise ValueError(f"{col} is required")
    branch = row["branch"].strip()
    known = known_branches if known_branches is not None else branches()
    if known and branch not in known:
        raise ValueError(f"unknown branch {branch!r}")
    role = (row.get("role") or ENGINEER).strip()
    if role not in (ENGINEER, SUPERVISOR):
        raise ValueError(f"role must be {ENGINEER} or {SUPERVISOR}, not {role!r}")
    raw_max = (row.get("max_jobs") or "0").strip()
    try:
        max_jobs = int(raw_max)
    except ValueError:
        raise ValueError(f"max_jobs must be a whole number, not {raw_max!r}") from None
    if not 0 <= max_jobs <= MAX_JOBS:
        raise ValueError(f"max_jobs must be a whole number from 0 to {MAX_JOBS}, not {max_jobs}")
    active = (row.get("active") or "true").strip().lower()
    if active not in TRUE + FALSE:
        raise ValueError(f"active must be true or false, not {active!r}")
    tz = ((known or {}).get(branch) or {}).get("timezone") or "Asia/Shanghai"
    skills, levels = parse_skills(row.get("skills") or "")
    return Engineer(
        engineer_id=row["engineer_id"].strip(), name=row["name"].strip(), branch=branch,
        role=role, skills=skills, levels=levels, active=active in TRUE, max_jobs=max_jobs,
        zone=(row.get("zone") or "").strip() or None,
        shift=shift_calendar(parse_shift(row.get("shift") or ""), tz=tz),
        leave=parse_leave(row.get("leave") or "", tz))


def load_engineers_csv(path: Path, known_branches=None):
    """Yield (line, Engineer | None, error) for every row of a roster CSV."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                yield line, engineer_from_row(row, known_branches), None
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


def import_roster(session, path: Path, progress=None, every: int = 100) -> dict:
    """Upsert every good row of a roster CSV; report the bad ones by line. A file without the
    required columns is refused as a whole (ValueError). Duplicate ids: the first row wins."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in REQUIRED if c not in [h.strip() for h in header]]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)} "
                         f"(expected {', '.join(REQUIRED)}, role, skills, active, max_jobs, "
                         f"zone, shift, leave)")
    repo = EngineerRepository(session)
    seen, imported, bad, n = set(), 0, [], 0
    for line, engineer, err in load_engineers_csv(path):
        n += 1
        if engineer is not None and engineer.engineer_id in seen:
            engineer, err = None, f"duplicate engineer_id {engineer.engineer_id} (first row kept)"
        if engineer is None:
            bad.append({"line": line, "error": err})
        else:
            seen.add(engineer.engineer_id)
            repo.upsert(engineer)
            imported += 1
        if progress and n % every == 0:
            progress(n, imported, len(bad))
    if progress:
        progress(n, imported, len(bad))
    return {"imported": imported, "bad_rows": bad}
