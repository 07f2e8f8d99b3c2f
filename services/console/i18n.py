"""Every string the console shows, in Chinese (the default) and English: one catalogue.
Templates call ``t("key")``; a key missing from a language is a test failure, and at run time
falls back to Chinese, then to the key itself."""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOGUE: dict[str, dict[str, str]] = {
    "zh": {
        "app.title": "售后服务平台",
        "nav.home": "首页",
        "nav.tickets": "工单",
        "nav.board": "派工看板",
        "nav.my_jobs": "我的任务",
        "nav.logout": "退出登录",
        "lang.switch": "English",
        "login.title": "登录",
        "login.login": "账号",
        "login.password": "密码",
        "login.submit": "登录",
        "login.failed": "账号或密码不正确，或账号已停用。",
        "login.expired": "页面已过期，请重试。",
        "home.title": "首页",
        "home.welcome": "欢迎，{name}",
        "home.role": "角色",
        "home.branch": "分公司",
        "home.language": "语言",
        "role.admin": "系统管理员",
        "role.manager": "售后主管",
        "role.agent": "客服",
        "role.dispatcher": "派工员",
        "role.engineer": "工程师",
        "role.warehouse": "仓管员",
        "role.qc": "质检员",
        "branch.HQ": "总部",
        "tickets.title": "工单列表",
        "tickets.filter": "筛选",
        "tickets.state": "状态",
        "tickets.priority": "优先级",
        "tickets.phone": "客户电话",
        "tickets.any": "全部",
        "tickets.ticket_no": "工单号",
        "tickets.customer": "客户",
        "tickets.category": "类别",
        "tickets.received_at": "受理时间",
        "tickets.branch": "分公司",
        "tickets.none": "没有符合条件的工单。",
        "tickets.total": "共 {total} 条",
        "error.api": "服务暂时不可用：{message}",
        "error.csrf": "表单已过期，请刷新页面后重试。",
        "error.forbidden": "您的角色无权查看此页面。",
        "state.open": "待处理",
        "state.linked": "已关联",
        "state.escalated": "已升级",
        "state.assigned": "已派工",
        "state.accepted": "已接单",
        "state.scheduled": "已预约",
        "state.en_route": "在途",
        "state.on_site": "已到场",
        "state.diagnosed": "已诊断",
        "state.quoted": "已报价",
        "state.rework": "返工",
        "state.completed": "已完工",
        "state.closed": "已关闭",
        "state.resolved": "已远程解决",
        "state.cancelled": "已取消",
        "category.emergency_repair": "紧急抢修",
        "category.fault": "故障报修",
        "category.maintenance": "维护保养",
        "category.consultation": "咨询",
        "category.parts": "配件",
        "category.training": "培训",
        "category.installation": "安装",
        "category.complaint": "投诉",
    },
    "en": {
        "app.title": "After-sales service platform",
        "nav.home": "Home",
        "nav.tickets": "Tickets",
        "nav.board": "Dispatch board",
        "nav.my_jobs": "My jobs",
        "nav.logout": "Log out",
        "lang.switch": "中文",
        "login.title": "Log in",
        "login.login": "Login",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong login or password, or the account is disabled.",
        "login.expired": "The page expired; please try again.",
        "home.title": "Home",
        "home.welcome": "Welcome, {name}",
        "home.role": "Role",
        "home.branch": "Branch",
        "home.language": "Language",
        "role.admin": "Administrator",
        "role.manager": "Service manager",
        "role.agent": "Service desk agent",
        "role.dispatcher": "Dispatcher",
        "role.engineer": "Engineer",
        "role.warehouse": "Warehouse",
        "role.qc": "Quality control",
        "branch.HQ": "Headquarters",
        "tickets.title": "Tickets",
        "tickets.filter": "Filter",
        "tickets.state": "State",
        "tickets.priority": "Priority",
        "tickets.phone": "Customer phone",
        "tickets.any": "Any",
        "tickets.ticket_no": "Ticket",
        "tickets.customer": "Customer",
        "tickets.category": "Category",
        "tickets.received_at": "Received",
        "tickets.branch": "Branch",
        "tickets.none": "No ticket matches.",
        "tickets.total": "{total} in all",
        "error.api": "A service is not available: {message}",
        "error.csrf": "The form expired; reload the page and try again.",
        "error.forbidden": "Your role may not see this page.",
        "state.open": "Open",
        "state.linked": "Linked",
        "state.escalated": "Escalated",
        "state.assigned": "Assigned",
        "state.accepted": "Accepted",
        "state.scheduled": "Scheduled",
        "state.en_route": "En route",
        "state.on_site": "On site",
        "state.diagnosed": "Diagnosed",
        "state.quoted": "Quoted",
        "state.rework": "Rework",
        "state.completed": "Completed",
        "state.closed": "Closed",
        "state.resolved": "Resolved remotely",
        "state.cancelled": "Cancelled",
        "category.emergency_repair": "Emergency repair",
        "category.fault": "Fault",
        "category.maintenance": "Maintenance",
        "category.consultation": "Consultation",
        "category.parts": "Parts",
        "category.training": "Training",
        "category.installation": "Installation",
        "category.complaint": "Complaint",
    },
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def translate(lang: str, key: str, **values) -> str:
    text = CATALOGUE[pick(lang)].get(key) or CATALOGUE[DEFAULT_LANG].get(key) or key
    return text.format(**values) if values else text

from . import i18n_engineer

for _l in LANGS: CATALOGUE[_l].update(i18n_engineer.STRINGS[_l])

from . import i18n_board  # noqa: E402  (the board's strings)
for _l in LANGS: CATALOGUE[_l].update(i18n_board.STRINGS[_l])  # noqa: E701

from . import i18n_desk  # noqa: E402
for _l in LANGS:
    CATALOGUE[_l].update(i18n_desk.STRINGS[_l])
