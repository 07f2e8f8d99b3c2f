"""The engineer's pages' strings (``engineer.`` keys), merged into the catalogue by i18n.py."""
from __future__ import annotations

_ZH = {
    "jobs_title": "我的任务", "no_jobs": "目前没有派给您的任务。",
    "not_found": "没有这个任务，或它不属于您。", "unavailable": "派工服务暂时不可用，请稍后重试。",
    "photo_missing": "请选择或拍摄一张照片。", "back": "我的任务", "priority": "{p} 级",
    "appointment": "预约", "site": "现场地址", "fault": "故障描述", "warranty": "保修",
    "warranty_unknown": "设备未登记（按保内处理）", "in_warranty": "保内",
    "out_of_warranty": "保外", "chargeable": "收费", "diagnosis": "诊断",
    "warranty_void": "保修失效", "quote": "报价", "quote_approved": "客户已同意",
    "summary": "完工说明", "signed_off": "客户验收", "closed_at": "关闭时间",
    "evidence": "照片与签字", "kind.photo": "现场照片", "kind.signature": "客户签字",
    "parts_requests": "备件申请", "expected_at": "预计到货", "reports": "进度日报",
    "actions": "操作", "failed": "操作未成功（{status}）：{message}",
    "do.accept": "接单", "do.decline": "拒单", "do.depart": "出发", "do.check_in": "到场签到",
    "do.appointment": "预约上门时间", "do.diagnose": "提交诊断", "do.photo": "上传照片",
    "do.parts": "申请备件", "do.report": "提交进度日报", "do.complete": "完工",
    "do.sign_off": "客户验收签字",
    "reason": "原因", "eta": "预计到达时间（可不填）", "window_from": "开始时间",
    "window_to": "结束时间", "note": "备注", "cause": "原因类别", "responsibility": "责任方",
    "void_reason": "保修失效原因（勾选时必填）", "findings": "检查发现", "photo": "照片",
    "caption": "说明", "part": "备件", "quantity": "数量", "progress": "今日进展",
    "percent": "完成百分比", "parts_used": "已使用的备件", "signed_by": "签字人姓名",
    "sign_here": "请客户在下框内签字：", "clear": "重签", "accepted_q": "验收结果",
    "accepted_yes": "验收通过", "accepted_no": "不通过（返工）",
    "reject_reason": "不通过的原因（不通过时必填）",
    "resp.company": "本公司", "resp.supplier": "供应商", "resp.customer": "客户",
    "resp.third_party": "第三方", "resp.none": "无",
}
_EN = {
    "jobs_title": "My jobs", "no_jobs": "No job is assigned to you.",
    "not_found": "No such job, or it is not yours.",
    "unavailable": "Dispatch is not available; please try again later.",
    "photo_missing": "Choose or take a photo.", "back": "My jobs", "priority": "Priority {p}",
    "appointment": "Appointment", "site": "Site", "fault": "Fault", "warranty": "Warranty",
    "warranty_unknown": "Asset not registered (treated as covered)",
    "in_warranty": "In warranty", "out_of_warranty": "Out of warranty",
    "chargeable": "chargeable", "diagnosis": "Diagnosis", "warranty_void": "Warranty void",
    "quote": "Quote", "quote_approved": "approved by the customer", "summary": "Work done",
    "signed_off": "Signed off", "closed_at": "Closed", "evidence": "Photos and signature",
    "kind.photo": "Site photo", "kind.signature": "Customer's signature",
    "parts_requests": "Parts requests", "expected_at": "Expected", "reports": "Progress reports",
    "actions": "Actions", "failed": "Not done ({status}): {message}",
    "do.accept": "Accept", "do.decline": "Decline", "do.depart": "Set out",
    "do.check_in": "Check in on site", "do.appointment": "Set the appointment",
    "do.diagnose": "Record the diagnosis", "do.photo": "Upload a photo",
    "do.parts": "Request parts", "do.report": "Send the progress report",
    "do.complete": "Complete", "do.sign_off": "Customer sign-off",
    "reason": "Reason", "eta": "Expected arrival (optional)", "window_from": "From",
    "window_to": "To", "note": "Note", "cause": "Cause", "responsibility": "Responsibility",
    "void_reason": "Why the warranty is void (needed when ticked)", "findings": "Findings",
    "photo": "Photo", "caption": "Caption", "part": "Part", "quantity": "Quantity",
    "progress": "Progress today", "percent": "Percent done", "parts_used": "Parts used",
    "signed_by": "Signer's name", "sign_here": "The customer signs in the box below:",
    "clear": "Clear", "accepted_q": "Outcome", "accepted_yes": "Accepted",
    "accepted_no": "Rejected (rework)", "reject_reason": "Why it is rejected (needed then)",
    "resp.company": "Our company", "resp.supplier": "Supplier", "resp.customer": "Customer",
    "resp.third_party": "Third party", "resp.none": "None",
}
_STATES = {
    "assigned": ("待接单", "Assigned"), "escalated": ("已升级", "Escalated"),
    "accepted": ("已接单", "Accepted"), "scheduled": ("已预约", "Scheduled"),
    "en_route": ("在途", "En route"), "on_site": ("已到场", "On site"),
    "diagnosed": ("已诊断", "Diagnosed"), "quoted": ("已报价", "Quoted"),
    "in_progress": ("施工中", "In progress"), "completed": ("已完工待验收", "Completed"),
    "rework": ("返工", "Rework"), "closed": ("已关闭", "Closed"),
    "cancelled": ("已取消", "Cancelled"),
}
_CAUSES = {
    "design": ("设计", "Design"), "material": ("材料", "Material"),
    "workmanship": ("施工质量", "Workmanship"), "installation": ("安装", "Installation"),
    "misuse": ("使用不当", "Misuse"), "environment": ("环境因素", "Environment"),
    "force_majeure": ("不可抗力", "Force majeure"),
}
_PARTS = {
    "requested": ("已申请", "Requested"), "approved": ("已批准", "Approved"),
    "rejected": ("已驳回", "Rejected"), "reserved": ("已预留", "Reserved"),
    "in_transit": ("调拨在途", "In transit"), "backordered": ("缺货待采购", "Backordered"),
    "shipped": ("已发货", "Shipped"), "delivered": ("已送达", "Delivered"),
}


def _catalogue(i: int, base: dict) -> dict:
    out = {f"engineer.{k}": v for k, v in base.items()}
    for prefix, table in (("state", _STATES), ("cause", _CAUSES), ("parts_status", _PARTS)):
        out.update({f"engineer.{prefix}.{k}": v[i] for k, v in table.items()})
    return out


STRINGS = {"zh": _catalogue(0, _ZH), "en": _catalogue(1, _EN)}
