"""Two intake instances (each its own engine and bus) on one database at once: the same
request opens one ticket and the other is answered as the duplicate; different requests of
one branch and day get different numbers (SQLite and PostgreSQL)."""
import threading

from aftersales.db import make_engine, session_factory
from services.intake import bootstrap
from services.intake.service_layer import commands
from tests.support.data import repair_request
from tests.support.fixtures import migrated_database


def _both(url, bodies_a, bodies_b):
    barrier, results = threading.Barrier(2), {}

    def run(name, bodies):
        engine = make_engine(url)
        bus = bootstrap.bus_for(session_factory(engine))
        barrier.wait()
        results[name] = [bus.handle(commands.ReceiveRequest(b)) for b in bodies]
        engine.dispose()
    threads = [threading.Thread(target=run, args=("a", bodies_a)),
               threading.Thread(target=run, args=("b", bodies_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results["a"] + results["b"]


def test_two_instances_one_ticket_per_request_and_unique_numbers(database_urls):
    url = database_urls["intake"]
    with migrated_database(url, "intake", seed=True):
        same = [repair_request(asset=None) for _ in range(20)]
        answers = _both(url, same, same)
        by_outcome = sorted(a.outcome for a in answers)
        assert by_outcome == ["duplicate"] * 20 + ["opened"] * 20
        assert len({a.ticket_no for a in answers}) == 20
        other = _both(url, [repair_request(asset=None) for _ in range(20)],
                      [repair_request(asset=None) for _ in range(20)])
        numbers = [a.ticket_no for a in other]
        assert len(set(numbers)) == 40 and all(a.outcome == "opened" for a in other)
        seqs = sorted(int(n[-4:]) for n in numbers + [a.ticket_no for a in answers
                                                       if a.outcome == "opened"])
        assert seqs == list(range(1, 61))   # unique and without gaps
