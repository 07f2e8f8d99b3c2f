"""A job's evidence over HTTP, against the real broker and database (SQLite and PostgreSQL):
the engineer's photos (multipart from a phone's form, or the raw body from curl) listed and
downloaded by the job's branch and HQ only, refused by content and by size naming the field,
referenced from job_diagnosed; the customer's signature at the sign-off kept as evidence and
referenced from job_closed as published from the outbox."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

import pytest

from services.dispatch.tests.test_dispatch_integration import publish, ticket_opened
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01\x02" * 300
SIGNATURE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"sig" * 200
LIMIT = 64 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_photos_and_the_signature_are_kept_scoped_to_the_branch_and_referenced(
        services, watcher, http, tmp_path):
    store_dir = tmp_path / "evidence"
    services.start("dispatch", evidence_dir=str(store_dir), evidence_max_bytes=LIMIT)
    now = datetime.now(timezone.utc)
    ticket_no = f"SH-{now:%Y%m%d}-9301"
    publish(services.broker_uri, ticket_opened(ticket_no, received_at=now.isoformat()))
    [assigned] = watcher.of_type("engineer_assigned", ticket_no=ticket_no)
    me = auth("SH", "engineer", assigned["data"]["engineer_id"])
    url = lambda path="": services.url("dispatch", f"/api/v1/jobs/{ticket_no}{path}")  # noqa: E731

    def step(action, body=None, key=me, expect=200):
        r = http.post(url(f"/{action}"), json=body or {}, headers=key)
        assert r.status_code == expect, f"{action}: {r.status_code} {r.text}"
        return r.json()

    step("accept")
    step("check-in")

    # a phone's form (multipart), then the same bytes again, then curl's raw body
    form = {"caption": "卫生间防水层收口开裂", "taken_at": "2026-12-03T10:15:00+08:00"}
    r = http.post(url("/photos"), files={"photo": ("IMG_0001.jpg", JPEG, "image/jpeg")},
                  data=form, headers=me)
    assert r.status_code == 201, r.text
    photo = r.json()
    assert (photo["kind"], photo["sha256"], photo["content_type"], photo["size"]) == (
        "photo", sha(JPEG), "image/jpeg", len(JPEG))
    assert photo["caption"] == form["caption"] and photo["taken_at"].startswith("2026-12-03T02:15")
    assert photo["uploaded_by"] == assigned["data"]["engineer_id"]
    r = http.post(url("/photos"), files={"photo": ("again.jpg", JPEG, "image/jpeg")}, headers=me)
    assert r.status_code == 200 and r.json()["sha256"] == sha(JPEG)
    r = http.post(url("/photos?caption=楼下天花板渗水"), data=PNG,
                  headers={**me, "Content-Type": "application/octet-stream"})
    assert r.status_code == 201 and r.json()["content_type"] == "image/png", r.text

    # refused by content (a text file named .jpg), by size (naming the limit), by field
    r = http.post(url("/photos"), headers=me,
                  files={"photo": ("site.jpg", b"just some text, not a photo", "image/jpeg")})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "photo" and "JPEG, PNG or WebP" in r.text
    big = JPEG + b"\0" * LIMIT
    for kw in ({"files": {"photo": ("big.jpg", big, "image/jpeg")}}, {"data": big}):
        r = http.post(url("/photos"), headers=me, **kw)
        assert r.status_code == 413, r.text
        assert r.json()["errors"][0]["field"] == "photo" and str(LIMIT) in r.text
    r = http.post(url("/photos"), files={"picture": ("x.jpg", JPEG, "image/jpeg")}, headers=me)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "photo"
    r = http.post(url("/photos?taken_at=yesterday"), data=PNG, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "taken_at"

    # another branch sees nothing; an engineer not on the job may not add to it
    for role in ("dispatcher", "manager", "agent"):
        bj = auth("BJ", role)
        assert http.get(url("/evidence"), headers=bj).status_code == 404
        r = http.get(url(f"/evidence/{sha(JPEG)}"), headers=bj)
        assert r.status_code == 404 and JPEG not in r.content
    assert http.post(url("/photos"), data=PNG, headers=auth("BJ", "dispatcher")).status_code == 404
    r = http.post(url("/photos"), data=PNG, headers=auth("SH", "engineer", "SH-E999"))
    assert r.status_code == 403
    assert http.post(url("/photos"), data=PNG, headers=auth("SH", "agent")).status_code == 403
    assert http.get(url(f"/evidence/{sha(JPEG)}")).status_code == 401

    # the branch and HQ list and download
    listed = http.get(url("/evidence"), headers=auth("SH", "dispatcher")).json()
    assert [(e["kind"], e["sha256"]) for e in listed["evidence"]] == [
        ("photo", sha(JPEG)), ("photo", sha(PNG))] and listed["count"] == 2
    for key in (auth("SH", "agent"), auth("HQ", "manager"), me):
        r = http.get(url(f"/evidence/{sha(JPEG)}"), headers=key)
        assert r.status_code == 200 and r.content == JPEG
        assert r.headers["Content-Type"] == "image/jpeg"
        assert r.headers["Cache-Control"].startswith("private")
    r = http.get(url(f"/evidence/{sha(JPEG)}"),
                 headers={**me, "If-None-Match": f'"{sha(JPEG)}"'})
    assert r.status_code == 304 and not r.content
    assert http.get(url(f"/evidence/{'0' * 64}"), headers=me).status_code == 404
    assert http.get(url("/evidence/not-a-hash"), headers=me).status_code == 404

    # the diagnosis references the photos
    step("diagnosis", {"cause": "workmanship", "responsibility": "施工单位"})
    [diag] = watcher.of_type("job_diagnosed", ticket_no=ticket_no)
    assert diag["data"]["photos"] == [
        {"sha256": sha(JPEG), "content_type": "image/jpeg", "size": len(JPEG)},
        {"sha256": sha(PNG), "content_type": "image/png", "size": len(PNG)}]

    # the sign-off: a signature that is no image changes nothing; then the real one
    step("complete", {"summary": "重做卫生间防水层收口，闭水试验 48 小时无渗漏"})
    r = step("sign-off", {"accepted": True, "signed_by": "张伟",
                          "signature": data_url(b"<svg>not a png</svg>")}, expect=400)
    assert r["errors"][0]["field"] == "signature"
    assert step("sign-off", {"accepted": True, "signature": data_url(SIGNATURE)},
                expect=422)["errors"][0]["field"] == "signed_by"
    job = step("sign-off", {"accepted": True, "signed_by": "张伟",
                            "signature": data_url(SIGNATURE)})
    assert (job["status"], job["signed_by"]) == ("closed", "张伟")
    [closed] = watcher.of_type("job_closed", ticket_no=ticket_no)
    assert closed["data"]["signed_by"] == "张伟"
    assert closed["data"]["signature"] == {"sha256": sha(SIGNATURE), "content_type": "image/png",
                                           "signed_by": "张伟"}
    assert [p["sha256"] for p in closed["data"]["photos"]] == [sha(JPEG), sha(PNG)]
    assert "base64" not in str(closed) and len(str(closed)) < 4000      # references, no bytes

    detail = http.get(url(), headers=auth("SH", "agent")).json()
    assert detail["signed_by"] == "张伟"
    [sig] = [e for e in detail["evidence"] if e["kind"] == "signature"]
    assert (sig["sha256"], sig["signed_by"], sig["size"]) == (sha(SIGNATURE), "张伟",
                                                              len(SIGNATURE))
    r = http.get(url(f"/evidence/{sha(SIGNATURE)}"), headers=auth("SH", "agent"))
    assert r.status_code == 200 and r.content == SIGNATURE
    assert http.get(url(f"/evidence/{sha(SIGNATURE)}"),
                    headers=auth("BJ", "agent")).status_code == 404
    # closed: no more photos; on disk each image once, named by its hash
    assert http.post(url("/photos"), data=JPEG, headers=me).status_code == 409
    files = sorted(p.name for p in store_dir.rglob("*") if p.is_file())
    assert files == sorted({sha(JPEG), sha(PNG), sha(SIGNATURE)})
