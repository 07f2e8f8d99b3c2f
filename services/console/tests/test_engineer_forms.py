"""The engineer's forms as dispatch's bodies (pure), checked against dispatch's own body
models, the steps a state offers, the job page's rendering (field errors beside their fields)
and the catalogue's engineer strings in both languages."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from services.console import i18n, web
from services.console.domain import engineer as eng
from services.dispatch import bodies as dispatch_bodies

BODY_OF = {"decline": dispatch_bodies.DeclineBody, "appointment": dispatch_bodies.ScheduleBody,
           "depart": dispatch_bodies.DepartBody, "diagnose": dispatch_bodies.DiagnoseBody,
           "parts": dispatch_bodies.PartsBody, "report": dispatch_bodies.ReportBody,
           "complete": dispatch_bodies.CompleteBody, "sign_off": dispatch_bodies.SignOffBody}


def form(**fields) -> MultiDict:
    return MultiDict(fields)


def test_the_appointment_is_the_branchs_wall_clock_with_its_offset():
    body = eng.body_for("appointment", form(window_from="2026-12-03T09:00",
                                            window_to="2026-12-03T11:30", note="  东门登记 "))
    assert body == {"window_from": "2026-12-03T09:00:00+08:00",
                    "window_to": "2026-12-03T11:30:00+08:00", "note": "东门登记"}
    BODY_OF["appointment"].model_validate(body)
    assert eng.body_for("appointment", form(window_from="tomorrow"))["window_from"] == "tomorrow"
    assert eng.body_for("depart", form(eta="")) == {}
    assert eng.body_for("depart", form(eta="2026-12-03T09:40")) == {
        "eta": "2026-12-03T09:40:00+08:00"}


def test_the_diagnosis_sends_the_void_reason_only_when_the_warranty_is_void():
    kept = eng.body_for("diagnose", form(cause="workmanship", responsibility="company",
                                         void_reason="ignored", findings=""))
    assert kept == {"cause": "workmanship", "responsibility": "company", "warranty_void": False}
    void = eng.body_for("diagnose", form(cause="misuse", responsibility="customer",
                                         warranty_void="1", void_reason="业主自行改动排水管道",
                                         findings="排水管接口被私自更换"))
    assert void == {"cause": "misuse", "responsibility": "customer", "warranty_void": True,
                    "void_reason": "业主自行改动排水管道", "findings": "排水管接口被私自更换"}
    for body in (kept, void):
        BODY_OF["diagnose"].model_validate(body)


def test_part_rows_become_lines_and_quantities_numbers():
    body = eng.body_for("parts", form(sku_0="WP-ROLL-4MM", quantity_0="3", sku_1="",
                                      quantity_1="9", sku_2="GL-SEAL", quantity_2="", note="急用"))
    assert body == {"lines": [{"sku": "WP-ROLL-4MM", "quantity": 3},
                              {"sku": "GL-SEAL", "quantity": 1}], "note": "急用"}
    BODY_OF["parts"].model_validate(body)
    odd = eng.body_for("complete", form(summary="已完工", sku_0="X", quantity_0="two"))
    assert odd == {"summary": "已完工", "parts_used": [{"sku": "X", "quantity": "two"}]}
    assert eng.body_for("parts", form())["lines"] == []       # dispatch names `lines`


def test_the_sign_off_carries_the_signature_and_a_rejection_its_reason():
    sig = "data:image/png;base64,iVBORw0KGgo="
    body = eng.body_for("sign_off", form(accepted="1", signed_by="张伟", signature=sig,
                                         reason="not sent"))
    assert body == {"accepted": True, "signed_by": "张伟", "signature": sig}
    no = eng.body_for("sign_off", form(accepted="0", reason="阳台仍有渗水", signed_by="张伟"))
    assert no == {"accepted": False, "reason": "阳台仍有渗水", "signed_by": "张伟"}
    for b in (body, no):
        BODY_OF["sign_off"].model_validate(b)


def test_report_decline_and_the_empty_steps():
    assert eng.body_for("report", form(progress="已拆除旧防水层", percent="40")) == {
        "progress": "已拆除旧防水层", "percent": 40}
    assert eng.body_for("decline", form(reason=" 今天赶不到 ")) == {"reason": "今天赶不到"}
    assert eng.body_for("accept", form(csrf="x")) == {}
    assert eng.body_for("check_in", form()) == {}
    with pytest.raises(ValidationError):
        BODY_OF["decline"].model_validate(eng.body_for("decline", form()))


def test_each_state_offers_the_steps_dispatch_takes_from_it():
    assert eng.allowed("assigned") == ["accept", "decline", "parts"]
    assert eng.allowed("accepted") == ["appointment", "depart", "check_in", "parts"]
    assert eng.allowed("en_route") == ["check_in", "parts"]
    assert eng.allowed("on_site") == ["diagnose", "parts", "report", "complete"]
    assert eng.allowed("completed") == ["sign_off"]
    assert eng.allowed("closed") == [] and eng.allowed("escalated") == []
    assert set(eng.STATES) == set(dispatch_bodies.JobStatus.__args__)
    assert set(eng.CAUSES) == set(dispatch_bodies.DiagnosisCause.__args__)


def test_open_jobs_come_first_then_the_latest_ended():
    jobs = [{"ticket_no": "A", "status": "closed", "closed_at": "2026-12-01T10:00:00Z"},
            {"ticket_no": "B", "status": "on_site", "received_at": "2026-12-02T00:00:00Z"},
            {"ticket_no": "C", "status": "closed", "closed_at": "2026-12-03T10:00:00Z"},
            {"ticket_no": "D", "status": "scheduled", "received_at": "2026-12-03T00:00:00Z",
             "appointment": {"from": "2026-12-04T01:00:00Z", "to": "2026-12-04T03:00:00Z"}}]
    assert [j["ticket_no"] for j in eng.sort_jobs(jobs)] == ["D", "B", "C", "A"]


def test_the_apis_field_names_map_to_the_forms():
    assert eng.form_field("lines.0.sku") == "sku_0"
    assert eng.form_field("parts_used.2.quantity") == "quantity_2"
    assert eng.form_field("void_reason") == "void_reason"


def _job(status: str, **extra) -> dict:
    return {"ticket_no": "SH-20261203-0001", "branch": "SH", "status": status, "priority": "B",
            "category": "fault", "engineer_id": "SH-E001", "appointment": None,
            "in_warranty": True, "chargeable": False, "diagnosis": None, "quote": None,
            "summary": None, "signed_off_at": None, "signed_by": None, "closed_at": None,
            "evidence": [], "parts_requests": [], "reports": [], **extra}


def _render(job: dict, failed=None, form_=None, lang="zh") -> str:
    request = SimpleNamespace(cookies={web.LANG_COOKIE: lang}, path="/console/jobs/x")
    user = SimpleNamespace(name="李强", role="engineer", is_hq=False)
    resp = web.render(request, "engineer/job.html", user=user, csrf="tok", job=job, info=None,
                      actions=eng.allowed(job["status"]), catalogue=[{"sku": "WP-ROLL-4MM",
                                                                      "name": "防水卷材"}],
                      can_photo=job["status"] in eng.PHOTO_STATES, failed=failed or {},
                      causes=eng.CAUSES, responsibilities=eng.RESPONSIBILITIES,
                      part_rows=range(eng.PART_ROWS), job_url="/console/jobs/SH-20261203-0001",
                      form=form_ or {})
    return resp.get_data(as_text=True)


def test_the_job_page_shows_the_errors_beside_their_fields_and_keeps_what_was_typed():
    failed = {"action": "diagnose", "status": 422, "message": "invalid request",
              "fields": {"void_reason": "is required when warranty_void"}}
    html = _render(_job("on_site"), failed, {"cause": "misuse", "void_reason": "",
                                            "findings": "排水管接口被私自更换"})
    form_html = html.split('id="form-diagnose"')[1].split("</form>")[0]
    assert '<span class="field-error" data-field="void_reason">is required when warranty_void' \
        in form_html
    assert '<option value="misuse" selected>' in form_html and "排水管接口被私自更换" in form_html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert 'id="form-accept"' not in html and "提交诊断" in html


def test_a_refused_step_whose_form_is_gone_still_shows_dispatchs_answer():
    failed = {"action": "accept", "status": 409, "message": "job is accepted, not assigned",
              "fields": {}}
    html = _render(_job("accepted"), failed)
    assert 'data-failed="accept"' in html and "job is accepted, not assigned" in html
    assert 'id="form-accept"' not in html


def test_the_sign_off_form_has_the_canvas_and_the_parts_their_status():
    html = _render(_job("completed", parts_requests=[{
        "request_id": "PR-1", "status": "backordered", "lines": [{"sku": "WP", "name": "卷材",
                                                                  "quantity": 2}],
        "expected_at": "2026-12-05T02:00:00Z", "reason": None}]), lang="en")
    assert '<canvas class="signature" data-target="signature"' in html
    assert 'name="signature" id="signature"' in html and "/console/static/signature.js" in html
    assert "Backordered" in html and "卷材 × 2" in html and "2026-12-05 10:00" in html


def test_every_engineer_string_is_in_both_languages():
    zh = {k for k in i18n.CATALOGUE["zh"] if k.startswith("engineer.")}
    en = {k for k in i18n.CATALOGUE["en"] if k.startswith("engineer.")}
    assert zh == en and len(zh) > 80
    for state in eng.STATES:
        assert f"engineer.state.{state}" in zh
    for cause in eng.CAUSES:
        assert f"engineer.cause.{cause}" in zh
