"""The service desk in a real browser (Debian's chromium driven by Playwright) against intake,
dispatch and the console as real processes: sh-agent logs in, files a request for 张伟 at
上海市浦东新区张杨路1500号 (a wrong phone first: intake's field error next to the field), sees
the warranty lookup answer as the serial number is typed, lands on the ticket page with its
number, timeline and dispatch's SLA clocks, reads it in English, cancels it; on a phone too.
Screenshots of each screen: var/screenshots/<test>/."""
from __future__ import annotations

import re

import pytest
import requests

from services.console.service_layer.users import DEMO_PASSWORD
from tests.support.browser import browser, chromium  # noqa: F401  (fixtures)
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import System
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
SERIAL = "SH-GJ-2019-0001"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    from tests.support import broker as b
    sys_ = System(b.base_uri(), tmp_path_factory.mktemp("desk")).start(
        only=("intake", "dispatch", "console"))
    demo = sys_.cli("users", "demo")
    assert demo.returncode == 0, demo.stderr
    yield sys_
    sys_.close()


@pytest.fixture(scope="module")
def earlier_ticket(system):
    """A past (cancelled) ticket of the asset: its service history and warranty."""
    resp = requests.post(system.url("intake", "/api/v1/tickets"), json=repair_request(),
                         headers=auth("SH", "agent"), timeout=10)
    assert resp.status_code == 201, resp.text
    ticket_no = resp.json()["ticket_no"]
    done = requests.post(system.url("intake", f"/api/v1/tickets/{ticket_no}/cancel"),
                         json={"reason": "客户已自行修复"}, headers=auth("SH", "agent"),
                         timeout=10)
    assert done.status_code == 200, done.text
    return ticket_no


def _log_in(page, system, login, screens=None):
    page.goto(system.url("console", "/console/login"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", DEMO_PASSWORD)
    if screens:
        screens.shot(page, "login")
    page.click("form button[type=submit]")
    page.wait_for_url("**/console/home")


def _sla_ready(system, ticket_no):
    resp = requests.get(system.url("dispatch", f"/api/v1/jobs/{ticket_no}/sla"),
                        headers=auth("SH", "agent"), timeout=5)
    return resp.status_code == 200 and resp.json()["clocks"]


def test_an_agent_files_a_request_and_follows_the_ticket(system, earlier_ticket, browser):
    page = browser.desktop()
    _log_in(page, system, "sh-agent", browser)
    browser.shot(page, "home")
    page.click("nav a[href='/console/desk/new']")
    page.wait_for_url("**/console/desk/new")
    assert page.inner_text("h1") == "受理报修"
    browser.shot(page, "new-request")

    page.fill("[name='customer.name']", "上海浦东重工有限公司")
    page.fill("[name='customer.contact_name']", "张伟")
    page.fill("[name='customer.phone']", "电话号码")
    page.fill("[name='site.address']", "上海市浦东新区张杨路1500号")
    page.fill("[name='fault.description']", "屋面檩条锈蚀，局部漏水，需要检修")
    page.click("#new-request button[type=submit]")
    error = page.locator(".field-error[data-field='customer.phone']")
    assert "not a phone number" in error.inner_text()          # intake's own message
    assert page.input_value("[name='customer.contact_name']") == "张伟"   # kept
    browser.shot(page, "field-error")

    page.fill("[name='customer.phone']", "13812345678")
    page.locator("[name='asset.serial_no']").press_sequentially(SERIAL, delay=20)
    answer = page.locator("#lookup-warranty")
    answer.wait_for()
    history = page.inner_text("#lookup-history")
    assert earlier_ticket in history and "已取消" in history
    assert re.search("在保|已过保|未登记设备", answer.inner_text())
    browser.shot(page, "warranty-lookup")

    page.click("#new-request button[type=submit]")
    page.wait_for_url(re.compile(r"/console/tickets/[^/]+$"))
    ticket_no = page.url.rsplit("/", 1)[1]
    assert ticket_no != earlier_ticket
    assert ticket_no in page.inner_text("#ticket-no")
    assert page.inner_text("#ticket-customer") == "上海浦东重工有限公司"
    assert page.inner_text("#ticket-address").startswith("上海市浦东新区张杨路1500号")
    assert page.locator("#timeline li[data-type='ticket_opened']").count() == 1
    assert "工单已受理" in page.inner_text("#timeline")
    wait_until(lambda: _sla_ready(system, ticket_no), timeout=20, what="dispatch's SLA clocks")
    page.reload()
    assert page.locator("#sla tr[data-stage='response']").count() == 1
    assert "响应" in page.inner_text("#sla")
    browser.shot(page, "ticket")

    page.click("a.lang")
    page.wait_for_url(re.compile(r"/console/tickets/[^/]+$"))
    assert "Timeline" in page.inner_text("main") and "Service levels" in page.inner_text("main")
    assert "Ticket opened" in page.inner_text("#timeline")
    assert page.inner_text("#ticket-status") in ("Open", "Assigned")   # dispatch may be quick
    browser.shot(page, "ticket-en")

    page.goto(system.url("console", "/console/tickets"))
    page.click(f"a[href='/console/tickets/{ticket_no}']")
    page.wait_for_url(f"**/console/tickets/{ticket_no}")
    page.click("#cancel button[type=submit]")                   # no reason: intake says so
    assert page.locator("#cancel .field-error[data-field='reason']").count() == 1
    page.fill("#cancel [name=reason]", "客户来电取消")
    page.click("#cancel button[type=submit]")
    page.wait_for_url(f"**/console/tickets/{ticket_no}")
    assert page.inner_text("#ticket-status") == "Cancelled"
    assert page.locator("#timeline li[data-type='ticket_cancelled']").count() == 1
    assert page.locator("#cancel").count() == 0
    browser.shot(page, "cancelled-en")

    phone = browser.phone()
    _log_in(phone, system, "sh-agent")
    phone.goto(system.url("console", f"/console/tickets/{ticket_no}"))
    assert ticket_no in phone.inner_text("#ticket-no")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the ticket page is {width}px wide on a 390px phone"
    browser.shot(phone, "ticket-phone")
    phone.goto(system.url("console", "/console/desk/new"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    browser.shot(phone, "new-request-phone")


def test_the_desk_is_for_desk_roles_and_the_users_branch(system, earlier_ticket):
    def session(login):
        s = requests.Session()
        form = s.get(system.url("console", "/console/login"), timeout=10)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        s.post(system.url("console", "/console/login"), timeout=10,
               data={"login": login, "password": DEMO_PASSWORD, "csrf": csrf})
        return s

    engineer = session("sh-engineer")
    assert engineer.get(system.url("console", "/console/desk/new"), timeout=10).status_code == 403
    hz = session("hz-agent")
    other = hz.get(system.url("console", f"/console/tickets/{earlier_ticket}"), timeout=10)
    assert other.status_code == 404 and "上海宝钢" not in other.text
    lookup = hz.get(system.url("console", "/console/desk/asset"),
                    params={"asset.serial_no": SERIAL}, timeout=10)
    assert lookup.status_code == 200 and earlier_ticket not in lookup.text
    hq = session("hq-admin")
    page = hq.get(system.url("console", f"/console/tickets/{earlier_ticket}"), timeout=10)
    assert page.status_code == 200 and earlier_ticket in page.text
    form = hq.get(system.url("console", "/console/desk/new"), timeout=10)
    assert 'name="branch"' in form.text                         # HQ files for a branch
    forged = session("sh-agent").post(system.url("console", "/console/desk/new"), timeout=10,
                                      data={"csrf": "forged", "customer.name": "x"})
    assert forged.status_code == 400
