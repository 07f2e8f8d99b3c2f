"""The console's pure rules: passwords (policy, argon2 hashes), sessions (expiry on an
injected clock, the stored hash), the CSRF check, the key minter's cache, the catalogue."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aftersales.auth import verify_key
from aftersales.contracts.common import CATEGORIES
from services.console import i18n, pages
from services.console.adapters.api import base_url
from services.console.adapters.passwords import hash_password, verify_password
from services.console.domain import model
from services.console.service_layer.keys import KeyMinter

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)
BRANCHES = {"SH": {}, "HZ": {}}


def test_a_password_hash_verifies_only_its_password():
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2id$") and "s3cret-pass" not in h
    assert verify_password(h, "s3cret-pass")
    assert not verify_password(h, "s3cret-pasS")
    assert not verify_password(None, "s3cret-pass")          # unknown user
    assert not verify_password("not a hash", "s3cret-pass")
    assert hash_password("s3cret-pass") != h                # salted


def test_the_password_policy_wants_eight_characters():
    assert model.password_errors("1234567") == [
        {"field": "password", "message": "must have at least 8 characters"}]
    assert model.password_errors("12345678") == []
    assert model.password_errors(None)[0]["field"] == "password"
    assert model.password_errors("x" * 300)[0]["message"].startswith("must have at most")


def test_a_new_user_names_every_bad_field():
    with pytest.raises(model.UserError) as err:
        model.new_user("bad login", "", "XX", "integration", None, "h", NOW, BRANCHES)
    fields = [e["field"] for e in err.value.errors]
    assert fields == ["login", "name", "branch", "role"]
    assert "HQ" in err.value.errors[2]["message"] and "SH" in err.value.errors[2]["message"]
    with pytest.raises(model.UserError) as err:
        model.new_user("sh-e1", "李强", "SH", "engineer", None, "h", NOW, BRANCHES)
    assert err.value.errors[0]["field"] == "engineer_id"
    user = model.new_user("hq-1", " 王总 ", "HQ", "manager", "", "h", NOW, BRANCHES)
    assert user.is_hq and user.active and user.name == "王总" and user.engineer_id is None


def test_a_session_stores_only_the_hash_of_its_token_and_expires_on_the_clock():
    token, session = model.open_session("sh-agent", NOW, hours=2)
    assert session.token_hash == model.token_hash(token) != token
    assert len(session.token_hash) == 64 and len(token) >= 40
    assert not session.expired(NOW)
    assert not session.expired(NOW + timedelta(hours=2) - timedelta(seconds=1))
    assert session.expired(NOW + timedelta(hours=2))
    other, second = model.open_session("sh-agent", NOW)
    assert other != token and second.csrf_token != session.csrf_token


def test_the_csrf_check_wants_the_sessions_own_token():
    _, session = model.open_session("sh-agent", NOW)
    assert session.csrf_ok(session.csrf_token)
    assert not session.csrf_ok(None)
    assert not session.csrf_ok("")
    assert not session.csrf_ok(session.csrf_token[:-1] + "x")
    assert not model.check_csrf(None, None) and not model.check_csrf("", "")


def _user(**kw):
    base = dict(login="sh-engineer", name="李强", branch="SH", role="engineer",
                engineer_id="SH-E001", password_hash="h", active=True, created_at=NOW)
    return model.User(**{**base, **kw})


def test_the_minted_key_is_the_users_and_is_kept_until_near_its_expiry():
    clock = [1_800_000_000.0]
    minter = KeyMinter("a-test-secret-of-some-length-000000", clock=lambda: clock[0])
    key = minter.key_for("s1", _user())
    p = verify_key("a-test-secret-of-some-length-000000", key, now=clock[0])
    assert (p.branch, p.role, p.engineer_id, p.subject) == ("SH", "engineer", "SH-E001",
                                                            "sh-engineer")
    assert p.expires_at - clock[0] == 300
    clock[0] += 200
    assert minter.key_for("s1", _user()) == key               # 100 s left: kept
    clock[0] += 45
    renewed = minter.key_for("s1", _user())                    # 55 s left: a new one
    assert renewed != key
    assert minter.key_for("s2", _user()) != renewed            # per session
    minter.forget("s1")
    assert minter.key_for("s1", _user()) != renewed


def test_the_catalogue_has_every_key_in_chinese_and_english():
    assert set(i18n.CATALOGUE["zh"]) == set(i18n.CATALOGUE["en"])
    for lang in i18n.LANGS:
        assert all(v.strip() for v in i18n.CATALOGUE[lang].values()), lang
    # every key a template uses is in the catalogue; every role has its name
    used = set()
    for tpl in (Path(__file__).resolve().parents[1] / "templates").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+\.[a-z_]+)'", tpl.read_text(encoding="utf-8")))
    used |= {f"role.{r}" for r in model.PEOPLE_ROLES}
    used |= {f"state.{s}" for s in pages.STATES} | {f"category.{c}" for c in CATEGORIES}
    assert used and used <= set(i18n.CATALOGUE["zh"]), used - set(i18n.CATALOGUE["zh"])
    assert i18n.translate("en", "home.welcome", name="Li") == "Welcome, Li"
    assert i18n.translate("fr", "nav.home") == "首页"           # unknown language: Chinese


def test_service_urls_come_from_the_services_own_addresses():
    assert base_url("intake", {"INTAKE_HTTP": "0.0.0.0:9001"}) == "http://127.0.0.1:9001"
    assert base_url("intake", {}) == "http://127.0.0.1:8001"
    assert base_url("intake", {"CONSOLE_INTAKE_URL": "http://intake:8001/"}) == \
        "http://intake:8001"
