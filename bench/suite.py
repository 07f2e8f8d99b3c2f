"""The benchmark suite of issue 16: every row of its table against a bare-broker baseline
measured in the same run just before it, on a private RabbitMQ node, SQLite (and PostgreSQL
for the throughput rows). Writes bench/results/<scenario>.json and bench/results/summary.md,
prints the summary.

    python bench/suite.py [--quick] [--only NAME ...] [--database sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, Node, loadavg, machine, progress, write_result  # noqa: E402

SCENARIOS = ("intake", "full", "paced", "storm", "sla", "stored")
THROUGHPUT = ("intake", "full", "storm")        # also on PostgreSQL with --database both
HELP = {
    "intake": "intake alone: N requests → N ticket_opened, tickets/s (min/median/max of repeats)",
    "full": "full path: N requests → N engineer_assigned (120 engineers imported)",
    "paced": "paced load (--rates, --paced-seconds): assigned rate, p50/p99 request → assigned",
    "storm": "--storm requests at once: time to all opened / assigned, lost, doubled, RSS after",
    "sla": "SLA timer in process: tick at --sla-clocks open clocks, a backlog all due, breach lateness",
    "stored": "intake alone with --stored tickets already in its database",
}
QUICK = dict(requests=50, repeats=1, storm=100, storm_timeout=60, rates="10", paced_seconds=2,
             drain=30, sla_clocks="2000", backlog=500, backlog_budget=20, ticks=3,
             lateness_samples=1, stored="300", baseline_messages=300, database="sqlite")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="bench/suite.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0],
        epilog="scenarios (--only):\n" + "\n".join(f"  {k:8} {v}" for k, v in HELP.items())
        + "\n\nEvery figure is taken against a bare-broker round trip (one kombu producer and "
          "one consumer,\n1 KB persistent JSON, the same node) measured just before it; see "
          "bench/README.md.")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one repeat, SQLite: checks the suite end to end (~1 min)")
    ap.add_argument("--only", action="append", choices=SCENARIOS, metavar="NAME",
                    help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}")
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both",
                    help="both (default): every row on SQLite, the throughput rows "
                         f"({', '.join(THROUGHPUT)}) also on PostgreSQL")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of each rate (default 3)")
    ap.add_argument("--requests", type=int, default=500,
                    help="requests per repeat of intake/full/stored (default 500)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds a repeat may take before it ends 'not met' (default 120)")
    ap.add_argument("--storm", type=int, default=10000, help="requests at once (default 10000)")
    ap.add_argument("--storm-timeout", type=float, default=30,
                    help="seconds the storm may take before it ends 'not met' (default 30: the target)")
    ap.add_argument("--rates", default="20,50,100", help="paced rates, requests/s (default 20,50,100)")
    ap.add_argument("--paced-seconds", type=float, default=10,
                    help="seconds each paced rate is held (default 10; the target says 60)")
    ap.add_argument("--drain", type=float, default=10,
                    help="seconds a paced run may take to catch up afterwards (default 10)")
    ap.add_argument("--sla-clocks", default="28600,100000",
                    help="open clocks for the tick time (default 28600,100000; the last one is "
                         "also used for the breach lateness)")
    ap.add_argument("--ticks", type=int, default=10, help="ticks measured per size (default 10)")
    ap.add_argument("--backlog", type=int, default=100000, help="clocks all due (default 100000)")
    ap.add_argument("--backlog-budget", type=float, default=60,
                    help="seconds the backlog may take before it ends 'not met' (default 60)")
    ap.add_argument("--lateness-samples", type=int, default=3,
                    help="breaches whose lateness is measured (default 3)")
    ap.add_argument("--stored", default="10000,200000",
                    help="tickets stored before intake's run (default 10000,200000)")
    ap.add_argument("--baseline-messages", type=int, default=2000,
                    help="messages per bare-broker repeat (default 2000)")
    ap.add_argument("--amqp-uri", help="use this broker instead of a private node (each "
                                       "scenario still gets its own vhost)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="directory of the results (default bench/results)")
    return ap


def parse(argv=None):
    ap = parser()
    args = ap.parse_args(argv)
    if args.quick:       # the quick profile, unless an option was given explicitly
        given = {a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:])}
        for k, v in QUICK.items():
            if f"--{k.replace('_', '-')}" not in given:
                setattr(args, k, v)
    args.rates = [float(x) for x in str(args.rates).split(",") if x]
    args.sla_clocks = [int(x) for x in str(args.sla_clocks).split(",") if x]
    args.stored = [int(x) for x in str(args.stored).split(",") if x]
    return args


def databases_for(name: str, choice: str) -> list[str]:
    if choice == "both":
        return ["sqlite", "postgresql"] if name in THROUGHPUT else ["sqlite"]
    return [choice]


def run_one(name: str, db: str, node: Node, args) -> dict:
    from bench import flow, sla_timer
    from bench.loadgen import bare_broker
    doc = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "load_before": loadavg()}
    uri = node.vhost()
    try:
        doc["baseline"] = bare_broker(uri, args.baseline_messages, max(3, args.repeats))
    finally:
        node.drop_vhosts()
    if name == "intake":
        doc.update(flow.intake_alone(node, db, args.requests, args.repeats, args.timeout))
    elif name == "full":
        doc.update(flow.full_path(node, db, args.requests, args.repeats, args.timeout))
    elif name == "paced":
        doc["rates"] = flow.paced(node, db, args.rates, args.paced_seconds, args.drain)
    elif name == "storm":
        doc.update(flow.storm(node, db, args.storm, args.storm_timeout))
    elif name == "stored":
        doc["stored"] = flow.stored(node, db, args.requests, args.stored, args.repeats,
                                    args.timeout)
    elif name == "sla":
        doc["ticks"] = [sla_timer.tick_time(db, k, args.ticks) for k in args.sla_clocks]
        doc["backlog"] = sla_timer.backlog(db, args.backlog, args.backlog_budget)
        doc["breach"] = sla_timer.breach_lateness(db, args.sla_clocks[-1], args.lateness_samples)
    doc["load_after"] = loadavg()
    doc["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return doc


def main(argv=None) -> int:
    args = parse(argv)
    out = Path(args.out)
    chosen = args.only or list(SCENARIOS)
    started = time.monotonic()
    node = Node(args.amqp_uri).start()
    failed = []
    try:
        for name in chosen:
            doc = {"scenario": name, "description": HELP[name], "machine": machine(),
                   "options": {k: v for k, v in vars(args).items() if k not in ("out",)},
                   "databases": {}}
            for db in databases_for(name, args.database):
                progress(f"== {name} ({db})")
                try:
                    doc["databases"][db] = run_one(name, db, node, args)
                except Exception as exc:        # one scenario failing does not stop the rest
                    progress(f"  {name} ({db}) failed: {exc!r}")
                    doc["databases"][db] = {"error": repr(exc), "load_after": loadavg()}
                    failed.append(f"{name}/{db}")
            path = write_result(out, name, doc)
            progress(f"  wrote {path.relative_to(out.parent) if out.parent in path.parents else path}")
    finally:
        node.close()
    from bench.summary import write_summary
    text = write_summary(out, elapsed=time.monotonic() - started)
    print(text)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
