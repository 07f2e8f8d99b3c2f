"""The engineer's pages with real processes (intake, dispatch, parts and the console, `aftersales
run`): sh-engineer (SH-E001) logs in with a cookie and walks a job from dispatch's API through
the console's forms — accept, set out, check in, diagnose, a photo, complete, the customer's
signature — and sees its photo and signature proxied back; nobody else gets at it."""
from __future__ import annotations

import base64
import re
import struct
import subprocess
import sys
import zlib

import pytest
import requests

from services.console.service_layer.users import DEMO_PASSWORD
from tests.support.data import repair_request
from tests.support.fixtures import auth
from tests.support.processes import ROOT, System
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
ENGINEER = "SH-E001"          # sh-engineer's engineer_id (DEMO_USERS)
LIMIT = 16 * 1024             # dispatch's evidence limit here (the photos below are smaller)


def png(width: int = 4, height: int = 3, rgb=(200, 40, 40)) -> bytes:
    """A small real PNG (no Pillow needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def system(tmp_path_factory, broker_uri):
    # the session's own vhost: dispatch must get this intake's events, not another run's
    sys_ = System(broker_uri, tmp_path_factory.mktemp("console-engineer"),
                  DISPATCH_EVIDENCE_MAX_BYTES=str(LIMIT)).start(
        only=("intake", "dispatch", "parts", "console"))
    assert sys_.cli("users", "demo").returncode == 0
    other = subprocess.run(
        [sys.executable, "-m", "aftersales", "users", "add", "sh-engineer-2", "--name", "王磊",
         "--branch", "SH", "--role", "engineer", "--engineer-id", "SH-E002",
         "--password-stdin"], input=DEMO_PASSWORD + "\n", env=sys_.env, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False)
    assert other.returncode == 0, other.stderr
    yield sys_
    sys_.close()


@pytest.fixture
def ticket(system):
    return assigned_ticket(system)


def assigned_ticket(system, asset: dict | None = None) -> str:
    """An SH ticket whose job is assigned to SH-E001 (by hand when the ranking chose another);
    for the asset of repair_request() (in warranty) unless another is named: intake links a
    second open ticket of an asset to the first, and a linked ticket gets no job."""
    body = repair_request(**({"asset": asset} if asset else {}))
    resp = requests.post(system.url("intake", "/api/v1/tickets"), json=body,
                         headers=auth("SH", "agent"), timeout=10)
    assert resp.status_code == 201, resp.text
    ticket_no = resp.json()["ticket_no"]
    job_url = system.url("dispatch", f"/api/v1/jobs/{ticket_no}")

    def job():
        r = requests.get(job_url, headers=auth("SH", "dispatcher"), timeout=5)
        return r.json() if r.status_code == 200 else None
    found = wait_until(job, timeout=30, what="the job in dispatch")
    if found["engineer_id"] != ENGINEER:
        r = requests.post(f"{job_url}/assign", headers=auth("SH", "dispatcher"), timeout=10,
                          json={"engineer_id": ENGINEER, "reason": "控制台测试：派给李强"})
        assert r.status_code == 200, r.text
    assert job()["engineer_id"] == ENGINEER and job()["status"] == "assigned"
    return ticket_no


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(system, name: str) -> requests.Session:
    s = requests.Session()
    form = s.get(system.url("console", "/console/login"), timeout=10)
    resp = s.post(system.url("console", "/console/login"), timeout=10, allow_redirects=False,
                  data={"login": name, "password": DEMO_PASSWORD, "csrf": _csrf(form.text)})
    assert resp.status_code == 303, resp.text
    return s


def step(system, s, ticket_no, action, data=None, files=None, expect=303):
    page = s.get(system.url("console", f"/console/jobs/{ticket_no}"), timeout=10)
    assert page.status_code == 200, page.text
    assert f'id="form-{action}"' in page.text, f"{action} not offered"
    resp = s.post(system.url("console", f"/console/jobs/{ticket_no}/{action}"),
                  data={"csrf": _csrf(page.text), **(data or {})}, files=files, timeout=20,
                  allow_redirects=False)
    assert resp.status_code == expect, resp.text
    if expect == 303:
        assert resp.headers["Location"] == f"/console/jobs/{ticket_no}"
    return resp


def state_of(html: str) -> str:
    return re.search(r'id="job-state" data-state="([a-z_]+)"', html).group(1)


def test_the_engineer_walks_the_job_to_its_sign_off(system, ticket):
    s = login(system, "sh-engineer")
    mine = s.get(system.url("console", "/console/jobs"), timeout=10)
    assert mine.status_code == 200 and f'data-ticket="{ticket}"' in mine.text
    card = mine.text.split(f'data-ticket="{ticket}"')[1].split("</li>")[0]
    assert 'data-state="assigned"' in card and "待接单" in card
    assert "上海市宝山区富锦路885号3号厂房" in card                    # the site, from intake
    assert 'href="/console/jobs"' in mine.text                      # the nav link

    step(system, s, ticket, "accept")
    page = s.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10)
    again = s.post(system.url("console", f"/console/jobs/{ticket}/accept"), timeout=10,
                   data={"csrf": _csrf(page.text)}, allow_redirects=False)   # a second tap
    assert again.status_code == 409 and 'data-failed="accept"' in again.text
    step(system, s, ticket, "depart")
    step(system, s, ticket, "check_in")
    bad = step(system, s, ticket, "diagnose", {"cause": "workmanship", "responsibility": "",
                                                "warranty_void": ""}, expect=422)
    assert 'data-field="responsibility"' in bad.text                # next to its field
    step(system, s, ticket, "diagnose", {"cause": "workmanship", "responsibility": "company",
                                          "findings": "屋面檩条防腐层施工不到位"})
    photo = png()
    step(system, s, ticket, "photo", {"caption": "屋面檩条锈蚀"},
         files={"photo": ("IMG_0001.png", photo, "image/png")})
    refused = step(system, s, ticket, "photo", {},
                   files={"photo": ("fake.jpg", b"not an image at all", "image/jpeg")},
                   expect=400)
    assert 'data-field="photo"' in refused.text                     # dispatch's message
    for size in (LIMIT + 1, 200 * 1024):      # read and measured; refused by Content-Length
        big = step(system, s, ticket, "photo", {},
                   files={"photo": ("big.png", photo + b"\0" * size, "image/png")}, expect=413)
        assert 'data-field="photo"' in big.text and str(LIMIT) in big.text
    step(system, s, ticket, "complete", {"summary": "更换锈蚀檩条两根，重做防腐"})
    signature = "data:image/png;base64," + base64.b64encode(png(60, 20, (0, 0, 0))).decode()
    step(system, s, ticket, "sign_off", {"signed_by": "张伟", "signature": signature,
                                          "accepted": "1"})

    page = s.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10)
    assert state_of(page.text) == "closed" and 'id="signed-off"' in page.text
    assert "张伟" in page.text and 'id="form-' not in page.text      # nothing left to do
    shas = re.findall(rf'src="/console/jobs/{ticket}/evidence/([0-9a-f]{{64}})"', page.text)
    kinds = re.findall(r'<figure data-kind="([a-z]+)"', page.text)
    assert sorted(kinds) == ["photo", "signature"] and len(shas) == 2
    for sha in shas:
        img = s.get(system.url("console", f"/console/jobs/{ticket}/evidence/{sha}"), timeout=10)
        assert img.status_code == 200 and img.headers["Content-Type"] == "image/png"
        assert img.headers["Cache-Control"].startswith("private")
        assert img.content.startswith(b"\x89PNG")
    assert photo in [s.get(system.url("console", f"/console/jobs/{ticket}/evidence/{sha}"),
                           timeout=10).content for sha in shas]
    done = s.get(system.url("console", "/console/jobs"), timeout=10)
    assert 'data-state="closed"' in done.text.split(f'data-ticket="{ticket}"')[1][:80]

    # nobody else: another engineer of the branch, a user of another branch, no session
    for other in ("sh-engineer-2", "hz-agent"):
        o = login(system, other)
        assert o.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10).status_code == 404
        assert o.get(system.url("console", f"/console/jobs/{ticket}/evidence/{shas[0]}"),
                     timeout=10).status_code == 404
    anon = requests.get(system.url("console", f"/console/jobs/{ticket}/evidence/{shas[0]}"),
                        timeout=10, allow_redirects=False)
    assert anon.status_code == 401


def test_appointment_report_parts_and_a_decline(system, ticket):
    s = login(system, "sh-engineer")
    step(system, s, ticket, "accept")
    wrong = step(system, s, ticket, "appointment", {"window_from": "2026-12-03T11:00",
                                                    "window_to": "2026-12-03T09:00"},
                 expect=422)
    assert 'data-field="window_to"' in wrong.text and 'value="2026-12-03T11:00"' in wrong.text
    step(system, s, ticket, "appointment", {"window_from": "2026-12-03T09:00",
                                            "window_to": "2026-12-03T11:00", "note": "东门登记"})
    page = s.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10).text
    assert state_of(page) == "scheduled" and "2026-12-03 09:00–11:00" in page   # Beijing time
    step(system, s, ticket, "check_in")
    step(system, s, ticket, "report", {"progress": "已拆除锈蚀檩条", "percent": "40"})
    page = s.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10).text
    assert 'value="GJ-LT-C160"' in page                            # the parts catalogue
    step(system, s, ticket, "parts", {"sku_0": "GJ-LT-C160", "quantity_0": "6", "note": "急用"})

    def request_status():
        html = s.get(system.url("console", f"/console/jobs/{ticket}"), timeout=10).text
        found = re.search(r'<li data-request="[^"]+">[^<]+<strong>([^<]+)</strong>', html)
        return found and found.group(1) != "已申请" and found.group(1)
    # parts approves (in warranty, under the limit) and reserves; dispatch records it
    assert wait_until(request_status, timeout=30, what="the parts request's status") in (
        "已批准", "已预留", "调拨在途", "缺货待采购", "已发货", "已送达")
    assert "已拆除锈蚀檩条" in page and "40%" in page

    other = assigned_ticket(system, {"serial_no": "SH-EQ-2025-0033", "model": "螺杆空压机 LG-22"})
    page = s.get(system.url("console", f"/console/jobs/{other}"), timeout=10)
    resp = s.post(system.url("console", f"/console/jobs/{other}/decline"), timeout=10,
                  data={"csrf": _csrf(page.text), "reason": "今天在嘉定处理紧急维修"},
                  allow_redirects=False)
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/jobs"
    assert f'data-ticket="{other}"' not in s.get(system.url("console", "/console/jobs"),
                                                 timeout=10).text


def test_a_form_without_its_csrf_token_does_nothing(system):
    s = login(system, "sh-engineer")
    resp = s.post(system.url("console", "/console/jobs/T-NONE/accept"), data={"csrf": "forged"},
                  timeout=10, allow_redirects=False)
    assert resp.status_code == 400
