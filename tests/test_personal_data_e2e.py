"""Issue #13: personal data never reaches a log line or a parked message's headers in full,
even when the database fails with the customer's data in its statement (the services as real
processes, their real log files, the real parking queue)."""
from __future__ import annotations

import sqlite3

import pytest

from aftersales.messaging.parking import ParkingLot
from tests.support.broker import publish_request, wait_parked
from tests.support.data import repair_request
from tests.support.processes import System

pytestmark = pytest.mark.e2e

NAME, PHONE, EMAIL = "张三丰", "13987654321", "zhang.sanfeng@example.com"


def _with_customer(**extra) -> dict:
    body = repair_request(**extra)
    body["customer"] = {"name": NAME, "contact_name": NAME, "phone": PHONE, "email": EMAIL}
    return body


@pytest.fixture
def system(clean_broker, tmp_path):
    sys_ = System(clean_broker, tmp_path).start()
    yield sys_
    sys_.close()


def test_logs_and_parked_messages_never_carry_a_customers_name_phone_or_email(system, watcher,
                                                                               tmp_path):
    failing = _with_customer()
    # the database refuses this one request's INSERT: its error text names the statement
    with sqlite3.connect(tmp_path / "intake.db") as db:
        db.execute(f"CREATE TRIGGER refuse_one BEFORE INSERT ON tickets "
                   f"WHEN NEW.request_id = '{failing['request_id']}' "
                   f"BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
    ok, invalid = _with_customer(), _with_customer(channel="fax")
    for body in (ok, invalid, failing):
        publish_request(system.env["AMQP_URI"], body)
    [opened] = watcher.of_type("ticket_opened", request_id=ok["request_id"])
    watcher.of_type("request_rejected", request_id=invalid["request_id"])
    watcher.wait_for(lambda e: e.get("type") in ("engineer_assigned", "assignment_failed")
                     and e.get("ticket_no") == opened["ticket_no"])
    lot = ParkingLot(system.env["AMQP_URI"], "intake")
    parked = wait_parked(lot, 2, timeout=30)
    reasons = " ".join(p.reason for p in parked)
    assert "gave up after" in reasons and "refused by a test trigger" in reasons

    assert set(system.terminate().values()) == {0}
    texts = {f"log of {name}": (f.seek(0), f.read())[1] for name, f in system.logs.items()}
    texts.update({f"parked {p.parked_id} headers": repr(p.headers) for p in parked})
    assert "refused by a test trigger" in texts["log of intake"]     # the failure was logged
    for where, text in texts.items():
        for value in (NAME, PHONE, EMAIL):
            assert value not in text, f"{value} in full in the {where}"
