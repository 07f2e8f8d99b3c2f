"""Ledger invariants under hypothesis: whatever happens — receipts, requests served locally,
by transfer or by backorder, shipments, jobs using more or fewer parts than were reserved,
returns of unused parts, cancellations, write-offs, stocktakes, QC restocks —

- on hand is never negative and is the sum of the movements' quantities;
- reserved never exceeds on hand (and issued never exceeds reserved);
- every reserved unit belongs to a live parts request;
- no unit appears or vanishes: stock + in transit = in − out.

Two layers: the pure domain composed as the service composes it (many examples, fast), and
the real use cases and repositories on a SQLite database (fewer examples)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timezone

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from services.parts.domain import model
from services.parts.domain import requests as rq
from services.parts.domain.model import Hold, Line, StockError, StockPosition, movement

T0 = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
BRANCHES = {"SH": {"neighbours": ["HZ", "BJ"]}, "HZ": {"neighbours": ["SH"]},
            "BJ": {"neighbours": ["SH"]}}
WAREHOUSES = st.sampled_from(sorted(BRANCHES))
SKUS = st.sampled_from(["A", "B", "C"])
QTY = st.integers(1, 6)


class LedgerMachine(RuleBasedStateMachine):
    """The service's flows, built only from the domain's functions."""

    requests = Bundle("requests")

    def __init__(self):
        super().__init__()
        self.entries: list[model.LedgerEntry] = []
        self.pos: dict[tuple[str, str], StockPosition] = {}
        self.status: dict[str, str] = {}
        self.branch: dict[str, str] = {}
        self.transfers: list[rq.Transfer] = []
        self.backorders: list[tuple[str, str, str, int]] = []   # (request, warehouse, sku, n)
        self.inflow = 0       # receipts, returns, positive adjustments
        self.outflow = 0      # consumption, scrap, negative adjustments

    # -- plumbing --------------------------------------------------------------------------
    def post(self, e: model.LedgerEntry) -> None:
        key = (e.warehouse, e.sku)
        self.pos[key] = self.pos.get(key, StockPosition()).apply(e)   # must never raise here
        self.entries.append(e)
        if e.kind in (model.RECEIVE, model.RETURN) or (e.kind == model.ADJUST and e.quantity > 0):
            self.inflow += abs(e.quantity)
        if e.kind in (model.CONSUME, model.SCRAP) or (e.kind == model.ADJUST and e.quantity < 0):
            self.outflow += abs(e.quantity)

    def try_post(self, e: model.LedgerEntry) -> bool:
        try:
            self.pos.get((e.warehouse, e.sku), StockPosition()).apply(e)
        except StockError:
            return False
        self.post(e)
        return True

    def available(self, warehouse, skus):
        return {s: self.pos.get((warehouse, s), StockPosition()).available for s in skus}

    def holds(self, rid) -> list[Hold]:
        r, i = defaultdict(int), defaultdict(int)
        for e in self.entries:
            if e.request_id == rid:
                r[e.sku] += e.reserved
                i[e.sku] += e.issued
        return [Hold(rid, s, shelf=r[s] - i[s], issued=i[s]) for s in sorted(r) if r[s]]

    def release(self, rid, holds):
        w = self.branch[rid]
        for h in holds:
            if h.issued:
                self.post(movement("release", w, h.sku, h.issued, T0, issued=True, request_id=rid))
            if h.shelf:
                self.post(movement("release", w, h.sku, h.shelf, T0, request_id=rid))

    # -- rules -----------------------------------------------------------------------------
    @rule(w=WAREHOUSES, sku=SKUS, n=st.integers(1, 10))
    def receive(self, w, sku, n):
        self.post(movement("receive", w, sku, n, T0))

    @rule(target=requests, w=WAREHOUSES,
          wanted=st.dictionaries(SKUS, QTY, min_size=1, max_size=3))
    def request(self, w, wanted):
        rid = f"PR-{uuid.uuid4().hex[:6]}"
        self.status[rid], self.branch[rid] = rq.OPEN, w
        others = [(o, self.available(o, wanted)) for o in rq.nearest_branches(BRANCHES, w)]
        plan = rq.plan_allocation(wanted, self.available(w, wanted), others)
        for line in plan.reserve:
            self.post(movement("reserve", w, line.sku, line.quantity, T0, request_id=rid))
        for source, lines in plan.transfers:
            t = rq.Transfer(f"TR-{uuid.uuid4().hex[:6]}", source, w, lines, T0, T0, rid)
            for line in lines:
                self.post(movement("transfer_out", source, line.sku, line.quantity, T0,
                                   request_id=rid, ref=t.transfer_id))
            self.transfers.append(t)
        for line in plan.backorders:
            self.backorders.append((rid, w, line.sku, line.quantity))
        served = sum(l.quantity for l in plan.reserve) + sum(
            l.quantity for _, ls in plan.transfers for l in ls) + sum(
            l.quantity for l in plan.backorders)
        assert served == sum(wanted.values())
        return rid

    def _arrive(self, rid, w, lines):
        if self.status.get(rid) in rq.ACTIVE:
            for line in lines:
                self.post(movement("reserve", w, line.sku, line.quantity, T0, request_id=rid))

    @precondition(lambda self: self.transfers)
    @rule(i=st.integers(0, 100))
    def receive_transfer(self, i):
        t = self.transfers.pop(i % len(self.transfers))
        for line in t.lines:
            self.post(movement("transfer_in", t.to_warehouse, line.sku, line.quantity, T0,
                               request_id=t.request_id, ref=t.transfer_id))
        self._arrive(t.request_id, t.to_warehouse, t.lines)

    @precondition(lambda self: self.backorders)
    @rule(i=st.integers(0, 100))
    def receive_backorder(self, i):
        rid, w, sku, n = self.backorders.pop(i % len(self.backorders))
        self.post(movement("receive", w, sku, n, T0, request_id=rid))
        self._arrive(rid, w, [Line(sku, n)])

    @rule(rid=requests)
    def ship(self, rid):
        if self.status[rid] not in rq.ACTIVE:
            return
        for h in self.holds(rid):
            if h.shelf:
                self.post(movement("ship", self.branch[rid], h.sku, h.shelf, T0, request_id=rid))
        self.status[rid] = rq.SHIPPED

    @rule(rid=requests, used=st.lists(st.tuples(SKUS, QTY), max_size=3))
    def complete_job(self, rid, used):
        w = self.branch[rid]
        active = self.status[rid] in rq.ACTIVE
        holds = self.holds(rid) if active else []
        lines = [Line(s, n) for s, n in used]
        plan = model.plan_job_consumption(lines, holds, self.available(w, {s for s, _ in used}))
        consumed = sum(t.quantity for t in plan.takes)
        assert consumed + sum(s.quantity for s in plan.shortages) == sum(n for _, n in used)
        for e in plan.entries(w, T0, "T"):
            self.post(e)
        if active:
            shelf = [Hold(h.request_id, h.sku, shelf=h.shelf) for h in plan.leftovers if h.shelf]
            self.release(rid, shelf)
            out = any(h.issued for h in plan.leftovers)
            self.status[rid] = rq.COMPLETED if out else rq.CLOSED

    @rule(rid=requests)
    def return_unused(self, rid):
        if self.status[rid] == rq.COMPLETED:
            self.release(rid, self.holds(rid))
            self.status[rid] = rq.CLOSED

    @rule(rid=requests)
    def cancel(self, rid):
        if self.status[rid] == rq.OPEN:
            self.release(rid, self.holds(rid))
            self.status[rid] = rq.CANCELLED

    @rule(w=WAREHOUSES, sku=SKUS, n=QTY)
    def scrap(self, w, sku, n):
        self.try_post(movement("scrap", w, sku, n, T0))

    @rule(w=WAREHOUSES, sku=SKUS, counted=st.integers(0, 15))
    def count(self, w, sku, counted):
        try:
            delta = model.stocktake(self.pos.get((w, sku), StockPosition()), counted)
        except StockError:
            return
        if delta:
            self.post(movement("adjust", w, sku, delta, T0))

    @rule(w=WAREHOUSES, sku=SKUS)
    def qc_restock(self, w, sku):
        self.post(movement("return", w, sku, 1, T0))

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def stock_figures_hold(self):
        recomputed = model.positions(self.entries)          # checks every step again
        assert recomputed == {k: v for k, v in self.pos.items()}
        sums = model.on_hand(self.entries)
        for key, p in self.pos.items():
            assert p.on_hand >= 0
            assert 0 <= p.issued <= p.reserved <= p.on_hand
            assert sums[key] == p.on_hand                  # movements sum to on hand

    @invariant()
    def every_reservation_belongs_to_a_live_request(self):
        held = defaultdict(int)
        for rid in self.status:
            for h in self.holds(rid):
                assert h.shelf >= 0 and h.issued >= 0
                assert self.status[rid] in rq.ACTIVE + (rq.COMPLETED,)
                held[(self.branch[rid], h.sku)] += h.total
        for key, p in self.pos.items():
            assert held.get(key, 0) == p.reserved

    @invariant()
    def nothing_appears_or_vanishes(self):
        in_transit = sum(l.quantity for t in self.transfers for l in t.lines)
        on_hand = sum(p.on_hand for p in self.pos.values())
        assert on_hand + in_transit == self.inflow - self.outflow


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
