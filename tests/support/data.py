"""Realistic test requests (Chinese names and addresses)."""
from __future__ import annotations

import uuid


def repair_request(**overrides) -> dict:
    body = {
        "request_id": f"CALL-{uuid.uuid4().hex[:10]}",
        "source": "pc-shanghai",
        "branch": "SH",
        "channel": "phone",
        "received_at": "2026-11-22T09:30:00+08:00",
        "customer": {"name": "上海宝钢钢构有限公司", "contact_name": "张伟",
                     "phone": "13812345678", "email": "zhangwei@example.cn"},
        "site": {"address": "上海市宝山区富锦路885号3号厂房", "project": "宝山物流园三期厂房",
                 "contract_no": "HT-2019-0618"},
        "asset": {"serial_no": "SH-GJ-2019-0001", "model": "钢结构厂房主体",
                  "component": "屋面檩条"},
        "fault": {"description": "屋面檩条锈蚀，局部漏水，需要检修"},
    }
    for k, v in overrides.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def ticket_opened(ticket_no, branch="SH", category="fault", priority="C", at=None,
                  warranty="in_warranty", **req):
    """Intake's ``ticket_opened`` for ``ticket_no`` (``warranty``: its warranty status)."""
    from aftersales.outbox import make_envelope
    body = repair_request(branch=branch, **req)
    return make_envelope("intake", "ticket_opened", {
        "ticket_no": ticket_no, "request_id": body["request_id"], "source": body["source"],
        "channel": body["channel"], "received_at": body["received_at"], "priority": priority,
        "category": category, "needs_visit": category != "complaint",
        "customer": body["customer"], "site": body["site"], "asset": body["asset"],
        "fault": {**body["fault"], "category": category},
        "warranty": {"status": warranty}}, ticket_no=ticket_no, branch=branch,
        occurred_at=at)
