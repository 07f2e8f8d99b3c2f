"""Database engines, the nameko dependency provider, and migrations.

SQLite (the default) is set up for a long-running service: WAL journal, a busy timeout,
foreign keys on, and ``BEGIN IMMEDIATE`` for every transaction so writers from two processes
(a service and the CLI) queue on the lock instead of failing on upgrade. Inside one process the
pool holds a single connection, so eventlet green threads wait on the pool (cooperatively)
rather than on SQLite's lock (which would block the hub).

PostgreSQL is used when the URL says so, through psycopg2 (made cooperative by
``eventlet.monkey_patch()``), with ``pool_pre_ping`` and a pool at least as large as the
service's worker count.
"""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def make_engine(url: str, pool_size: int = 12) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=1, max_overflow=0, pool_timeout=60,
            hide_parameters=True,   # error texts never carry bound values (personal data)
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                         hide_parameters=True)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def migrate(engine: Engine, migrations_dir: Path) -> None:
    """Apply the service's Alembic migrations (``upgrade head``) on this engine."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["connection_engine"] = engine
    command.upgrade(cfg, "head")


def run_alembic_env(target_metadata) -> None:
    """Body of every service's ``migrations/env.py`` (kept in one place)."""
    from alembic import context

    engine = context.config.attributes.get("connection_engine")
    if engine is None:  # plain `alembic` command line: URL from the ini/-x option
        url = context.get_x_argument(as_dictionary=True).get("url") or \
            context.config.get_main_option("sqlalchemy.url")
        engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def dialect_insert(session: Session):
    """The ``insert`` of the session's dialect (PostgreSQL's or SQLite's), for the upserts
    both know: ``.on_conflict_do_update`` / ``.on_conflict_do_nothing``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
