"""The board's rows (pure): breached, at-risk, unassigned, then the others; engineers with
the roster's zone, shift and leave, the least loaded first; the board's strings in both
languages, every key its templates use."""
from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from aftersales.contracts.common import SLA_STAGES
from services.console import i18n, i18n_board
from services.console.domain import board as b
from services.dispatch.responses import JobStatus

BOARD = {
    "branch": "SH", "at": "2026-12-04T08:00:00Z",
    "jobs": [
        {"ticket_no": "SH-4", "branch": "SH", "status": "accepted", "priority": "C",
         "category": "fault", "engineer_id": "SH-E001", "escalated_to": None,
         "parts_expected_at": None, "next_deadline": {"due_at": "2026-12-04T09:00:00Z"}},
        {"ticket_no": "SH-3", "branch": "SH", "status": "escalated", "priority": "B",
         "category": "fault", "engineer_id": None, "escalated_to": "SH-S001",
         "parts_expected_at": None, "next_deadline": {"due_at": "2026-12-04T12:00:00Z"}},
        {"ticket_no": "SH-2", "branch": "SH", "status": "assigned", "priority": "A",
         "category": "emergency_repair", "engineer_id": "SH-E002", "escalated_to": None,
         "parts_expected_at": None, "next_deadline": {"due_at": "2026-12-04T10:00:00Z"}},
        {"ticket_no": "SH-1", "branch": "SH", "status": "on_site", "priority": "A",
         "category": "fault", "engineer_id": "SH-E001", "escalated_to": None,
         "parts_expected_at": None, "next_deadline": None},
    ],
    "attention": [
        {"ticket_no": "SH-2", "stage": "arrival", "priority": "A", "state": "at_risk"},
        {"ticket_no": "SH-1", "stage": "response", "priority": "A", "state": "at_risk"},
        {"ticket_no": "SH-1", "stage": "resolution", "priority": "A", "state": "overdue"},
    ],
    "engineers": [
        {"engineer_id": "SH-E001", "name": "李强", "branch": "SH", "active": True,
         "on_leave": False, "on_shift": True, "open_jobs": 2, "max_jobs": 4,
         "on_site_at": "SH-1", "en_route_to": None},
        {"engineer_id": "SH-E002", "name": "王磊", "branch": "SH", "active": True,
         "on_leave": True, "on_shift": True, "open_jobs": 1, "max_jobs": 4},
        {"engineer_id": "SH-E003", "name": "陈晨", "branch": "SH", "active": True,
         "on_leave": False, "on_shift": True, "open_jobs": 0, "max_jobs": 3},
        {"engineer_id": "SH-E009", "name": "离职", "branch": "SH", "active": False,
         "on_leave": False, "on_shift": False, "open_jobs": 0, "max_jobs": 3},
    ],
}
ROSTER = {"engineers": [
    {"engineer_id": "SH-E001", "zone": "宝山", "skills": ["steel"],
     "shift": {"mon": [["08:30", "17:30"]], "tue": [["08:30", "12:00"], ["13:00", "17:30"]]},
     "leave": []},
    {"engineer_id": "SH-E002", "zone": "浦东", "skills": [], "shift": None,
     "leave": [["2026-12-04T00:00:00Z", "2026-12-06T00:00:00Z"]]},
]}


def test_breached_then_at_risk_then_unassigned_jobs_come_first():
    rows = b.job_rows(BOARD)
    assert [(r.ticket_no, r.group) for r in rows] == [
        ("SH-1", "breached"), ("SH-2", "at_risk"), ("SH-3", "unassigned"), ("SH-4", "other")]
    assert rows[0].stages == ("response", "resolution")
    assert rows[2].escalated_to == "SH-S001" and rows[2].unassigned


def test_engineers_carry_the_rosters_zone_shift_and_leave_least_loaded_first():
    rows = b.engineer_rows(BOARD, ROSTER)
    assert [r.engineer_id for r in rows] == ["SH-E003", "SH-E001", "SH-E002"]  # on leave last
    e1 = rows[1]
    assert e1.zone == "宝山" and e1.shift == ("mon 08:30–17:30", "tue 08:30–12:00, 13:00–17:30")
    assert e1.on_site_at == "SH-1" and e1.load_percent == 50 and not e1.full
    e2 = rows[2]
    assert e2.on_leave and e2.shift == () and e2.leave == (("2026-12-04T00:00:00Z",
                                                             "2026-12-06T00:00:00Z"),)
    assert b.engineer_rows(BOARD, None)[0].zone is None       # without the roster


def test_the_latest_decision_is_the_last_assignment():
    assert b.latest_decision(None) is None and b.latest_decision({"assignments": []}) is None
    assert b.latest_decision({"assignments": [{"reason": "a"}, {"reason": "b"}]}) == \
        {"reason": "b"}


def test_the_boards_strings_are_in_both_languages_and_cover_its_templates():
    zh, en = i18n_board.STRINGS["zh"], i18n_board.STRINGS["en"]
    assert set(zh) == set(en) and all(k.startswith("board.") for k in zh)
    assert set(zh) <= set(i18n.CATALOGUE["zh"]) and set(en) <= set(i18n.CATALOGUE["en"])
    used = set()
    for tpl in (Path(__file__).resolve().parents[1] / "templates" / "board").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+\.[a-z_]+)'", tpl.read_text(encoding="utf-8")))
    used = {k for k in used if not k.endswith("_")}       # t('board.st_' ~ status): below
    used |= {f"board.group_{g}" for g in ("breached", "at_risk", "unassigned", "other")}
    used |= {f"board.st_{s}" for s in i18n_board.JOB_STATES}
    used |= {f"board.stage_{s}" for s in i18n_board.STAGES}
    assert used <= set(i18n.CATALOGUE["en"]), used - set(i18n.CATALOGUE["en"])
    # the states and stages named are dispatch's own (its API's vocabulary)
    assert i18n_board.JOB_STATES == get_args(JobStatus) and i18n_board.STAGES == SLA_STAGES
