"""Keys against the real services (issue #13): production mode, roles, expiry, rotation."""
import json

import pytest

from aftersales import auth, config
from tests.support.fixtures import SECRET

pytestmark = pytest.mark.integration

PROD_SECRET = "Pr0d-secret-for-tests-9XkQ2vLm7RtW4zYb"
OLD_SECRET = "Old-prod-secret-for-tests-3HnP8sDf6Gj1"


def _forge(secret, **payload):
    body = auth._b64(json.dumps(payload).encode())
    return f"ak1.{body}.{auth._sign(secret, body)}"


def _get(http, services, key):
    return http.get(services.url("intake", "/api/v1/tickets"),
                    headers={"Authorization": f"Bearer {key}"})


def test_in_production_a_service_refuses_to_start_without_a_good_secret(services):
    for secret in ("", config.DEV_SECRET, "change-me-in-production", "too-short-9"):
        with pytest.raises(config.ConfigError, match="refusing to start in production mode"):
            services.start("intake", mode="production", secret=secret)


def test_in_production_keys_signed_with_the_development_secret_read_nothing(services, http):
    services.start("intake", mode="production", secret=PROD_SECRET)
    assert _get(http, services, auth.issue_key(PROD_SECRET, "HQ", "admin")).status_code == 200
    dev_key = auth.issue_key(config.DEV_SECRET, "HQ", "admin")
    issue_forged = _forge(config.DEV_SECRET, kid="x", branch="HQ", role="admin")
    for key in (dev_key, issue_forged):
        r = _get(http, services, key)
        assert r.status_code == 401, r.text


def test_a_key_with_an_unknown_role_is_refused(services, http):
    services.start("intake")
    now = int(__import__("time").time())
    key = _forge(SECRET, kid="x", sub="crm", branch="HQ", role="superuser", iat=now, exp=now + 600)
    r = _get(http, services, key)
    assert r.status_code == 401 and "unknown role" in r.json()["error"]


def test_an_expired_key_and_a_key_without_issue_time_are_refused(services, http):
    services.start("intake")
    expired = auth.issue_key(SECRET, "HQ", "admin", expires_in=60, now=1_700_000_000)
    r = _get(http, services, expired)
    assert r.status_code == 401 and "expired" in r.json()["error"]
    now = int(__import__("time").time())
    no_iat = _forge(SECRET, kid="x", sub="crm", branch="HQ", role="admin", exp=now + 600)
    r = _get(http, services, no_iat)
    assert r.status_code == 401 and "'iat'" in r.json()["error"]


def test_during_a_secret_rotation_old_and_new_keys_both_work(services, http):
    services.start("intake", mode="production", secret=PROD_SECRET,
                   previous_secrets=[OLD_SECRET])
    for secret in (PROD_SECRET, OLD_SECRET):
        assert _get(http, services, auth.issue_key(secret, "SH", "agent")).status_code == 200
    assert _get(http, services, auth.issue_key(SECRET, "SH", "agent")).status_code == 401


def test_the_timeline_records_the_keys_subject_as_by(services, watcher, http):
    from tests.support.broker import publish_request
    from tests.support.data import repair_request
    services.start("intake")
    body = repair_request()
    publish_request(services.broker_uri, body)
    [opened] = watcher.of_type("ticket_opened", request_id=body["request_id"])
    key = auth.issue_key(SECRET, "SH", "agent", subject="SH-A007")
    r = http.post(services.url("intake", f"/api/v1/tickets/{opened['ticket_no']}/contact"),
                  json={"channel": "phone"}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    [contacted] = watcher.of_type("customer_contacted", ticket_no=opened["ticket_no"])
    assert contacted["data"]["by"] == "SH-A007"


READS = {"intake": "/api/v1/tickets", "dispatch": "/api/v1/jobs", "parts": "/api/v1/catalogue",
         "feedback": "/api/v1/visit-plans"}


def _cli(services, tmp_path, *args):
    import os
    import subprocess
    import sys
    env = {**os.environ, "AMQP_URI": services.broker_uri, "AFTERSALES_MODE": "development",
           "AFTERSALES_SECRET": SECRET, "AFTERSALES_VAR_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "aftersales", *args], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_revoked_key_is_refused_by_every_service_within_seconds_and_after_a_restart(
        services, http, tmp_path):
    from tests.support.waiting import wait_until
    for name in READS:
        services.start(name)
    key = _cli(services, tmp_path, "keys", "issue", "--branch", "HQ", "--role", "admin",
               "--subject", "crm-sync", "--expires", "1d").strip()
    other = auth.issue_key(SECRET, "HQ", "admin", subject="ops")
    kid = auth.verify_key(SECRET, key).key_id
    headers = {"Authorization": f"Bearer {key}"}

    def status(name, h=headers):
        return http.get(services.url(name, READS[name]), headers=h).status_code

    assert {name: status(name) for name in READS} == {name: 200 for name in READS}
    _cli(services, tmp_path, "keys", "revoke", kid, "--reason", "laptop lost")
    for name in READS:
        wait_until(lambda: status(name) == 401, timeout=10, what=f"{name} to refuse the key")
        assert status(name, {"Authorization": f"Bearer {other}"}) == 200   # only that key
    r = http.get(services.url("parts", READS["parts"]), headers=headers)
    assert "revoked" in r.json()["error"]
    services.stop("parts")
    services.start("parts", seed=False)
    assert status("parts") == 401
    listed = json.loads(_cli(services, tmp_path, "keys", "list", "--json"))
    assert [(row["kid"], row["sub"], row["status"]) for row in listed] == [(kid, "crm-sync", "revoked")]
