"""Structured JSON logs with personal data masked.

Every record is one JSON line with ``service``, ``level``, ``logger``, ``message`` and, when
the worker handles an event, ``event_id`` and ``ticket_no`` for correlation. Phone numbers,
e-mail addresses and customer names never reach a log in full: :func:`mask_phone` /
:func:`mask_email` / :func:`mask_name`, and a filter that masks phone-like digit runs and
e-mail addresses in every message. Database engines hide bound parameters from their error
texts (``aftersales/db.py``), so a failed INSERT does not carry a customer's name either.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import threading

# Chinese mobile and landline numbers, optionally with +86; not ticket numbers or dates
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RUN = re.compile(r"(?<![\w-])((?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8}))(?!\w)")


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 8:       # 13812345678 -> 138****5678
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def mask_email(email: str | None) -> str:
    """``zhang@example.com`` -> ``z***@example.com``."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_name(email)


def mask_text(text: str) -> str:
    """Mask every phone-number-like run of digits and every e-mail address in free text."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_RUN.sub(lambda m: mask_phone(m.group(1)), text)


_context = threading.local()   # green-thread local under eventlet.monkey_patch()
CONTEXT_KEYS = ("event_id", "ticket_no", "branch")


def bind(**values) -> None:
    """Attach correlation fields (``event_id``, ``ticket_no``, ``branch``) to every log record
    of the current (green) thread until :func:`clear`."""
    for key, value in values.items():
        if key in CONTEXT_KEYS and value:
            setattr(_context, key, value)


def clear() -> None:
    for key in CONTEXT_KEYS:
        if hasattr(_context, key):
            delattr(_context, key)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key in CONTEXT_KEYS:
            if getattr(record, key, None) is None and hasattr(_context, key):
                setattr(record, key, getattr(_context, key))
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "service": self.service,
            "logger": record.name, "message": mask_text(record.getMessage()),
        }
        for key in ("event_id", "ticket_no", "branch"):
            val = getattr(record, key, None)
            if val:
                doc[key] = val
        if record.exc_info:
            doc["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


def configure(service: str, level: str = "INFO", fmt: str = "json") -> None:
    import logging.config  # noqa: F401
    import time
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter = JsonFormatter(service)
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(lambda r: setattr(r, "msg", mask_text(r.getMessage())) or setattr(r, "args", ()) or True)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("amqp", "kombu", "nameko", "alembic"):
        logging.getLogger(noisy).setLevel("WARNING")
