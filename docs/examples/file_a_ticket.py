"""File a repair request with a client generated from intake's OpenAPI document.

    openapi-python-client generate --path docs/openapi/intake.json --meta none \
        --output-path intake_client
    AFTERSALES_KEY=$(aftersales keys issue --branch SH --role integration) \
        python docs/examples/file_a_ticket.py http://127.0.0.1:8001

Prints the ticket number intake gave the request (201), or the same number again when the
request is sent a second time (200, a duplicate of the same source and request_id)."""
from __future__ import annotations

import os
import sys
import uuid

from intake_client import AuthenticatedClient
from intake_client.api.intake import intake_post_ticket
from intake_client.models import Error, RepairRequestBody, TicketAccepted


def file_ticket(base_url: str, key: str, request_id: str | None = None) -> tuple[int, object]:
    client = AuthenticatedClient(base_url=base_url, token=key)
    body = RepairRequestBody.from_dict({
        "request_id": request_id or f"CALL-{uuid.uuid4().hex[:10]}",
        "source": "pc-shanghai",
        "branch": "SH",
        "channel": "phone",
        "received_at": "2026-11-22T09:30:00+08:00",
        "customer": {"name": "上海宝钢钢构有限公司", "contact_name": "张伟",
                     "phone": "13812345678"},
        "site": {"address": "上海市宝山区富锦路885号3号厂房", "contract_no": "HT-2019-0618"},
        "asset": {"serial_no": "SH-GJ-2019-0001", "model": "钢结构厂房主体",
                  "component": "屋面檩条"},
        "fault": {"description": "屋面檩条锈蚀，局部漏水，需要检修"},
    })
    answer = intake_post_ticket.sync_detailed(client=client, body=body)
    return int(answer.status_code), answer.parsed


if __name__ == "__main__":
    status, parsed = file_ticket(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8001",
                                 os.environ["AFTERSALES_KEY"])
    if isinstance(parsed, TicketAccepted):
        print(status, parsed.ticket_no, parsed.outcome.value, parsed.priority.value)
    elif isinstance(parsed, Error):
        print(status, parsed.error, [(e.field, e.message) for e in (parsed.errors or [])])
    else:
        print(status, parsed)
    sys.exit(0 if status in (200, 201) else 1)
