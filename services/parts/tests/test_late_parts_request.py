"""The events of a ticket are not ordered across instances: a ``parts_requested`` handled
after the ticket's ``job_completed`` (late, or redelivered) reserves nothing for the finished
job; it is recorded as rejected and answered with ``parts_request_rejected``. In the usual
order the request is served (SQLite and PostgreSQL, the real use cases and repositories)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from aftersales.outbox import outbox
from services.parts.bootstrap import bus_for
from services.parts.domain import requests as rq
from services.parts.service_layer.common import Settings
from tests.support.fixtures import migrated_database

from .support import job_completed, parts_requested

pytestmark = pytest.mark.integration
SETTINGS = Settings({"SH": {"neighbours": [], "timezone": "Asia/Shanghai"}},
                    auto_approve_limit=Decimal("5000"), transfer_days=1)


@pytest.fixture
def bus(database_urls):
    with migrated_database(database_urls["parts"], "parts", seed=True) as (_engine, factory):
        yield bus_for(factory, settings=SETTINGS), factory


def published(factory, ticket_no) -> list[str]:
    """The events parts published about ``ticket_no`` (a fresh database per test)."""
    with factory() as s:
        return [r.routing_key for r in s.execute(select(outbox).order_by(outbox.c.id))
                if ticket_no in str(r.body)]


def test_a_request_after_the_job_completed_reserves_nothing(bus):
    b, factory = bus
    sku = "GJ-LS-M20"
    b.handle_event(job_completed("SH-20261202-0901", []))
    late = parts_requested("SH-20261202-0901", [(sku, 1)])
    out = b.handle_event(late)
    assert out.view["status"] == rq.REJECTED
    assert "already completed" in str(out.view)
    assert published(factory, "SH-20261202-0901") == ["parts_request_rejected"]
    assert b.handle_event(late) is None          # redelivered: no second effect


def test_a_request_before_the_job_completed_is_served(bus):
    b, factory = bus
    out = b.handle_event(parts_requested("SH-20261202-0902", [("GJ-LS-M20", 1)]))
    assert out.view["status"] != rq.REJECTED
    assert "parts_request_approved" in published(factory, "SH-20261202-0902")
