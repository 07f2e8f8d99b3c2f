"""The ``aftersales`` command as a new user types it (run as a subprocess, the way they do):
options in any order, a clear one-line error and exit status for every mistake, never a
Python traceback."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from aftersales import auth
from aftersales.messaging.parking import ParkingLot
from tests.support.broker import publish_raw, wait_parked
from tests.support.fixtures import SECRET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR = tempfile.mkdtemp(prefix="aftersales-cli-test-")   # the keys ledger goes here, not var/


def aftersales(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aftersales", *args], cwd=ROOT,
                          env={**os.environ, "AFTERSALES_SECRET": SECRET, "AFTERSALES_MODE": "development",
                               "AFTERSALES_VAR_DIR": VAR, **env},
                          capture_output=True, text=True, timeout=120)


def refused(result: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.stdout == "", result.stdout
    for w in words:
        assert w in result.stderr, result.stderr
    return result.stderr


# -- keys --------------------------------------------------------------------------------------
def test_a_key_for_a_role_that_does_not_exist_is_refused_naming_the_roles():
    refused(aftersales("keys", "issue", "--branch", "SH", "--role", "bogus"), 2,
            "--role", "bogus", "dispatcher")


def test_an_engineer_key_without_the_engineer_id_is_refused():
    refused(aftersales("keys", "issue", "--branch", "SH", "--role", "engineer"), 2,
            "--engineer-id")


def test_a_key_for_a_branch_that_does_not_exist_is_refused_naming_the_branches():
    err = refused(aftersales("keys", "issue", "--branch", "XX", "--role", "agent"), 2, "XX")
    assert "SH" in err and "HQ" in err


def test_keys_for_a_branch_for_hq_and_for_an_engineer_are_issued_and_verify():
    for args, expected in ((("--branch", "SH", "--role", "agent"), ("SH", "agent", None)),
                           (("--role", "admin", "--branch", "HQ"), ("HQ", "admin", None)),
                           (("--branch", "SH", "--engineer-id", "SH-E001", "--role", "engineer"),
                            ("SH", "engineer", "SH-E001"))):
        r = aftersales("keys", "issue", *args)
        assert r.returncode == 0, r.stderr
        p = auth.verify_key(SECRET, r.stdout.strip())
        assert (p.branch, p.role, p.engineer_id) == expected


def test_a_mistyped_command_is_one_line_of_usage_not_a_traceback():
    refused(aftersales("parked", "list"), 2, "--service")
    refused(aftersales("parked", "show", "--service", "intake"), 2, "ID")
    refused(aftersales("parked", "replay", "--service", "intake"), 2, "--all")
    refused(aftersales("seed", "nosuchservice"), 2, "nosuchservice")


def test_an_unreachable_broker_is_one_line_naming_it():
    refused(aftersales("parked", "list", "--service", "intake",
                       AMQP_URI="pyamqp://guest:secret@127.0.0.1:1//"), 1,
            "cannot reach the broker", "127.0.0.1:1")


# -- parked messages: the form the docs print, options before or after the ID ------------------
@pytest.mark.integration
def test_parked_commands_take_their_options_before_or_after_the_id(clean_broker):
    lot = ParkingLot(clean_broker, "intake")
    _park(clean_broker, b"\xff not json", "body is not UTF-8")
    [parked] = wait_parked(lot, 1)
    env = {"AMQP_URI": clean_broker}
    for args in (("show", "--service", "intake", parked.parked_id),
                 ("show", parked.parked_id, "--service", "intake"),
                 ("--service", "intake", "show", parked.parked_id)):
        r = aftersales("parked", *args, **env)
        assert r.returncode == 0, (args, r.stderr)
        assert parked.parked_id in r.stdout and "body is not UTF-8" in r.stdout
    listed = aftersales("parked", "list", "--service", "intake", **env)
    assert "aftersales parked show --service intake ID" in listed.stdout
    r = aftersales("parked", "purge", "--service", "intake", parked.parked_id, **env)
    assert r.returncode == 0 and lot.list() == [], r.stderr
    refused(aftersales("parked", "show", "--service", "intake", parked.parked_id, **env), 1,
            parked.parked_id)


@pytest.mark.integration
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_replaying_all_parked_messages_reports_how_many_were_replayed(services):
    services.start("intake")
    for body in (b"\xff one", b"\xff two"):
        publish_raw(services.broker_uri, "phone_center.events", "repair_requested", body)
    lot = ParkingLot(services.broker_uri, "intake")
    first = wait_parked(lot, 2)
    # intake parks them again as soon as they are back: still two messages, replayed once each
    r = aftersales("parked", "replay", "--all", "--service", "intake", AMQP_URI=services.broker_uri)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "replayed 2 message(s) to their original queues"
    again = wait_parked(lot, 2, exclude={p.parked_id for p in first})
    assert len(again) == 2


def _park(uri: str, body: bytes, reason: str) -> None:
    """Park a message as intake's consumer does."""
    from kombu import Connection

    from aftersales.messaging import broker
    from aftersales.messaging.parking import park_message
    from tests.support.fixtures import RETRY_DELAYS_MS
    with Connection(uri) as conn:
        ch = conn.channel()
        broker.declare_topology(ch, RETRY_DELAYS_MS)
        park_message(ch, "intake", body=body, properties={"content_type": "application/json"},
                     headers={}, queue="aftersales.intake.phone_center", reason=reason,
                     attempts=1)
