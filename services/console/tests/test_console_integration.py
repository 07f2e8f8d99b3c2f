"""The console's users and sessions on a real database (SQLite and PostgreSQL): the
repositories, the service layer (login, expiry, disable), the migration against the ORM, and
``aftersales users`` as a real process."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from aftersales.clock import utcnow
from services.console.adapters.orm import metadata
from services.console.adapters.unit_of_work import ConsoleUnitOfWork
from services.console.domain import model
from services.console.service_layer import users as people
from tests.support.fixtures import migrated_database
from tests.support.migrations import assert_matches_orm_and_reverses, upgrade
from tests.support.processes import ROOT

pytestmark = pytest.mark.integration
BRANCHES = {"SH": {}, "HZ": {}}
# a fast hasher keeps the tests quick; argon2 itself is tested in test_console_domain.py
FAST = people.Hasher(hash=lambda p: "plain:" + p,
                     verify=lambda h, p: h is not None and h == "plain:" + p)


@pytest.fixture
def uow(database_urls):
    with migrated_database(database_urls["console"], "console") as (_, factory):
        yield lambda: ConsoleUnitOfWork(factory, "console")


def test_users_are_added_listed_and_refused_by_field(uow):
    people.add_user(uow(), "sh-agent", "孙丽", "SH", "agent", "password1", BRANCHES, hasher=FAST)
    people.add_user(uow(), "hq-boss", "王总", "HQ", "manager", "password2", BRANCHES)
    with pytest.raises(model.UserError) as err:
        people.add_user(uow(), "sh-agent", "另一个", "SH", "agent", "password3", BRANCHES,
                        hasher=FAST)
    assert err.value.errors == [{"field": "login", "message": "sh-agent is already taken"}]
    with pytest.raises(model.UserError) as err:
        people.add_user(uow(), "x1", "某人", "SH", "agent", "short", BRANCHES, hasher=FAST)
    assert [e["field"] for e in err.value.errors] == ["password"]
    found = people.list_users(uow())
    assert [(u.login, u.branch, u.role, u.active) for u in found] == [
        ("hq-boss", "HQ", "manager", True), ("sh-agent", "SH", "agent", True)]
    assert found[0].password_hash.startswith("$argon2id$")
    assert found[1].created_at.tzinfo is not None


def test_login_sessions_expire_and_end_with_logout_or_disable(uow):
    people.add_user(uow(), "sh-agent", "孙丽", "SH", "agent", "password1", BRANCHES, hasher=FAST)
    assert people.log_in(uow(), "sh-agent", "wrong-pass", hasher=FAST) is None
    assert people.log_in(uow(), "nobody", "password1", hasher=FAST) is None
    now = utcnow()
    token, session, user = people.log_in(uow(), "sh-agent", "password1", hours=1,
                                         hasher=FAST, now=now)
    with uow() as u:       # only the hash is stored
        assert u.sessions.get(model.token_hash(token)) == session
        assert u.sessions.get(token) is None
    assert people.current(uow(), token, now=now + timedelta(minutes=59))[1].login == "sh-agent"
    assert people.current(uow(), token, now=now + timedelta(hours=1)) is None   # expired
    with uow() as u:
        assert u.sessions.get(session.token_hash) is None                        # and gone
    token, *_ = people.log_in(uow(), "sh-agent", "password1", hasher=FAST)
    people.log_out(uow(), token)
    assert people.current(uow(), token) is None
    token, *_ = people.log_in(uow(), "sh-agent", "password1", hasher=FAST)
    assert people.disable_user(uow(), "sh-agent") == 1
    assert people.current(uow(), token) is None
    assert people.log_in(uow(), "sh-agent", "password1", hasher=FAST) is None  # disabled
    with pytest.raises(model.UserError):
        people.disable_user(uow(), "nobody")


def test_the_demo_users_are_added_once(uow):
    added, kept = people.add_demo_users(uow(), BRANCHES, hasher=FAST)
    assert kept == [] and set(added) == {d[0] for d in people.DEMO_USERS}
    assert {u.role for u in people.list_users(uow())} == set(model.PEOPLE_ROLES)
    added, kept = people.add_demo_users(uow(), BRANCHES, hasher=FAST)
    assert added == [] and len(kept) == len(people.DEMO_USERS)


def test_the_migration_matches_the_orm_and_reverses(engine_for):
    engine = engine_for("console")
    upgrade("console", engine)
    assert_matches_orm_and_reverses("console", engine, metadata)


def _cli(url, *args, stdin=None, mode="production"):
    env = {"CONSOLE_DATABASE_URL": url, "AFTERSALES_MODE": mode, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "aftersales", "users", *args], input=stdin,
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_users_commands(database_urls):
    url = database_urls["console"]
    run = _cli(url, "add", "SH-A007", "--name", "张伟", "--branch", "SH", "--role", "agent",
               "--password-stdin", stdin="a-good-password\n")
    assert run.returncode == 0, run.stderr
    assert "added SH-A007" in run.stdout
    for args, stdin, field in (
            (("add", "SH-A007", "--name", "张伟", "--branch", "SH", "--role", "agent"),
             "a-good-password\n", "login: SH-A007 is already taken"),
            (("add", "x2", "--name", "某", "--branch", "SH", "--role", "boss"),
             "a-good-password\n", "role: unknown role 'boss'"),
            (("add", "x3", "--name", "某", "--branch", "NY", "--role", "agent"),
             "a-good-password\n", "branch: unknown branch 'NY'"),
            (("add", "x4", "--name", "某", "--branch", "SH", "--role", "agent"),
             "short\n", "password: must have at least 8 characters")):
        run = _cli(url, *args, "--password-stdin", stdin=stdin)
        assert run.returncode == 2 and field in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    run = _cli(url, "list")
    assert run.returncode == 0 and "SH-A007" in run.stdout and "张伟" in run.stdout
    assert "1 user(s)" in run.stdout
    run = _cli(url, "demo")
    assert run.returncode == 2 and "development" in run.stderr
    run = _cli(url, "demo", mode="development")
    assert run.returncode == 0 and "sh-agent" in run.stdout, run.stderr
    run = _cli(url, "disable", "SH-A007")
    assert run.returncode == 0 and "disabled SH-A007" in run.stdout
    lines = [ln for ln in _cli(url, "list").stdout.splitlines() if ln.startswith("SH-A007")]
    assert lines and lines[0].split()[-3] == "no"
    run = _cli(url, "disable", "nobody")
    assert run.returncode == 2 and "login: no user nobody" in run.stderr
