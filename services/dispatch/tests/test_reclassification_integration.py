"""Intake and dispatch together over the real broker (SQLite and PostgreSQL): a consultation an
agent reclassifies into a fault gets its engineer; a training request gets one at once."""
from __future__ import annotations

import pytest

from tests.support.broker import publish_request
from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration


def test_a_consultation_reclassified_as_a_fault_is_dispatched_and_training_is_too(
        services, watcher, http):
    services.start("intake")
    services.start("dispatch")
    ask = repair_request(fault={"description": "咨询屋面防水保养周期", "category": "consultation"})
    publish_request(services.broker_uri, ask)
    [opened] = watcher.of_type("ticket_opened", request_id=ask["request_id"])
    ticket_no = opened["ticket_no"]
    assert opened["data"]["needs_visit"] is False

    train = repair_request(fault={"description": "新设备操作培训，需工程师到场讲解",
                                  "category": "training"},
                           asset={"model": "数控折弯机"})          # another asset: not linked
    publish_request(services.broker_uri, train)
    [trained] = watcher.of_type("ticket_opened", request_id=train["request_id"])
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=trained["ticket_no"])
    assert assigned["data"]["engineer_id"].startswith("SH-")

    r = http.post(services.url("intake", f"/api/v1/tickets/{ticket_no}/classification"),
                  headers=auth("SH", "agent"),
                  json={"category": "fault", "reason": "客户补充：屋面已漏水，需要上门检修"})
    assert r.status_code == 200, r.text
    [decision] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    assert decision["data"]["previous_engineer_id"] is None
    job = http.get(services.url("dispatch", f"/api/v1/jobs/{ticket_no}"),
                   headers=auth("SH", "dispatcher")).json()
    assert (job["status"], job["category"]) == ("assigned", "fault")
    assert job["received_at"] == "2026-11-22T01:30:00+00:00"     # clocks from the call itself
    assert len(job["sla"]["clocks"]) == 4
