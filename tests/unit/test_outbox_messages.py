"""``UnitOfWork.publish_message``: a non-enveloped message (a phone-center request) goes
through the same outbox, validated, once per message id, in the caller's transaction."""
import json

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aftersales.db import make_engine, session_factory
from aftersales.outbox import UnitOfWork, outbox, reliability_metadata
from tests.support.data import repair_request


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    reliability_metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


def rows(sessions):
    with sessions() as s:
        return s.execute(select(outbox.c.event_id, outbox.c.exchange, outbox.c.routing_key,
                                outbox.c.body)).all()


def test_a_request_is_queued_on_the_phone_center_exchange_and_wakes_the_relay(sessions):
    woken = []
    uow = UnitOfWork(sessions, "feedback", on_commit=lambda: woken.append(1))
    body = repair_request(source="return_visit", request_id="RV-REQ-1")
    with uow:
        uow.publish_message("phone_center.events", "repair_requested", body,
                            message_id="0b7e7d52-7b7c-5d0e-9d43-6a0a5cb3f001")
        uow.commit()
    [row] = rows(sessions)
    assert (row.exchange, row.routing_key) == ("phone_center.events", "repair_requested")
    sent = json.loads(row.body)
    assert sent["request_id"] == "RV-REQ-1" and sent["customer"]["contact_name"] == "张伟"
    assert "event_id" not in sent and woken == [1]


def test_an_invalid_request_or_another_services_exchange_is_refused(sessions):
    uow = UnitOfWork(sessions, "feedback")
    with uow:
        with pytest.raises(ValidationError):
            uow.publish_message("phone_center.events", "repair_requested",
                                repair_request(channel="fax"), message_id="m1")
        with pytest.raises(ValueError, match="may not publish"):
            uow.publish_message("dispatch.events", "job_closed", {}, message_id="m2")
    assert rows(sessions) == []


def test_the_same_message_id_twice_fails_the_transaction(sessions):
    uow = UnitOfWork(sessions, "feedback")
    body = repair_request(source="return_visit")
    with uow:
        uow.publish_message("phone_center.events", "repair_requested", body, message_id="same")
        with pytest.raises(IntegrityError):
            uow.publish_message("phone_center.events", "repair_requested", body, message_id="same")
            uow.commit()
    assert rows(sessions) == []
