"""The ledger invariants through the real use cases, repositories and SQL sums (SQLite):
hypothesis draws sequences of warehouse movements, parts requests (auto-approved or
approved by a manager, served locally, by transfer or by backorder), shipments, job
completions, returns of unused parts, cancellations, transfer and backorder receipts and QC
restocks, and after every step the database must satisfy them (stock_balances equal to the
ledger's GROUP BY among them)."""
from __future__ import annotations

import tempfile
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings, strategies as st
from sqlalchemy import func, select

from aftersales.auth import Principal
from aftersales.db import make_engine, session_factory
from aftersales.errors import Conflict
from aftersales.outbox import make_envelope, outbox, reliability_metadata
from services.parts.adapters.orm import metadata, stock_balances, stock_ledger
from services.parts.adapters.repository import CatalogueRepository, PartsUnitOfWork
from services.parts.bootstrap import bus_for
from services.parts.domain import model
from services.parts.domain import requests as rq
from services.parts.domain.model import Part
from services.parts.service_layer import commands as cmd, warranty
from services.parts.service_layer.common import Settings

BRANCHES = {"SH": {"neighbours": ["HZ", "BJ"], "timezone": "Asia/Shanghai"},
            "HZ": {"neighbours": ["SH"], "timezone": "Asia/Shanghai"},
            "BJ": {"neighbours": ["SH"], "timezone": "Asia/Shanghai"}}
SETTINGS = Settings(BRANCHES, auto_approve_limit=Decimal("500"), transfer_days=1)
PARTS = [Part("A", "檩条", "米", Decimal("38.50"), Decimal("56"), reorder_point=3),
         Part("B", "断路器", "个", Decimal("68"), Decimal("115"), lead_time_days=7, reorder_point=1),
         Part("C", "滤芯", "个", Decimal("210"), Decimal("320"), lead_time_days=21)]
EVER = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
W = st.sampled_from(sorted(BRANCHES))
SKU = st.sampled_from([p.sku for p in PARTS])
N = st.integers(1, 5)
I = st.integers(0, 50)

REQUEST = st.tuples(st.just("request"), W, st.dictionaries(SKU, N, min_size=1, max_size=3),
                    st.booleans())
FLOW = st.one_of(st.tuples(st.just("ship"), I), st.tuples(st.just("deliver"), I),
                 st.tuples(st.just("job"), I, st.lists(st.tuples(SKU, N), max_size=3)))
OPS = st.one_of(
    REQUEST, REQUEST, FLOW, FLOW, FLOW,
    st.tuples(st.just("receive"), W, SKU, st.integers(1, 8)),
    st.tuples(st.just("scrap"), W, SKU, N),
    st.tuples(st.just("count"), W, SKU, st.integers(0, 10)),
    st.tuples(st.just("request"), W, st.dictionaries(SKU, N, min_size=1, max_size=3), st.booleans()),
    st.tuples(st.just("ship"), I), st.tuples(st.just("deliver"), I),
    st.tuples(st.just("job"), I, st.lists(st.tuples(SKU, N), max_size=3)),
    st.tuples(st.just("return_unused"), I), st.tuples(st.just("cancel"), I),
    st.tuples(st.just("transfer"), I), st.tuples(st.just("backorder"), I),
    st.tuples(st.just("rma"), W, SKU),
)


def principal(branch, role, engineer_id=None):
    return Principal(key_id=uuid.uuid4().hex[:6], branch=branch, role=role,
                     engineer_id=engineer_id)


def check_invariants(sessions):
    uow = PartsUnitOfWork(sessions, "parts")
    with uow:
        entries = [e for w in sorted(BRANCHES) for e in uow.ledger.between(w, EVER[0], EVER[1])]
        sums = uow.ledger.all_positions()
        # the balances are the ledger's GROUP BY, row for row
        c, b = stock_ledger.c, stock_balances.c
        grouped = uow.session.execute(
            select(c.warehouse, c.sku, func.sum(c.quantity), func.sum(c.reserved),
                   func.sum(c.issued)).group_by(c.warehouse, c.sku)).all()
        balances = uow.session.execute(
            select(b.warehouse, b.sku, b.on_hand, b.reserved, b.issued)).all()
        assert sorted(map(tuple, balances)) == sorted(map(tuple, grouped))
        recomputed = model.positions(entries)          # raises if any prefix broke them
        assert recomputed == {k: v for k, v in sums.items()}
        for p in sums.values():
            assert 0 <= p.issued <= p.reserved <= p.on_hand
        live = [r for r in uow.requests.search(None, None, None, 10_000)
                if r.status in rq.ACTIVE + (rq.COMPLETED,)]
        held = defaultdict(int)
        for h in uow.ledger.holds([r.request_id for r in live]):
            held[(next(r.branch for r in live if r.request_id == h.request_id), h.sku)] += h.total
        for key, p in sums.items():
            assert held.get(key, 0) == p.reserved, key
        # reorder flags agree with the stock they were last checked against
        points = {p.sku: p.reorder_point for p in PARTS}
        for (w, sku), p in sums.items():
            state = uow.reorder.get(w, sku, points[sku])
            if state.reorder_point is not None:
                assert state.below == (p.available <= state.reorder_point), (w, sku)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.tuples(W, SKU), st.integers(1, 8), min_size=3), st.lists(OPS, min_size=8, max_size=40))
def test_invariants_hold_through_the_use_cases(opening, ops):
    tmp = tempfile.TemporaryDirectory()
    engine = make_engine(f"sqlite:///{tmp.name}/parts.db")
    reliability_metadata.create_all(engine)
    metadata.create_all(engine)
    sessions = session_factory(engine)
    with sessions() as s:
        for p in PARTS:
            CatalogueRepository(s).upsert(p)
        s.commit()

    bus = bus_for(sessions, SETTINGS)

    requests, transfers, backorders = [], [], []
    try:
        for (w, sku), n in sorted(opening.items()):
            bus.handle(cmd.RecordMovement(principal(w, "warehouse"), w, "receive", sku, n))
        for op in ops:
            kind = op[0]
            try:
                if kind in ("receive", "scrap"):
                    bus.handle(cmd.RecordMovement(principal(op[1], "warehouse"), op[1], kind,
                                                  op[2], quantity=op[3]))
                elif kind == "count":
                    bus.handle(cmd.RecordMovement(principal(op[1], "warehouse"), op[1],
                                                  "stocktake", op[2], counted=op[3]))
                elif kind == "request":
                    ticket = f"{op[1]}-20261122-{len(requests):04d}"
                    with bus.uow() as u:   # intake's warranty decision for the ticket
                        warranty.record_dispatch_decision(u, ticket, op[1], op[3])
                        u.commit()
                    out = bus.handle(cmd.RequestParts(principal(op[1], "engineer", "E-1"),
                                                      ticket, op[1], tuple(op[2].items())))
                    view = out.view
                    if view["status"] == rq.PENDING:
                        view = bus.handle(cmd.ApproveRequest(principal(op[1], "manager"),
                                                             view["request_id"])).view
                    requests.append(view)
                    transfers += [t["transfer_id"] for t in view["transfers"]]
                    backorders += [b["backorder_id"] for b in view["backorders"]]
                elif kind in ("ship", "deliver", "return_unused", "cancel") and requests:
                    r = requests[op[1] % len(requests)]
                    p = principal(r["branch"], "manager")
                    if kind == "ship":
                        bus.handle(cmd.ShipRequest(p, r["request_id"]))
                    elif kind == "deliver":
                        bus.handle(cmd.DeliverRequest(p, r["request_id"]))
                    elif kind == "return_unused":
                        bus.handle(cmd.ReturnUnused(p, r["request_id"]))
                    else:
                        bus.handle(cmd.CancelRequest(p, r["request_id"], "不需要了"))
                elif kind == "job" and requests:
                    r = requests[op[1] % len(requests)]
                    env = make_envelope("dispatch", "job_completed", {
                        "ticket_no": r["ticket_no"], "engineer_id": "E-1",
                        "completed_at": "2026-11-23T16:05:00+08:00", "summary": "完工",
                        "parts_used": [{"sku": s, "quantity": n} for s, n in op[2]]},
                        ticket_no=r["ticket_no"], branch=r["branch"])
                    bus.handle_event(env)
                elif kind == "transfer" and transfers:
                    tid = transfers.pop(op[1] % len(transfers))
                    bus.handle(cmd.ReceiveTransfer(principal("HQ", "warehouse"), tid))
                elif kind == "backorder" and backorders:
                    bid = backorders.pop(op[1] % len(backorders))
                    try:
                        bus.handle(cmd.ReceiveBackorder(principal("HQ", "warehouse"), bid))
                    except Conflict:
                        pass      # cancelled with its request
                elif kind == "rma":
                    ret = bus.handle(cmd.OpenReturn(principal(op[1], "engineer", "E-1"), op[1],
                                                    op[2], None, "GGD-2", "烧蚀", None))
                    bus.handle(cmd.InspectReturn(principal("HQ", "qc"), ret["return_id"],
                                                 "repaired_and_restocked", None))
            except Conflict:
                pass       # refused (nothing to ship, not available, wrong state): no effect
            check_invariants(sessions)
        with sessions() as s:          # every published event went into the outbox, validated
            types = {row.routing_key for row in s.execute(outbox.select())}
        for t in sorted(types):
            event(f"published {t}")          # see --hypothesis-show-statistics
        assert types <= {"parts_request_approved", "parts_request_rejected", "parts_reserved",
                         "parts_transfer_started", "parts_backordered", "parts_shipped",
                         "parts_delivered", "parts_consumed", "reorder_needed",
                         "part_return_received", "part_return_inspected"}
    finally:
        engine.dispose()
        tmp.cleanup()
