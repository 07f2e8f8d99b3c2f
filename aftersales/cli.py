"""``aftersales``: run a service, migrate, load demo data, issue API keys, inspect and replay
parked messages, regenerate docs/events.md, and simulate the workflow.

Run ``aftersales --help`` or ``aftersales COMMAND --help``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import config as cfg
from .registry import SERVICES


def _cmd_run(args) -> int:
    from nameko.cli.run import run

    from . import logs
    from .registry import service_class
    logs.configure(args.service, os.environ.get("AFTERSALES_LOG_LEVEL", "INFO"),
                   os.environ.get("AFTERSALES_LOG_FORMAT", "json"))
    try:
        conf = cfg.service_config(args.service)
        cfg.check_secrets(conf["AFTERSALES"])
    except ValueError as exc:   # ConfigError and unreadable values
        print(f"aftersales run {args.service}: {exc}", file=sys.stderr)
        return 2
    if conf["AFTERSALES"]["secret"] == cfg.DEV_SECRET:
        msg = "development mode: API keys are signed with the public development secret"
        print(f"aftersales run {args.service}: {msg}", file=sys.stderr)
        logging.getLogger("aftersales").warning(msg)
    from . import diagnostics
    diagnostics.install()
    run([service_class(args.service)], conf)
    return 0


def _engine(service):
    from .db import make_engine
    return make_engine(cfg.database_url(service))


def _cmd_migrate(args) -> int:
    from .db import migrate
    from .registry import migrations_dir
    for name in args.services or SERVICES:
        engine = _engine(name)
        migrate(engine, migrations_dir(name))
        engine.dispose()
        print(f"{name}: migrated ({cfg.database_url(name).split('://')[0]})")
    return 0


def _cmd_seed(args) -> int:
    from .db import migrate, session_factory
    from .registry import migrations_dir, seed_function
    for name in args.services or SERVICES:
        engine = _engine(name)
        migrate(engine, migrations_dir(name))
        with session_factory(engine)() as session:
            report = seed_function(name)(session, only_if_empty=args.if_empty)
            session.commit()
        engine.dispose()
        print(f"{name}: {report}")
    return 0


class UserError(Exception):
    """A mistake in the command line or its input: one line on stderr and exit status 2."""


def _cmd_parked(args) -> int:
    from .messaging.parking import ParkingLot
    if not getattr(args, "service", None):
        raise UserError(f"{args.action}: --service is required (one of {', '.join(SERVICES)})")
    lot = ParkingLot(os.environ.get("AMQP_URI", cfg.DEFAULT_AMQP_URI), args.service,
                     cfg.retry_delays_ms())
    if args.action == "list":
        items = lot.list()
        if args.json:
            print(json.dumps([p.summary() for p in items], ensure_ascii=False, indent=2))
        elif not items:
            print(f"no parked messages for {args.service}")
        else:
            for p in items:
                s = p.summary()
                print(f"{s['parked_id']}  {s['parked_at'][:19]}  {s['queue']}  "
                      f"attempts={s['attempts']}  {s['reason'][:120]}")
            print(f"{len(items)} parked message(s); `aftersales parked show --service "
                  f"{args.service} ID` shows one, `replay` sends it back")
        return 0
    if args.action == "replay" and bool(args.id) == bool(args.all):
        raise UserError("replay: give the parked message's ID or --all (not both)")
    try:
        if args.action == "show":
            p = lot.show(args.id)
            print(json.dumps(p.summary(), ensure_ascii=False, indent=2))
            print(p.body_text())
        elif args.action == "replay":
            done = lot.replay(None if args.all else args.id)
            print(f"replayed {len(done)} message(s) to their original queues")
        elif args.action == "purge":
            lot.purge(args.id)
            print(f"purged {args.id}")
    except LookupError as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    return 0


def _cmd_outbox(args) -> int:
    from .db import make_engine
    from .messaging.outbox_parking import parked_rows, replay_rows
    engine = make_engine(cfg.database_url(args.service))
    limit = cfg.service_config(args.service)["AFTERSALES"]["outbox_max_attempts"]
    if args.action == "list":
        rows = parked_rows(engine, limit)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        for r in ([] if args.json else rows):
            print(f"{r['id']}  {r['created_at'][:19]}  {r['exchange']}/{r['routing_key']}  "
                  f"attempts={r['attempts']}  {(r['last_error'] or '')[:120]}")
        if not args.json:
            print(f"{len(rows)} parked outbox row(s)")
        return 0
    if args.id is None and not args.all:
        print("outbox replay: give the row's ID (or --all)", file=sys.stderr)
        return 2
    try:
        done = replay_rows(engine, limit, None if args.all else args.id)
    except LookupError as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    print(f"replayed {len(done)} outbox row(s): the relay sends them on its next round")
    return 0


def add_import_command(sub, group: str, group_help: str, verb: str, verb_help: str,
                       service: str, importer: str, what: str) -> None:
    """``aftersales GROUP VERB FILE [--dry-run]``: a service's CSV import, run by
    :func:`import_csv` (``importer`` is "module:function", imported only when the command runs)."""
    from .registry import load
    g = sub.add_parser(group, help=group_help)
    gsub = g.add_subparsers(dest=f"{group}_action", required=True)
    cmd = gsub.add_parser(verb, help=verb_help)
    cmd.add_argument("file")
    cmd.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    cmd.set_defaults(func=lambda args: import_csv(args, service, load(importer), what))


def import_csv(args, service: str, importer, what: str) -> int:
    """Run a service's CSV import (``importer(session, path, progress=...)``, returning
    ``{imported, bad_rows: int | list, errors?: [...]}``) in one transaction, rolled back with
    ``--dry-run``; print progress, the counts and every bad row. Exit 0 all good, 1 some rows
    bad, 2 no file or an unusable file."""
    from pathlib import Path

    from .db import migrate, session_factory
    from .registry import migrations_dir
    path = Path(args.file)
    if not path.exists():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    engine = _engine(service)
    migrate(engine, migrations_dir(service))
    try:
        with session_factory(engine)() as session:
            report = importer(session, path, progress=lambda n, ok, bad: print(
                f"  {n} rows read: {ok} imported, {bad} bad", flush=True))
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    bad_rows = report["bad_rows"]
    count = bad_rows if isinstance(bad_rows, int) else len(bad_rows)
    verb = "would import" if args.dry_run else "imported"
    print(f"{verb} {report['imported']} {what}; {count} bad row(s)")
    for bad in report.get("errors", bad_rows if isinstance(bad_rows, list) else []):
        where = f"line {bad['line']}" + (f", column {bad['column']}" if "column" in bad else "")
        print(f"  {where}: {bad.get('message') or bad.get('error')}")
    return 1 if count else 0


def _openapi_docs():
    """docs/openapi/<service>.json: each service's OpenAPI document (aftersales.openapi)."""
    from .openapi import document
    from .registry import SERVICES, service_class
    return [(f"openapi/{name}.json", lambda name=name: json.dumps(
        document(service_class(name)), ensure_ascii=False, indent=2) + "\n")
        for name in SERVICES]


def _cmd_events_doc(args) -> int:
    """docs/events.md, docs/asyncapi.json and docs/schemas/ from the event contracts,
    docs/access.md from the role table, and the services' OpenAPI documents under
    docs/openapi/."""
    from . import access, eventsdoc
    rc = 0
    for name, render in (("events.md", eventsdoc.render), ("access.md", access.render),
                         *_openapi_docs()):
        path = cfg.reference_dir().parent.parent / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render()
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"docs/{name} is out of date: run `aftersales events-doc`", file=sys.stderr)
                rc = 1
            else:
                print(f"docs/{name} is up to date")
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    # docs/asyncapi.json and docs/schemas/, guarded against incompatible schema changes
    return eventsdoc.write_machine_readable(cfg.reference_dir().parent.parent / "docs",
                                            args.check) or rc


def _cmd_makemigration(args) -> int:
    import tempfile

    from alembic import command
    from alembic.config import Config

    from .db import make_engine, migrate
    from .registry import migrations_dir
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/m.db")
        migrate(engine, migrations_dir(args.service))
        c = Config()
        c.set_main_option("script_location", str(migrations_dir(args.service)))
        c.attributes["connection_engine"] = engine
        versions = sorted((migrations_dir(args.service) / "versions").glob("*.py"))
        rev = f"{len(versions) + 1:04d}"
        command.revision(c, message=args.message, autogenerate=True, rev_id=rev)
    return 0


def _cmd_simulate(args) -> int:
    from .simulator import main as simulate
    return simulate(args)


def _parked_parser(sub) -> None:
    """``parked ACTION [ID] --service S``, options before or after the ID (and ``--service``
    also before the action)."""
    service = argparse.ArgumentParser(add_help=False)
    service.add_argument("--service", choices=SERVICES, default=argparse.SUPPRESS,
                         help="the service whose parking queue (required)")
    pk = sub.add_parser("parked", parents=[service],
                        help="list, show, replay or purge a service's parked messages")
    psub = pk.add_subparsers(dest="action", required=True, metavar="ACTION")
    pl = psub.add_parser("list", parents=[service], help="id, time, queue, attempts and reason of each")
    pl.add_argument("--json", action="store_true", help="JSON output")
    ps = psub.add_parser("show", parents=[service], help="one parked message: reason and body")
    ps.add_argument("id", metavar="ID", help="the parked message's ID (from `list`)")
    pr = psub.add_parser("replay", parents=[service], help="send it back to its original queue")
    pr.add_argument("id", metavar="ID", nargs="?", help="the parked message's ID (from `list`)")
    pr.add_argument("--all", action="store_true", help="every parked message of the service")
    pp = psub.add_parser("purge", parents=[service], help="delete one parked message")
    pp.add_argument("id", metavar="ID", help="the parked message's ID (from `list`)")
    pk.set_defaults(func=_cmd_parked)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aftersales",
        description="After-sales service platform (售后服务平台): operate the four services.",
        epilog="Configuration comes from the environment (AMQP_URI, <SERVICE>_DATABASE_URL, "
               "<SERVICE>_HTTP, AFTERSALES_SECRET, ...): see docs/architecture.md.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run one service in the foreground (Ctrl-C or SIGTERM stops it cleanly)")
    r.add_argument("service", choices=SERVICES)
    r.set_defaults(func=_cmd_run)

    m = sub.add_parser("migrate", help="apply database migrations (services do this on start too)")
    m.add_argument("services", nargs="*", metavar="SERVICE",
                   help=f"any of {', '.join(SERVICES)} (default: all)")
    m.set_defaults(func=_cmd_migrate)

    s = sub.add_parser("seed", help="load the demo reference data (branches' engineers, parts, assets)")
    s.add_argument("services", nargs="*", metavar="SERVICE", help="default: all")
    s.add_argument("--if-empty", action="store_true", help="only where the service has no data yet")
    s.set_defaults(func=_cmd_seed)

    from .keys_cli import register as register_keys
    register_keys(sub)
    _parked_parser(sub)
    from .broker_cli import register as register_broker
    register_broker(sub)

    ob = sub.add_parser("outbox", help="list or replay a service's parked outbox rows (events the broker kept refusing)")
    ob.add_argument("action", choices=["list", "replay"])
    ob.add_argument("id", nargs="?", type=int, help="the row's ID (from `list`)")
    ob.add_argument("--service", required=True, choices=SERVICES)
    ob.add_argument("--all", action="store_true", help="with replay: every parked row")
    ob.add_argument("--json", action="store_true", help="with list: JSON output")
    ob.set_defaults(func=_cmd_outbox)

    from .registry import register_cli
    register_cli(sub)   # each service's own commands (assets, parts, roster)

    e = sub.add_parser("events-doc", help="regenerate docs/events.md, docs/asyncapi.json and "
                       "docs/schemas/ (event contracts), docs/access.md (role table) and "
                       "docs/openapi/*.json (HTTP APIs)")
    e.add_argument("--check", action="store_true", help="only check that it is up to date")
    e.set_defaults(func=_cmd_events_doc)

    mm = sub.add_parser("makemigration", help="(developers) autogenerate a migration for a service")
    mm.add_argument("service", choices=SERVICES)
    mm.add_argument("-m", "--message", required=True)
    mm.set_defaults(func=_cmd_makemigration)

    sim = sub.add_parser("simulate", help="play phone centers, engineers and customers against the running system")
    sim.add_argument("--tickets", type=int, default=10, help="how many requests to file (default 10)")
    sim.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each step")
    sim.add_argument("--intake-url", default=None)
    sim.add_argument("--dispatch-url", default=None)
    sim.set_defaults(func=_cmd_simulate)
    return p


def main(argv=None) -> None:
    """Parse and run a command; a user's mistake (bad option, unknown branch, unreachable
    broker or database, ...) is one line on stderr and a non-zero exit, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("seed", "migrate"):
        bad = [s for s in args.services if s not in SERVICES]
        if bad:
            parser.exit(2, f"aftersales: error: unknown service(s): {', '.join(bad)}; "
                           f"one of {', '.join(SERVICES)}\n")
    sys.exit(_run(args))


def _run(args) -> int:
    try:
        return args.func(args)
    except UserError as exc:
        print(f"aftersales {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:              # bad configuration or input the library refused
        print(f"aftersales {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        kind = _unreachable(exc)
        if kind is None:
            raise                          # a bug: its traceback is what a developer needs
        print(f"aftersales {args.command}: {kind}", file=sys.stderr)
        return 1


def _unreachable(exc: Exception) -> str | None:
    """One line for a broker or database that does not answer (None for anything else).
    Checked by class name so that commands not using kombu or SQLAlchemy never import them."""
    names = {f"{c.__module__}.{c.__name__}" for c in type(exc).__mro__}
    if "sqlalchemy.exc.OperationalError" in names:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"database error: {detail}"
    if isinstance(exc, ConnectionError) or "kombu.exceptions.OperationalError" in names:
        from .messaging.broker import safe_uri
        uri = safe_uri(os.environ.get("AMQP_URI", cfg.DEFAULT_AMQP_URI))
        return f"cannot reach the broker at {uri}: {exc}"
    return None
