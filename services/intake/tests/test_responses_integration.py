"""Every answer of intake's routes is what its OpenAPI document says (the response models of
:mod:`services.intake.responses`, which forbid an undescribed field), over HTTP against the
real broker and database."""
import pytest

from services.intake import responses
from tests.support.data import repair_request
from tests.support.fixtures import auth

pytestmark = pytest.mark.integration


def test_each_route_answers_its_documented_model(services, http):
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")

    def post(path, body, status=200):
        r = http.post(url + path, json=body, headers=auth("SH", "agent"))
        assert r.status_code == status, r.text
        return r.json()

    body = repair_request()
    opened = responses.TicketAccepted.model_validate(post("", body, 201))
    assert responses.TicketAccepted.model_validate(post("", body)).outcome == "duplicate"
    linked = post("", repair_request(fault={"description": "同一厂房屋面又有一处漏水"}), 201)
    assert linked["linked_to"] == opened.ticket_no
    t = opened.ticket_no

    responses.ContactRecorded.model_validate(
        post(f"/{t}/contact", {"channel": "wechat", "note": "已微信联系张伟先生"}))
    responses.Reclassified.model_validate(
        post(f"/{t}/classification", {"category": "emergency_repair", "reason": "现场停产"}))
    responses.TicketStatus.model_validate(post(f"/{linked['ticket_no']}/split",
                                               {"reason": "不同位置，需单独派工"}))
    responses.TicketStatus.model_validate(post(f"/{t}/resolve", {"resolution": "远程指导处理"}))
    other = post("", repair_request(asset=None), 201)["ticket_no"]
    responses.TicketStatus.model_validate(post(f"/{other}/cancel", {"reason": "客户取消"}))

    view = http.get(f"{url}/{t}", headers=auth("SH"))
    assert view.status_code == 200, view.text
    ticket = responses.TicketView.model_validate(view.json())
    assert [e.type for e in ticket.timeline][:3] == ["ticket_opened", "ticket_linked",
                                                    "customer_contacted"]
    listed = http.get(url, params={"per_page": 2}, headers=auth("HQ"))
    assert responses.TicketList.model_validate(listed.json()).total == 3


def test_a_day_beyond_the_range_is_a_422_naming_it_not_a_500(services, http):
    """Regression (were 500s: the day after 9999-12-31 overflows, and so does 0001-01-01 at
    midnight in Shanghai turned into UTC)."""
    services.start("intake")
    url = services.url("intake", "/api/v1/tickets")
    for name, day in (("to", "9999-12-31"), ("from", "0001-01-01")):
        r = http.get(url, params={name: day}, headers=auth("HQ"))
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [name], r.text
    assert http.get(url, params={"from": "1900-01-01", "to": "9998-12-31"},
                    headers=auth("HQ")).status_code == 200
