"""The console and intake as real processes (`aftersales run`): people log in over HTTP with
their cookie, see their branch's tickets from intake's API (called with a key minted for
them), and nothing of another branch; CSRF, logout, the language switch and a disabled user."""
from __future__ import annotations

import re

import pytest
import requests

from services.console.service_layer.users import DEMO_PASSWORD
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import System

pytestmark = pytest.mark.e2e
FAILED = "账号或密码不正确，或账号已停用。"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    from tests.support import broker as b
    sys_ = System(b.base_uri(), tmp_path_factory.mktemp("console")).start(
        only=("intake", "console"))
    demo = sys_.cli("users", "demo")
    assert demo.returncode == 0, demo.stderr
    yield sys_
    sys_.close()


@pytest.fixture(scope="module")
def sh_ticket(system):
    resp = requests.post(system.url("intake", "/api/v1/tickets"), json=repair_request(),
                         headers=auth("SH", "agent"), timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()["ticket_no"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(system, login, password=DEMO_PASSWORD):
    s = requests.Session()
    form = s.get(system.url("console", "/console/login"), timeout=10)
    assert form.status_code == 200 and "登录" in form.text
    resp = s.post(system.url("console", "/console/login"), timeout=10, allow_redirects=False,
                  data={"login": login, "password": password, "csrf": _csrf(form.text)})
    return s, resp


def test_the_entry_leads_to_the_login_page_then_home(system):
    anon = requests.get(system.url("console", "/"), timeout=10, allow_redirects=False)
    assert anon.status_code == 303 and anon.headers["Location"] == "/console/login"
    s, resp = _login(system, "sh-agent")
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/home"
    cookie = resp.headers["Set-Cookie"]
    assert "console_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = s.get(system.url("console", "/console"), timeout=10)
    assert home.url.endswith("/console/home")
    assert "孙丽（客服）" in home.text and "客服" in home.text and "上海分公司" in home.text
    assert '<meta name="viewport"' in home.text
    s.get(system.url("console", "/console/lang?to=en&back=/console/home"), timeout=10)
    en = s.get(system.url("console", "/console/home"), timeout=10)
    assert "Service desk agent" in en.text and "Log out" in en.text
    assert s.get(system.url("console", "/console/static/vendor/htmx.min.js"),
                 timeout=10).status_code == 200


def test_a_wrong_password_and_a_disabled_user_get_the_same_answer(system):
    _, wrong = _login(system, "sh-agent", "not-the-password")
    _, nobody = _login(system, "no-such-user", "not-the-password")
    assert system.cli("users", "disable", "sh-warehouse").returncode == 0
    _, disabled = _login(system, "sh-warehouse")
    for resp in (wrong, nobody, disabled):
        assert resp.status_code == 401 and FAILED in resp.text
        assert "console_session" not in resp.headers.get("Set-Cookie", "")


def test_every_form_needs_its_csrf_token(system):
    s = requests.Session()
    s.get(system.url("console", "/console/login"), timeout=10)
    resp = s.post(system.url("console", "/console/login"), timeout=10, allow_redirects=False,
                  data={"login": "sh-agent", "password": DEMO_PASSWORD, "csrf": "forged"})
    assert resp.status_code == 400 and "console_session" not in resp.headers.get("Set-Cookie", "")
    s, resp = _login(system, "sh-agent")
    bad = s.post(system.url("console", "/console/logout"), data={"csrf": "forged"}, timeout=10,
                 allow_redirects=False)
    assert bad.status_code == 400
    page = s.get(system.url("console", "/console/home"), timeout=10)
    assert page.url.endswith("/console/home")                  # still logged in
    out = s.post(system.url("console", "/console/logout"), data={"csrf": _csrf(page.text)},
                 timeout=10, allow_redirects=False)
    assert out.status_code == 303 and out.headers["Location"] == "/console/login"
    assert s.get(system.url("console", "/console/home"), timeout=10).url.endswith("/console/login")


def test_the_ticket_list_shows_the_users_branch_only(system, sh_ticket):
    s, _ = _login(system, "sh-agent")
    page = s.get(system.url("console", "/console/tickets"), timeout=10)
    assert page.status_code == 200 and f'data-ticket="{sh_ticket}"' in page.text
    row = page.text.split(f'data-ticket="{sh_ticket}"')[1].split("</tr>")[0]
    assert "上海宝钢钢构有限公司" in row and "2026-11-22 09:30" in row   # Beijing time
    assert "故障报修" in row or "紧急抢修" in row or "维护保养" in row   # the category's name
    filtered = s.get(system.url("console", "/console/tickets"),
                     params={"status": "cancelled"}, timeout=10)
    assert sh_ticket not in filtered.text and "没有符合条件的工单" in filtered.text
    bad = s.get(system.url("console", "/console/tickets"), params={"priority": "Z"}, timeout=10)
    assert "must be A, B or C" in bad.text                      # the API's field error
    hz, _ = _login(system, "hz-agent")
    other = hz.get(system.url("console", "/console/tickets"), timeout=10)
    assert other.status_code == 200 and sh_ticket not in other.text
    hz_sh = hz.get(system.url("console", "/console/tickets"), params={"branch": "SH"}, timeout=10)
    assert sh_ticket not in hz_sh.text                          # a branch user cannot ask for SH
    hq, _ = _login(system, "hq-admin")
    assert sh_ticket in hq.get(system.url("console", "/console/tickets"), timeout=10).text
    assert sh_ticket in hq.get(system.url("console", "/console/tickets"),
                               params={"branch": "SH"}, timeout=10).text
    anon = requests.get(system.url("console", "/console/tickets"), timeout=10,
                        allow_redirects=False)
    assert anon.status_code == 303 and anon.headers["Location"] == "/console/login"
