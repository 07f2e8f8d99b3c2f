"""The throughput scenarios against the services as processes: intake alone, the full path,
paced load, the storm (with each service's RSS after it) and intake with tickets stored."""
from __future__ import annotations

import time
import uuid

from bench.common import figures, percentile, progress
from bench.loadgen import Publisher, Watcher, request
from bench.stack import Stack


def _source() -> str:
    return f"bench-{uuid.uuid4().hex[:6]}"


def burst(uri: str, n: int, assigned: bool, timeout: float, label: str) -> dict:
    """Publish ``n`` requests at once; wait for every ``ticket_opened`` (and, with
    ``assigned``, every ``engineer_assigned``). Rates from the first publish."""
    source = _source()
    w = Watcher(uri, source)
    w.start()
    w.ready.wait(30)
    pub = Publisher(uri)
    t0 = time.time()
    try:
        for i in range(n):
            pub.publish(request(source, i, source))
        published = time.time() - t0
        complete = w.wait(n, n if assigned else 0, timeout=timeout, label=label)
    finally:
        pub.close()
    w.stop()
    opened, n_assigned = w.counts()
    last_o, last_a = w.last_opened(), w.last_assigned()
    out = {"requests": n, "complete": complete, "publish_seconds": round(published, 3),
           "opened": opened, "assigned": n_assigned,
           "seconds_to_all_opened": round(last_o - t0, 3) if last_o and opened >= n else None,
           "seconds_to_all_assigned": (round(last_a - t0, 3) if last_a and n_assigned >= n
                                       else None),
           "integrity": w.integrity(pub.sent)}
    if not complete:                       # the rate so far, for a slow system
        out["seconds_waited"] = round(time.time() - t0, 3)
    span_o = (last_o - t0) if last_o else None
    span_a = (last_a - t0) if last_a else None
    out["tickets_per_s"] = round(opened / span_o, 2) if span_o else None
    out["assigned_per_s"] = round(n_assigned / span_a, 2) if (assigned and span_a) else None
    if w.error:
        out["watcher_error"] = repr(w.error)
    return out


def _repeats(node, database, services, n, repeats, assigned, timeout, label, engineers=120,
             prepare=None):
    """``repeats`` bursts one after the other on one system (fresh vhost and databases for
    the scenario; each burst has a source of its own, so its counts are its own, and the
    database grows by ``n`` tickets a burst)."""
    runs = []
    stack = Stack(node.vhost(), database, services, engineers=engineers).prepare()
    try:
        extra = prepare(stack) if prepare else {}
        stack.start()
        for k in range(repeats):
            res = burst(stack.system.env["AMQP_URI"], n, assigned, timeout, label)
            res.update(extra)
            res["alive"] = stack.alive()
            runs.append(res)
            key = "assigned_per_s" if assigned else "tickets_per_s"
            progress(f"  {label} repeat {k + 1}/{repeats}: {res[key]}/s"
                     + ("" if res["complete"] else " (timed out)"))
    finally:
        stack.close()
        node.drop_vhosts()
    return runs


def intake_alone(node, database, n, repeats, timeout):
    runs = _repeats(node, database, ("intake",), n, repeats, False, timeout, "intake alone",
                    engineers=0)
    return {"requests": n, "runs": runs, "tickets_per_s": figures(r["tickets_per_s"] for r in runs),
            "complete": all(r["complete"] for r in runs)}


def full_path(node, database, n, repeats, timeout):
    runs = _repeats(node, database, ("intake", "dispatch", "parts", "feedback"), n, repeats,
                    True, timeout, "full path")
    return {"requests": n, "runs": runs, "assigned_per_s": figures(r["assigned_per_s"] for r in runs),
            "complete": all(r["complete"] for r in runs)}


def storm(node, database, n, timeout):
    """``n`` requests at once: time to all opened and all assigned, integrity, RSS after."""
    stack = Stack(node.vhost(), database).prepare()
    try:
        stack.start()
        rss_before = stack.rss_mb()
        res = burst(stack.system.env["AMQP_URI"], n, True, timeout, "storm")
        res["rss_mb_before"] = rss_before
        res["rss_mb_after"] = stack.rss_mb()
        res["alive"] = stack.alive()
    finally:
        stack.close()
        node.drop_vhosts()
    progress(f"  storm of {n}: all opened {res['seconds_to_all_opened']} s, all assigned "
             f"{res['seconds_to_all_assigned']} s, {res['integrity']}")
    progress(f"  RSS after the storm (MB): {res['rss_mb_after']}")
    return res


def paced(node, database, rates, seconds, drain):
    """Each rate for ``seconds``: the assigned rate and p50/p99 request → assigned latency
    (publish time to the watcher seeing ``engineer_assigned``); a fresh system per rate."""
    out = {}
    for rate in rates:
        stack = Stack(node.vhost(), database).prepare()
        try:
            stack.start()
            uri = stack.system.env["AMQP_URI"]
            source = _source()
            w = Watcher(uri, source)
            w.start()
            w.ready.wait(30)
            pub = Publisher(uri)
            n = int(rate * seconds)
            t0 = time.time()
            behind = 0
            for i in range(n):
                due = t0 + i / rate
                delay = due - time.time()
                if delay > 0:
                    time.sleep(delay)       # the pace of the load, not a synchronisation
                elif delay < -0.5:
                    behind += 1
                pub.publish(request(source, i, source))
            offered = n / (time.time() - t0)
            window_end = time.time()
            _, assigned_in_window = w.counts()
            complete = w.wait(n, n, timeout=drain, label=f"paced {rate}/s drain")
            pub.close()
            w.stop()
            lat = sorted(w.latencies(pub.sent))
            opened, assigned = w.counts()
            res = {"rate": rate, "seconds": seconds, "requests": n,
                   "offered_per_s": round(offered, 2), "publisher_behind": behind,
                   "assigned_during_window_per_s": round(assigned_in_window / (window_end - t0), 2),
                   "assigned": assigned, "opened": opened, "complete_after_drain": complete,
                   "latency_s": {"p50": _r(percentile(lat, 50)), "p99": _r(percentile(lat, 99)),
                                 "max": _r(lat[-1] if lat else None), "samples": len(lat)},
                   "integrity": w.integrity(pub.sent), "alive": stack.alive()}
            progress(f"  paced {rate}/s: {res['assigned_during_window_per_s']}/s assigned, "
                     f"p50 {res['latency_s']['p50']} s, p99 {res['latency_s']['p99']} s")
            out[str(rate)] = res
        finally:
            stack.close()
            node.drop_vhosts()
    return out


def _r(x):
    return None if x is None else round(x, 4)


def stored(node, database, n, stored_counts, repeats, timeout):
    """Intake's rate with ``stored`` tickets already in its database (bulk-inserted)."""
    from bench.seeding import seed_intake_tickets
    out = {}
    for count in stored_counts:
        def prepare(stack, count=count):
            t = time.perf_counter()
            seed_intake_tickets(stack.url_of("intake"), count)
            progress(f"  seeded {count} stored tickets in {time.perf_counter() - t:.1f}s")
            return {"stored_tickets": count}
        runs = _repeats(node, database, ("intake",), n, repeats, False, timeout,
                        f"intake with {count} stored", engineers=0, prepare=prepare)
        out[str(count)] = {"stored_tickets": count, "requests": n, "runs": runs,
                           "tickets_per_s": figures(r["tickets_per_s"] for r in runs),
                           "complete": all(r["complete"] for r in runs)}
    return out
