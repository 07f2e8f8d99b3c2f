import json
import logging

import pytest

from aftersales import auth, config, logs


def test_a_key_carries_branch_and_role_and_verifies():
    k = auth.issue_key("s3cret", "SH", "engineer", "SH-E001")
    p = auth.verify_key("s3cret", k)
    assert (p.branch, p.role, p.engineer_id) == ("SH", "engineer", "SH-E001")
    assert p.can_access("SH") and not p.can_access("BJ")


def test_a_tampered_or_foreign_key_is_refused():
    k = auth.issue_key("s3cret", "SH", "agent")
    with pytest.raises(auth.AuthError):
        auth.verify_key("other-secret", k)
    prefix, body, sig = k.split(".")
    forged = auth._b64(json.dumps({"kid": "x", "branch": "HQ", "role": "admin"}).encode())
    with pytest.raises(auth.AuthError):
        auth.verify_key("s3cret", f"{prefix}.{forged}.{sig}")
    with pytest.raises(auth.AuthError):
        auth.principal_from_header("s3cret", None)
    with pytest.raises(auth.AuthError):
        auth.principal_from_header("s3cret", f"Basic {k}")


def test_hq_sees_every_branch_and_roles_are_checked():
    hq = auth.verify_key("s", auth.issue_key("s", "HQ", "manager"))
    assert hq.can_access("GZ")
    agent = auth.verify_key("s", auth.issue_key("s", "SH", "agent"))
    with pytest.raises(auth.Forbidden):
        agent.require_role("dispatcher")
    with pytest.raises(auth.Forbidden):
        agent.require_branch("BJ")
    with pytest.raises(ValueError):
        auth.issue_key("s", "SH", "engineer")   # needs an engineer id
    with pytest.raises(ValueError):
        auth.issue_key("s", "SH", "janitor")


def test_phone_numbers_and_names_are_masked():
    assert logs.mask_phone("13812345678") == "138****5678"
    assert logs.mask_name("张伟") == "张*"
    text = logs.mask_text("客户 13812345678 / 021-62345678 报修 SH-20261122-0007 于 2026-11-22")
    assert "13812345678" not in text and "62345678" not in text
    assert "SH-20261122-0007" in text and "2026-11-22" in text


def test_json_log_lines_mask_phone_numbers(capsys):
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", ("13912345678",), None)
    rec.ticket_no = "SH-20261122-0001"
    line = json.loads(logs.JsonFormatter("intake").format(rec))
    assert line["message"] == "call 139****5678"
    assert line["ticket_no"] == "SH-20261122-0001" and line["service"] == "intake"


def test_config_defaults_and_overrides():
    c = config.service_config("dispatch", env={})
    assert c["WEB_SERVER_ADDRESS"] == "127.0.0.1:8002"
    assert c["AFTERSALES"]["database_url"].endswith("/var/dispatch.db")
    c = config.service_config("parts", env={"PARTS_DATABASE_URL": "postgresql://x/parts",
                                           "AFTERSALES_RETRY_DELAYS_MS": "5,10"})
    assert c["AFTERSALES"]["database_url"] == "postgresql://x/parts"
    assert c["AFTERSALES"]["retry_delays_ms"] == [5, 10]
    with pytest.raises(ValueError):
        config.service_config("billing", env={})
    with pytest.raises(ValueError):
        config.retry_delays_ms({"AFTERSALES_RETRY_DELAYS_MS": "0"})


def test_bound_correlation_fields_reach_every_record_of_the_thread():
    import io
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("dispatch"))
    handler.addFilter(logs.ContextFilter())
    log = logging.getLogger("test.correlation")
    log.addHandler(handler)
    log.setLevel("INFO")
    try:
        logs.bind(event_id="e-1", ticket_no="SH-20261122-0001", branch="SH")
        log.info("assigned")
        logs.clear()
        log.info("idle")
    finally:
        log.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (first["event_id"], first["ticket_no"], first["branch"]) == ("e-1", "SH-20261122-0001", "SH")
    assert "event_id" not in second and "ticket_no" not in second
