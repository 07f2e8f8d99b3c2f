"""Live updates without a broker: an envelope as a server-sent event (type, ticket, branch;
nothing of its data), the branch filter (a branch its own events, HQ all or the one asked
for), the hub's fan-out, and the stream's heartbeat, its end and its cleanup."""
from __future__ import annotations

import json
import threading

from services.console.domain import live
from services.console.service_layer.live import BACKLOG, Hub, stream

ENVELOPE = {"event_id": "0b9c5d1e-8a4e-4f0e-9a53-0d7e1f3b2a11", "type": "ticket_opened",
            "version": 1, "occurred_at": "2026-12-04T08:00:00+00:00", "source": "intake",
            "ticket_no": "SH-20261204-0001", "branch": "SH",
            "data": {"customer": {"name": "上海宝钢钢构有限公司", "phone": "13800000000"}}}


def _parse(block: str) -> dict:
    fields = dict(line.split(": ", 1) for line in block.strip().splitlines())
    return {"event": fields["event"], "data": json.loads(fields["data"])}


def test_an_envelope_becomes_one_event_without_its_data():
    ev = live.from_envelope(ENVELOPE)
    text = live.sse(ev)
    assert text.endswith("\n\n") and text.count("\n") == 3
    msg = _parse(text)
    assert msg == {"event": "ticket_opened",
                   "data": {"type": "ticket_opened", "ticket_no": "SH-20261204-0001",
                            "branch": "SH", "occurred_at": "2026-12-04T08:00:00+00:00"}}
    assert "13800000000" not in text and "宝钢" not in text


def test_what_is_not_an_event_is_dropped_and_fields_stay_on_one_line():
    assert live.from_envelope("not a dict") is None
    assert live.from_envelope({**ENVELOPE, "branch": None}) is None
    assert live.from_envelope({**ENVELOPE, "type": ""}) is None
    assert live.from_envelope({**ENVELOPE, "type": "x\n\ndata: forged"}) is None
    ev = live.from_envelope({**ENVELOPE, "ticket_no": "SH-1\nevent: x"})
    assert ev.ticket_no is None and live.sse(ev).count("\n") == 3


def test_a_branch_sees_its_own_events_and_hq_all_or_the_one_it_asks_for():
    sh = live.from_envelope(ENVELOPE)
    hz = live.from_envelope({**ENVELOPE, "branch": "HZ"})
    assert live.scope("SH") == "SH" and live.scope("SH", "HZ") == "SH"   # no asking for more
    assert live.scope("HQ") == "HQ" and live.scope("HQ", "hz") == "HZ"
    assert live.scope("HQ", "x<y") == "HQ"
    assert live.visible(sh, "SH") and not live.visible(hz, "SH")
    assert live.visible(sh, "HQ") and live.visible(hz, "HQ")
    assert not live.visible(sh, live.scope("HQ", "HZ"))


def test_the_hub_fans_out_by_branch():
    hub = Hub()
    sh, hz, hq = hub.subscribe("SH"), hub.subscribe("HZ"), hub.subscribe("HQ")
    assert hub.publish(live.from_envelope(ENVELOPE)) == 2
    assert sh.next(0.1).ticket_no == "SH-20261204-0001"
    assert hq.next(0.1).branch == "SH"
    assert hz.next(0.01) is None


def test_the_stream_says_hello_beats_and_passes_events_on():
    hub = Hub()
    body = stream(hub, "SH", heartbeat=0.01)
    assert next(body).startswith(b"retry: ")
    assert next(body) == b": heartbeat\n\n"
    hub.publish(live.from_envelope({**ENVELOPE, "branch": "HZ"}))    # not for SH
    hub.publish(live.from_envelope(ENVELOPE))
    assert next(body).startswith(b"event: ticket_opened\n")
    body.close()                                   # the client went away
    assert hub.subscribers() == 0


def test_the_stream_ends_when_the_process_stops_or_the_session_expires():
    hub = Hub()
    body = stream(hub, "HQ", heartbeat=5)
    next(body)
    done = []
    t = threading.Thread(target=lambda: done.append(list(body)))
    t.start()
    hub.close()
    t.join(2)
    assert done == [[]] and hub.subscribers() == 0
    now = [100.0]
    expiring = stream(Hub(), "SH", until=100.5, heartbeat=5, clock=lambda: now[0])
    next(expiring)
    now[0] = 101.0
    assert list(expiring) == []


def test_a_stream_that_falls_too_far_behind_is_ended():
    hub = Hub()
    body = stream(hub, "SH", heartbeat=0.01)
    next(body)
    for _ in range(BACKLOG + 1):
        hub.publish(live.from_envelope(ENVELOPE))
    assert hub.subscribers() == 0
    assert len(list(body)) == BACKLOG          # what it had, then the end
