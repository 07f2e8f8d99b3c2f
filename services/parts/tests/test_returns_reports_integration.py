"""Returns of faulty parts (RMA) through QC, defect statistics per model, and the monthly
parts ledger (JSON and CSV), against the real broker and database (SQLite and PostgreSQL)."""
import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.clock import utcnow

from .support import call, consumed, of, stock, ticket

pytestmark = pytest.mark.integration

QC = ("HQ", "qc")
ENGINEER = ("SH", "engineer", "E-SH-007")


def open_return(http, services, sku="DQ-DL-NXB63", serial="NXB-2019-0042",
                model="配电柜 GGD-2", fault="触点烧蚀，跳闸后无法合闸", ticket_no=None, key=ENGINEER,
                expect=201):
    return call(http, services, "POST", "/api/v1/returns", key=key, expect=expect, json={
        "ticket_no": ticket_no or ticket(), "sku": sku, "serial_no": serial, "model": model,
        "fault": fault}).json()


def inspect(http, services, return_id, decision, note=None, key=QC, expect=200):
    return call(http, services, "POST", f"/api/v1/returns/{return_id}/inspect", key=key,
                json={"decision": decision, "note": note}, expect=expect).json()


def test_a_returned_part_is_repaired_and_restocked_by_qc(services, watcher, http):
    services.start("parts")
    sku = "DQ-DL-NXB63"
    before = stock(http, services)[sku]["on_hand"]
    ticket_no = ticket()
    r = open_return(http, services, ticket_no=ticket_no)
    assert r["status"] == "awaiting_inspection" and r["branch"] == "SH"
    [received] = watcher.of_type("part_return_received", return_id=r["return_id"])
    assert received["ticket_no"] == ticket_no and received["branch"] == "SH"
    assert received["data"]["serial_no"] == "NXB-2019-0042"
    assert received["data"]["fault"] == "触点烧蚀，跳闸后无法合闸"
    assert stock(http, services)[sku]["on_hand"] == before       # faulty: not stock

    inspect(http, services, r["return_id"], "repaired_and_restocked", key=ENGINEER, expect=403)
    done = inspect(http, services, r["return_id"], "repaired_and_restocked", "更换触点后测试合格")
    assert done["status"] == "inspected" and done["inspected_by"] == f"{QC[0]}-qc"   # the key's subject
    [inspected] = watcher.of_type("part_return_inspected", return_id=r["return_id"])
    assert inspected["data"]["decision"] == "repaired_and_restocked"
    assert inspected["data"]["note"] == "更换触点后测试合格"
    assert stock(http, services)[sku]["on_hand"] == before + 1
    [entry] = call(http, services, "GET", "/api/v1/ledger", key=("SH", "warehouse"),
                   params={"ticket_no": ticket_no}, expect=200).json()["entries"]
    assert (entry["kind"], entry["quantity"], entry["serial_no"], entry["ref"]) == \
        ("return", 1, "NXB-2019-0042", r["return_id"])
    inspect(http, services, r["return_id"], "scrapped", expect=409)   # decided once
    assert not of(watcher, "design_defect_reported")


def test_design_defect_is_reported_for_rnd_and_scrap_moves_no_stock(services, watcher, http):
    services.start("parts")
    sku = "DQ-DL-NXB63"
    before = stock(http, services)[sku]["on_hand"]
    defect = open_return(http, services, serial="NXB-2020-0007")
    inspect(http, services, defect["return_id"], "design_defect", "灭弧罩设计间隙过小，批量性问题")
    [report] = watcher.of_type("design_defect_reported", return_id=defect["return_id"])
    assert {k: report["data"][k] for k in ("sku", "serial_no", "model", "fault", "finding")} == {
        "sku": sku, "serial_no": "NXB-2020-0007", "model": "配电柜 GGD-2",
        "fault": "触点烧蚀，跳闸后无法合闸", "finding": "灭弧罩设计间隙过小，批量性问题"}
    watcher.of_type("part_return_inspected", return_id=defect["return_id"],
                    decision="design_defect")

    scrapped = open_return(http, services, fault="外壳开裂", key=("SH", "warehouse"))
    inspect(http, services, scrapped["return_id"], "scrapped")
    watcher.of_type("part_return_inspected", return_id=scrapped["return_id"], decision="scrapped")
    assert stock(http, services)[sku]["on_hand"] == before

    open_return(http, services, sku="JX-KY-LX37", model="螺杆空压机 LG-22", fault="滤芯堵塞",
                serial=None, key=("HZ", "engineer", "E-HZ-1"))
    inspect(http, services, "RMA-NOPE", "scrapped", expect=404)
    open_return(http, services, sku="NOPE", expect=422)
    call(http, services, "POST", "/api/v1/returns", key=ENGINEER, expect=422,
         json={"sku": sku, "model": "", "fault": "x"})
    call(http, services, "POST", "/api/v1/returns", key=("SH", "agent"), expect=403,
         json={"sku": sku, "model": "m", "fault": "x"})

    report = call(http, services, "GET", "/api/v1/reports/defects", key=QC, expect=200).json()
    assert report["returns"] == 3
    ggd, lg = report["models"]
    assert (ggd["model"], ggd["returns"], ggd["design_defects"]) == ("配电柜 GGD-2", 2, 1)
    assert ggd["decisions"] == {"repaired_and_restocked": 0, "scrapped": 1, "design_defect": 1}
    assert ggd["design_defect_faults"] == [{"fault": "触点烧蚀，跳闸后无法合闸", "count": 1}]
    assert (lg["model"], lg["awaiting_inspection"]) == ("螺杆空压机 LG-22", 1)
    sh = call(http, services, "GET", "/api/v1/reports/defects", key=("SH", "manager"),
              expect=200).json()
    assert sh["branch"] == "SH" and [m["model"] for m in sh["models"]] == ["配电柜 GGD-2"]
    one = call(http, services, "GET", "/api/v1/reports/defects", key=QC,
               params={"model": "螺杆空压机 LG-22"}, expect=200).json()
    assert one["returns"] == 1
    future = call(http, services, "GET", "/api/v1/reports/defects", key=QC,
                  params={"since": "2099-01-01"}, expect=200).json()
    assert future["returns"] == 0
    call(http, services, "GET", "/api/v1/reports/defects", key=QC, params={"since": "soon"},
         expect=422)
    waiting = call(http, services, "GET", "/api/v1/returns", key=QC,
                   params={"status": "awaiting_inspection"}, expect=200).json()["returns"]
    assert [w["model"] for w in waiting] == ["螺杆空压机 LG-22"]


def this_month() -> str:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def test_monthly_parts_ledger_as_json_and_csv(services, watcher, http, clock):
    clock.run_from(datetime(2026, 12, 1, 7, 45, tzinfo=ZoneInfo("Asia/Shanghai")))
    services.start("parts")
    sku = "DQ-JC-CJX2"                                    # 30 received as opening stock
    call(http, services, "POST", "/api/v1/stock/movements", key=("SH", "warehouse"),
         json={"kind": "receive", "sku": sku, "quantity": 5}, expect=201)
    consumed(watcher, services, ticket(), [{"sku": sku, "quantity": 2}])
    call(http, services, "POST", "/api/v1/stock/movements", key=("SH", "warehouse"),
         json={"kind": "stocktake", "sku": sku, "counted": 32}, expect=201)

    month = this_month()
    report = call(http, services, "GET", "/api/v1/reports/ledger", key=("SH", "manager"),
                  params={"branch": "SH", "month": month}, expect=200).json()
    assert (report["branch"], report["month"], report["currency"]) == ("SH", month, "CNY")
    assert report["branch_name"] == "上海分公司"
    lines = {line["sku"]: line for line in report["lines"]}
    assert len(lines) == 8
    line = lines[sku]
    assert {k: line[k] for k in ("opening", "received", "consumed", "adjusted", "closing",
                                 "consumed_value", "closing_value")} == {
        "opening": 0, "received": 35, "consumed": 2, "adjusted": -1, "closing": 32,
        "consumed_value": "110.00", "closing_value": "1760.00"}
    assert line["closing"] == stock(http, services)[sku]["on_hand"]
    assert [m["kind"] for m in report["movements"] if m["sku"] == sku] == \
        ["receive", "receive", "consume", "adjust"]

    r = call(http, services, "GET", "/api/v1/reports/ledger", key=("SH", "manager"),
             params={"branch": "SH", "month": month, "format": "csv"}, expect=200)
    assert r.headers["Content-Type"].startswith("text/csv")
    assert f"parts-ledger-SH-{month}.csv" in r.headers["Content-Disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    row = next(row for row in rows if row["sku"] == sku)
    assert (row["name"], row["opening"], row["received"], row["consumed"], row["closing"]) == \
        ("交流接触器 CJX2-3210 220V", "0", "35", "2", "32")
    assert len(rows) == 8

    start = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).replace(day=1) - timedelta(days=1)
    earlier = call(http, services, "GET", "/api/v1/reports/ledger", key=("SH", "manager"),
                   params={"month": start.strftime("%Y-%m")}, expect=200).json()
    assert earlier["lines"] == [] and earlier["movements"] == []
    for params, field in (({"month": "2026-13"}, "month"), ({}, "month"),
                          ({"month": month, "format": "xml"}, "format")):
        r = call(http, services, "GET", "/api/v1/reports/ledger", key=("SH", "manager"),
                 params=params, expect=422).json()
        assert r["errors"][0]["field"] == field
    call(http, services, "GET", "/api/v1/reports/ledger", key=("HZ", "manager"),
         params={"branch": "SH", "month": month, "format": "csv"}, expect=403)


def test_catalogue_lists_parts_by_compatible_model(services, http):
    services.start("parts")
    r = call(http, services, "GET", "/api/v1/catalogue", params={"model": "螺杆空压机 LG-22"},
             expect=200).json()
    assert [p["sku"] for p in r["parts"]] == ["JX-KY-LX37", "JX-ZC-6308"]
    assert r["parts"][0]["lead_time_days"] == 21 and r["parts"][0]["price"] == "320.00"
    assert len(call(http, services, "GET", "/api/v1/catalogue", expect=200).json()["parts"]) == 8
