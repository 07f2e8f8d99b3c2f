"""``aftersales broker …``: operations on the broker side of the platform.

``aftersales broker migrate-queues [--dry-run]``: re-create every queue of the topology that
exists with other arguments (a classic queue of an older install) as a quorum queue, keeping
its messages (``messaging.queues.migrate_queues``). Stop the services first.
"""
from __future__ import annotations

import os

from . import config as cfg


def _cmd_migrate_queues(args) -> int:
    from .messaging import broker, queues
    uri = os.environ.get("AMQP_URI", cfg.DEFAULT_AMQP_URI)
    delays = cfg.retry_delays_ms()
    limit = cfg.delivery_limit()
    print(f"{'checking' if args.dry_run else 'migrating'} the queues on {broker.safe_uri(uri)} "
          f"(quorum, delivery limit {limit}, retry delays {','.join(map(str, delays))} ms)",
          flush=True)
    with broker.connection(uri) as conn:
        conn.ensure_connection(max_retries=3)
        ch = conn.channel()
        for name in broker.topology.exchanges():
            ch.exchange_declare(name, "topic", durable=True, auto_delete=False)
        done = queues.migrate_queues(conn.connection, delays, limit, dry_run=args.dry_run,
                                     say=lambda line: print(line, flush=True))
    if done:
        print(f"{len(done)} queue(s) {'to migrate' if args.dry_run else 'migrated'}")
    if args.check and done:
        return 3
    return 0


def register(sub) -> None:
    b = sub.add_parser("broker", help="broker operations (queue migration)")
    bsub = b.add_subparsers(dest="broker_action", required=True, metavar="ACTION")
    m = bsub.add_parser(
        "migrate-queues",
        help="convert classic queues of the topology to quorum queues, keeping their messages",
        description="For every queue of the topology that exists with other arguments (a "
                    "classic queue): move its messages to <name>.migrating, delete it, declare "
                    "it as a quorum queue, move the messages back (publisher confirms; "
                    "idempotent; an interrupted run is finished by the next). Stop the "
                    "services first. Reads AMQP_URI, AFTERSALES_RETRY_DELAYS_MS and "
                    "AFTERSALES_DELIVERY_LIMIT.")
    m.add_argument("--dry-run", action="store_true", help="only say what would be migrated")
    m.add_argument("--check", action="store_true",
                   help="with --dry-run: exit 3 when some queue needs migrating")
    m.set_defaults(func=_cmd_migrate_queues)
