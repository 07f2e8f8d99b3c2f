"""The console's HTML plumbing: Jinja2 templates (``templates/``), the language and session
cookies, redirects and the static files (``static/``)."""
from __future__ import annotations

import mimetypes
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from aftersales.reference import branches, timezone_of

from . import i18n

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
LANG_COOKIE = "lang"
HOME = "/console/home"
LOGIN = "/console/login"

_env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def secure_cookies() -> bool:
    """``CONSOLE_SECURE_COOKIES=1`` behind HTTPS: the cookies are then sent over HTTPS only."""
    return os.environ.get("CONSOLE_SECURE_COOKIES", "") in ("1", "true", "yes")


def lang_of(request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE))


def local_time(value, branch: str | None) -> str:
    """An ISO-8601 instant from an API as the branch's local time, ``YYYY-MM-DD HH:MM``."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return at.astimezone(ZoneInfo(timezone_of(branch))).strftime("%Y-%m-%d %H:%M")


def branch_name(code: str, lang: str) -> str:
    if code == "HQ":
        return i18n.translate(lang, "branch.HQ")
    b = branches().get(code) or {}
    return b.get("name", code) if lang == "zh" else code


def render(request, template: str, status: int = 200, **context) -> Response:
    lang = lang_of(request)
    html = _env.get_template(template).render(
        t=lambda key, **kw: i18n.translate(lang, key, **kw), lang=lang,
        other_lang="en" if lang == "zh" else "zh", local_time=local_time,
        branch_name=lambda code: branch_name(code, lang), path=request.path, **context)
    return Response(html, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                             "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "same-origin"})


def redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location})


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None,
               http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only,
                        samesite="Lax", secure=secure_cookies())


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="Lax",
                           secure=secure_cookies())


def safe_return(target: str | None) -> str:
    """A local path to go back to (never another site)."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console"


def static_file(name: str) -> Response:
    path = (STATIC / name).resolve()
    if STATIC not in path.parents or not path.is_file():
        return Response("not found", status=404, content_type="text/plain; charset=utf-8")
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    return Response(path.read_bytes(), status=200, content_type=ctype,
                    headers={"Cache-Control": "public, max-age=3600",
                             "X-Content-Type-Options": "nosniff"})
