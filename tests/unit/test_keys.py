"""API keys: expiry, issue time, roles, subjects, secret rotation; production-mode secrets."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aftersales import auth, config

GOOD = "k7Qx-2vN9pLm4RtY8wZc1bHs6dFg3jKa"      # 32 characters, random-looking
OLD = "Old-secret-7Hq2Lp9Xv4Nm8Rt3Wz6Yb1Ks"
NOW = 1_800_000_000
ROOT = Path(__file__).resolve().parents[2]


def _forge(secret, **payload):
    body = auth._b64(json.dumps(payload).encode())
    return f"ak1.{body}.{auth._sign(secret, body)}"


def test_a_key_carries_its_subject_expiry_and_id():
    k = auth.issue_key(GOOD, "SH", "agent", subject="SH-A007", expires_in=3600, now=NOW)
    p = auth.verify_key(GOOD, k, now=NOW + 60)
    assert (p.subject, p.branch, p.role, p.expires_at) == ("SH-A007", "SH", "agent", NOW + 3600)
    assert p.actor == "SH-A007" and len(p.key_id) == 16


def test_an_expired_key_is_refused():
    k = auth.issue_key(GOOD, "SH", "agent", expires_in=3600, now=NOW)
    with pytest.raises(auth.AuthError, match="expired"):
        auth.verify_key(GOOD, k, now=NOW + 3600)


def test_a_key_without_expiry_or_issue_time_is_refused():
    base = {"kid": "x", "sub": "crm", "branch": "HQ", "role": "admin"}
    for payload in ({**base, "iat": NOW}, {**base, "exp": NOW + 60}, base,
                    {**base, "iat": NOW, "exp": "tomorrow"}):
        with pytest.raises(auth.AuthError, match="'(exp|iat)'"):
            auth.verify_key(GOOD, _forge(GOOD, **payload), now=NOW)


def test_a_key_issued_in_the_future_or_living_too_long_is_refused():
    base = {"kid": "x", "sub": "crm", "branch": "HQ", "role": "admin"}
    with pytest.raises(auth.AuthError, match="future"):
        auth.verify_key(GOOD, _forge(GOOD, **base, iat=NOW + 3600, exp=NOW + 7200), now=NOW)
    with pytest.raises(auth.AuthError, match="longer"):
        auth.verify_key(GOOD, _forge(GOOD, **base, iat=NOW, exp=NOW + 400 * auth.DAY), now=NOW)


def test_an_unknown_role_is_refused_when_issuing_and_when_verifying():
    with pytest.raises(ValueError, match="role"):
        auth.issue_key(GOOD, "HQ", "superuser")
    forged = _forge(GOOD, kid="x", sub="crm", branch="HQ", role="superuser", iat=NOW, exp=NOW + 60)
    with pytest.raises(auth.AuthError, match="unknown role"):
        auth.verify_key(GOOD, forged, now=NOW)


def test_the_subject_is_a_staff_or_system_id_never_a_name_or_email():
    for bad in ("张三丰", "zhang@example.com", "a b", "x" * 65):
        with pytest.raises(ValueError, match="subject"):
            auth.issue_key(GOOD, "SH", "agent", subject=bad)
    assert auth.verify_key(GOOD, auth.issue_key(GOOD, "SH", "engineer", "SH-E001")).subject == "SH-E001"


def test_expiry_is_bounded_and_durations_read_as_days_and_hours():
    assert auth.parse_duration("30d") == 30 * auth.DAY and auth.parse_duration("12h") == 43200
    assert auth.parse_duration("2w") == 14 * auth.DAY and auth.parse_duration("45m") == 2700
    for bad in ("", "0d", "tomorrow", "-3d", "3y"):
        with pytest.raises(ValueError, match="expires"):
            auth.parse_duration(bad)
    with pytest.raises(ValueError, match="at most 365 days"):
        auth.issue_key(GOOD, "SH", "agent", expires_in=400 * auth.DAY)
    assert config.key_expiry({}) == (90 * auth.DAY, 365 * auth.DAY)
    assert config.key_expiry({"AFTERSALES_KEY_DEFAULT_EXPIRY": "7d",
                              "AFTERSALES_KEY_MAX_EXPIRY": "30d"}) == (7 * auth.DAY, 30 * auth.DAY)
    with pytest.raises(config.ConfigError):
        config.key_expiry({"AFTERSALES_KEY_DEFAULT_EXPIRY": "90d", "AFTERSALES_KEY_MAX_EXPIRY": "30d"})


def test_during_a_rotation_keys_of_the_previous_secret_still_verify():
    old_key = auth.issue_key(OLD, "SH", "agent")
    settings = config.service_config("intake", env={"AFTERSALES_SECRET": GOOD,
                                                    "AFTERSALES_SECRET_PREVIOUS": OLD})["AFTERSALES"]
    assert config.verification_secrets(settings) == [GOOD, OLD]
    assert auth.verify_key(config.verification_secrets(settings), old_key).branch == "SH"
    with pytest.raises(auth.AuthError):   # the rotation is over: the previous secret is gone
        auth.verify_key([GOOD], old_key)


def test_production_is_the_default_mode_and_refuses_missing_short_or_published_secrets():
    assert config.service_config("intake", env={})["AFTERSALES"]["mode"] == "production"
    for secret, why in (("", "is not set"), (config.DEV_SECRET, "published"),
                        ("change-me-in-production", "published"), ("short-but-random-9", "shorter"),
                        ("a" * 40, "distinct")):
        settings = config.service_config("intake", env={"AFTERSALES_SECRET": secret})["AFTERSALES"]
        with pytest.raises(config.ConfigError, match=why):
            config.check_secrets(settings)
    settings = config.service_config("intake", env={"AFTERSALES_SECRET": GOOD,
                                                    "AFTERSALES_SECRET_PREVIOUS": "test-secret"})
    with pytest.raises(config.ConfigError, match="AFTERSALES_SECRET_PREVIOUS"):
        config.check_secrets(settings["AFTERSALES"])
    config.check_secrets(config.service_config("intake", env={"AFTERSALES_SECRET": GOOD})["AFTERSALES"])


def test_development_mode_falls_back_to_the_development_secret():
    settings = config.service_config("intake", env={"AFTERSALES_MODE": "development"})["AFTERSALES"]
    assert settings["secret"] == config.DEV_SECRET
    config.check_secrets(settings)
    with pytest.raises(config.ConfigError, match="AFTERSALES_MODE"):
        config.mode({"AFTERSALES_MODE": "staging"})


def test_a_service_refuses_to_start_in_production_without_a_secret_and_says_why(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AFTERSALES_VAR_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "aftersales", "run", "intake"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "AFTERSALES_SECRET is not set" in run.stderr and "production mode" in run.stderr


def test_keys_issue_refuses_the_development_secret_in_production(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AFTERSALES_VAR_DIR": str(tmp_path),
           "AFTERSALES_SECRET": config.DEV_SECRET}
    run = subprocess.run([sys.executable, "-m", "aftersales", "keys", "issue", "--branch", "HQ",
                          "--role", "admin"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and "published" in run.stderr and not run.stdout


def test_keys_issue_records_the_key_in_the_ledger_and_list_shows_it(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AFTERSALES_VAR_DIR": str(tmp_path), "AFTERSALES_SECRET": GOOD}
    run = subprocess.run([sys.executable, "-m", "aftersales", "keys", "issue", "--branch", "SH",
                          "--role", "agent", "--subject", "SH-A007", "--expires", "12h"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    p = auth.verify_key(GOOD, run.stdout.strip())
    assert p.subject == "SH-A007" and 43100 < p.expires_at - __import__("time").time() <= 43200
    assert run.stdout.strip() not in (tmp_path / "keys.jsonl").read_text()   # never the key
    listed = subprocess.run([sys.executable, "-m", "aftersales", "keys", "list", "--json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    [row] = json.loads(listed.stdout)
    assert (row["kid"], row["sub"], row["status"]) == (p.key_id, "SH-A007", "active")


def test_docker_compose_requires_a_secret_and_runs_in_production_mode():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "${AFTERSALES_SECRET:?" in text and "change-me-in-production" not in text
    assert "AFTERSALES_MODE: production" in text


def test_make_run_keeps_the_development_secret_and_says_so_on_the_terminal():
    text = (ROOT / "scripts/run.sh").read_text(encoding="utf-8")
    assert 'export AFTERSALES_MODE="${AFTERSALES_MODE:-development}"' in text
    assert re.search(r'warn "AFTERSALES_SECRET is not set: development mode.*PUBLIC development secret', text)
