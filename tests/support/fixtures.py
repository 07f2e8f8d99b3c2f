"""pytest fixtures: the real broker (own vhost), real databases (SQLite files and, when
reachable, PostgreSQL), and the services run as nameko containers in this process."""
from __future__ import annotations

import os
from contextlib import contextmanager
import socket
import uuid

import pytest
import requests

from aftersales import config as cfg
from aftersales.auth import issue_key
from aftersales.registry import service_class

from . import broker as b

RETRY_DELAYS_MS = [100, 300]
PG_ADMIN_URL = os.environ.get("AFTERSALES_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# Tests run in development mode with an explicit test secret, as `make run` does with the
# development one; the tests of production mode start services with mode="production".
SECRET = "test-secret"
# The tests' requests carry fixed dates (2026-11-22 ...), so that ticket numbers and reports are
# exact; intake's received_at window (365 days by default, docs/intake.md) is widened for them
# so that the suite passes on any date. The window itself is tested with an injected clock.
RECEIVED_MAX_AGE_DAYS = 36500
MODE = "development"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def broker_uri():
    uri = b.base_uri()
    if not b.broker_reachable(uri):
        pytest.fail(f"RabbitMQ is not reachable at {uri}: `make test` starts one; "
                    "or set AMQP_URI", pytrace=False)
    vhost = b.make_vhost()
    if vhost is None:
        yield uri
        return
    yield b.uri_with_vhost(uri, vhost)
    b.rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def clean_broker(broker_uri):
    b.purge_all(broker_uri, RETRY_DELAYS_MS)
    return broker_uri


@pytest.fixture
def watcher(clean_broker):
    w = b.EventWatcher(clean_broker, RETRY_DELAYS_MS)
    yield w
    w.close()


def _pg_available() -> bool:
    try:
        import psycopg2
        psycopg2.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


class PgDatabases:
    def __init__(self):
        import psycopg2
        self.conn = psycopg2.connect(PG_ADMIN_URL)
        self.conn.autocommit = True
        self.created = []

    def create(self, service: str) -> str:
        name = f"as_test_{uuid.uuid4().hex[:8]}_{service}"
        with self.conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        self.created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop_all(self):
        with self.conn.cursor() as cur:
            for name in self.created:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request):
    if request.param == "postgresql" and not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable (set AFTERSALES_TEST_PG)")
    return request.param


@pytest.fixture
def database_urls(db_backend, tmp_path):
    """``service -> database URL``: a fresh database per service on the chosen backend."""
    if db_backend == "sqlite":
        yield {s: f"sqlite:///{tmp_path / (s + '.db')}" for s in cfg.DEFAULT_PORTS}
        return
    pg = PgDatabases()
    urls = _LazyUrls(pg)
    yield urls
    pg.drop_all()


@pytest.fixture
def engine_for(database_urls):
    """``engine_for(service)``: an engine on the service's test database, disposed afterwards."""
    from aftersales.db import make_engine
    made = []

    def make(service: str):
        made.append(make_engine(database_urls[service]))
        return made[-1]
    yield make
    for engine in made:
        engine.dispose()


@contextmanager
def migrated_database(url: str, service: str, seed: bool = False):
    """The service's database at ``url``, migrated (and, with ``seed``, holding its demo
    reference data): ``(engine, session factory)``; the engine is disposed afterwards."""
    from aftersales.db import make_engine, migrate, session_factory
    from aftersales.registry import migrations_dir, seed_function
    engine = make_engine(url)
    try:
        migrate(engine, migrations_dir(service))
        factory = session_factory(engine)
        if seed:
            with factory() as s:
                seed_function(service)(s, only_if_empty=True)
                s.commit()
        yield engine, factory
    finally:
        engine.dispose()


@pytest.fixture
def intake_db(database_urls):
    """Intake's database, migrated, as an engine (for tests of the shared outbox, inbox and
    unit of work, which every service's database holds)."""
    with migrated_database(database_urls["intake"], "intake") as (engine, _):
        yield engine


class _LazyUrls(dict):
    def __init__(self, pg):
        super().__init__()
        self.pg = pg

    def __missing__(self, service):
        url = self[service] = self.pg.create(service)
        return url


class ServiceHarness:
    """Starts services as nameko containers; HTTP on free ports; stops them at teardown."""

    def __init__(self, broker_uri, database_urls):
        self.broker_uri = broker_uri
        self.database_urls = database_urls
        self.containers = {}
        self.ports = {}

    def config(self, name, **overrides):
        port = self.ports.setdefault(name, free_port())
        settings = dict(AMQP_URI=self.broker_uri, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
                        database_url=self.database_urls[name], secret=SECRET, mode=MODE,
                        retry_delays_ms=RETRY_DELAYS_MS, relay_interval=0.2,
                        received_max_age_days=RECEIVED_MAX_AGE_DAYS)
        settings.update(overrides)
        return cfg.service_config(name, env={}, **settings)

    def start(self, name, seed=True, **overrides):
        from nameko.containers import ServiceContainer
        if seed:
            self.seed(name)
        container = ServiceContainer(service_class(name), self.config(name, **overrides))
        container.start()
        self.containers[name] = container
        return container

    def seed(self, name):
        with migrated_database(self.database_urls[name], name, seed=True):
            pass

    def stop(self, name):
        self.containers.pop(name).stop()

    def kill(self, name):
        self.containers.pop(name).kill()

    def url(self, name, path=""):
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def stop_all(self):
        for name in list(self.containers):
            try:
                self.stop(name)
            except Exception:
                pass


@pytest.fixture
def services(clean_broker, database_urls):
    h = ServiceHarness(clean_broker, database_urls)
    yield h
    h.stop_all()


def key(branch="SH", role="agent", engineer_id=None) -> str:
    return issue_key(SECRET, branch, role, engineer_id)


def auth(branch="SH", role="agent", engineer_id=None) -> dict:
    return {"Authorization": f"Bearer {key(branch, role, engineer_id)}"}


class ClockControl:
    """The platform clock (``aftersales.clock``) as a test sets it, for this process (the
    services run here): ``run_from(instant)`` starts "now" at ``instant`` and lets it run."""

    def run_from(self, instant):
        from aftersales import clock
        clock.set_clock(clock.running_from(instant))
        return clock.utcnow()


@pytest.fixture
def clock():
    yield ClockControl()
    from aftersales import clock as c
    c.set_clock(None)


@pytest.fixture
def http():
    s = requests.Session()
    yield s
    s.close()
