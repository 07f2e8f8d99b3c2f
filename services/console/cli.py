"""The console's commands: ``aftersales users add|list|disable|demo`` (the people who log in
to the console; the console service's database)."""
from __future__ import annotations

import getpass
import sys

from aftersales import config as cfg


def _uow():
    from aftersales.db import make_engine, migrate, session_factory
    from aftersales.registry import migrations_dir

    from .adapters.unit_of_work import ConsoleUnitOfWork
    engine = make_engine(cfg.database_url("console"))
    migrate(engine, migrations_dir("console"))
    factory = session_factory(engine)
    return engine, (lambda: ConsoleUnitOfWork(factory, "console"))


def _branches():
    from aftersales.reference import branches
    return branches(cfg.service_config("console")["AFTERSALES"]["reference_dir"])


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != first:
        raise ValueError("password: the two entries differ")
    return first


def _add(args) -> int:
    from .service_layer.users import add_user
    password = _password(args)
    engine, uow = _uow()
    try:
        user = add_user(uow(), args.login, args.name, args.branch, args.role, password,
                        _branches(), engineer_id=args.engineer_id)
    finally:
        engine.dispose()
    print(f"added {user.login} ({user.name}, {user.role}, {user.branch})")
    return 0


def _list(args) -> int:
    from .service_layer.users import list_users
    engine, uow = _uow()
    try:
        found = list_users(uow())
    finally:
        engine.dispose()
    rows = [("LOGIN", "NAME", "BRANCH", "ROLE", "ENGINEER", "ACTIVE", "CREATED (UTC)")]
    rows += [(u.login, u.name, u.branch, u.role, u.engineer_id or "-",
              "yes" if u.active else "no", u.created_at.strftime("%Y-%m-%d %H:%M"))
             for u in found]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip())
    print(f"{len(found)} user(s)")
    return 0


def _width(text: str) -> int:
    """Columns on a terminal: a CJK character takes two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _disable(args) -> int:
    from .service_layer.users import disable_user
    engine, uow = _uow()
    try:
        ended = disable_user(uow(), args.login)
    finally:
        engine.dispose()
    print(f"disabled {args.login}; {ended} session(s) ended")
    return 0


def _demo(args) -> int:
    from .service_layer.users import DEMO_PASSWORD, add_demo_users
    if cfg.mode() != "development":
        raise ValueError("users demo: only in development mode (AFTERSALES_MODE=development): "
                         "the demo password is public")
    engine, uow = _uow()
    try:
        added, kept = add_demo_users(uow(), _branches())
    finally:
        engine.dispose()
    print(f"demo users: {len(added)} added, {len(kept)} already there; password "
          f"{DEMO_PASSWORD} (development only)")
    for login in added + kept:
        print(f"  {login}")
    return 0


def register(sub) -> None:
    from .domain.model import PEOPLE_ROLES
    u = sub.add_parser("users", help="the console's users: add, list, disable")
    usub = u.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = usub.add_parser("add", help="add a user (asks for the password twice)")
    a.add_argument("login", metavar="LOGIN", help="a staff id such as SH-A001 (letters, digits, . _ -)")
    a.add_argument("--name", required=True, help="the person's name (姓名)")
    a.add_argument("--branch", required=True, help="a branch code (SH, HZ, ...) or HQ")
    a.add_argument("--role", required=True, help=f"one of {', '.join(PEOPLE_ROLES)}")
    a.add_argument("--engineer-id", default=None, help="an engineer's id in dispatch's roster")
    a.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    a.set_defaults(func=_add)
    ls = usub.add_parser("list", help="every user: login, name, branch, role, active")
    ls.set_defaults(func=_list)
    d = usub.add_parser("disable", help="disable a user and end their sessions")
    d.add_argument("login", metavar="LOGIN")
    d.set_defaults(func=_disable)
    dm = usub.add_parser("demo", help="(development) add the demo user of every role, "
                         "skipping those that exist")
    dm.set_defaults(func=_demo)
