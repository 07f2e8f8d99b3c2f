"""Configuration from the environment, with defaults that work on a developer's machine.

| variable | default |
|---|---|
| ``AMQP_URI`` | ``pyamqp://guest:guest@127.0.0.1:5672//`` |
| ``AFTERSALES_VAR_DIR`` | ``./var`` (SQLite files, pid files, logs) |
| ``<SERVICE>_DATABASE_URL`` | ``sqlite:///<var>/<service>.db``; a ``postgresql://`` URL switches to PostgreSQL |
| ``<SERVICE>_HTTP`` | ``127.0.0.1:8001`` … ``8005`` (intake, dispatch, parts, feedback, console) |
| ``AFTERSALES_MODE`` | ``production``: a service refuses to start without a good ``AFTERSALES_SECRET``; ``development`` (``make run``, tests) falls back to the public development secret |
| ``AFTERSALES_SECRET`` | signs API keys; in production required, at least 32 characters, not a published value |
| ``AFTERSALES_SECRET_PREVIOUS`` | empty; during a secret rotation, keys signed with this one still verify |
| ``AFTERSALES_KEY_DEFAULT_EXPIRY`` | ``90d``: lifetime of a key issued without ``--expires`` |
| ``AFTERSALES_KEY_MAX_EXPIRY`` | ``365d``: the longest lifetime a key may be issued with (and still verifies with) |
| ``AFTERSALES_RETRY_DELAYS_MS`` | ``1000,10000,60000``: one retry per delay, then the message is parked |
| ``AFTERSALES_DELIVERY_LIMIT`` | ``20``: a message delivered (and given back) this often is dead-lettered to its service's parking queue by the broker (quorum queues' ``x-delivery-limit``, the last guard against poison messages) |
| ``AFTERSALES_RELAY_INTERVAL`` | ``1.0`` seconds between outbox polls (the relay is also woken on commit) |
| ``AFTERSALES_MAX_WORKERS`` | ``10`` concurrent workers per service |
| ``AFTERSALES_MESSAGE_WORKERS`` | ``max_workers - max(2, max_workers // 3)`` (``7`` of 10): at most this many messages handled at once (also the prefetch); the rest of the pool is kept for HTTP and timers |
| ``AFTERSALES_TRANSIENT_BACKOFF_MAX`` | ``30`` seconds: the longest wait between two tries of a message that failed transiently (database or broker unreachable) |
| ``AFTERSALES_OUTBOX_MAX_ATTEMPTS`` | ``30``: an outbox row the broker refused this often is parked (``aftersales outbox list``) |
| ``AFTERSALES_OUTBOX_RETENTION_HOURS`` | ``168``: sent outbox rows are deleted after this |
| ``AFTERSALES_INBOX_RETENTION_HOURS`` | ``336``: processed event ids are forgotten after this (the duplicate window) |
| ``AFTERSALES_HEARTBEAT`` | ``30`` seconds: AMQP heartbeat of every broker connection |
| ``AFTERSALES_LOG_FORMAT`` | ``json`` (or ``text``) |
| ``INTAKE_RECEIVED_MAX_AGE_DAYS`` | ``365``: a request whose ``received_at`` is older than this is refused (docs/intake.md, Limits) |
| ``FEEDBACK_SURVEY_VALID_DAYS`` | ``14``: days a survey link stays open |
| ``FEEDBACK_SURVEY_REMINDER_DAYS`` | ``3,7``: days after issue when an unanswered survey is reminded |
| ``FEEDBACK_VISIT_MONTHS`` | ``1,3,6``: months after completion when a return visit is due |
| ``FEEDBACK_SCAN_INTERVAL`` | ``60`` seconds between feedback's scheduler passes (reminders, expiry, escalation, plans) |
| ``DISPATCH_SLA_POLICY`` | empty: an SLA policy override (JSON text or a JSON file's path; see docs/sla.md) |
| ``DISPATCH_SLA_TIMER_INTERVAL`` | ``1.0`` seconds between scans for due SLA clocks, acceptance timeouts and missing reports |
| ``DISPATCH_ACCEPT_TIMEOUT_MINUTES`` | ``30``: an assigned job not accepted within this is reassigned |
| ``DISPATCH_REPORT_INTERVAL_HOURS`` | ``24``: a job on site without a progress report for this long raises a reminder |
| ``DISPATCH_EVIDENCE_DIR`` | empty: ``evidence/`` beside dispatch's SQLite file (``<var>/evidence``), or ``<var>/evidence`` on PostgreSQL: where dispatch keeps the jobs' photos and signatures (by SHA-256; docs/dispatch.md#evidence) |
| ``DISPATCH_EVIDENCE_MAX_BYTES`` | ``8388608`` (8 MiB): the largest photo or signature image accepted |
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORTS = {"intake": 8001, "dispatch": 8002, "parts": 8003, "feedback": 8004,
                 "console": 8005}
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672//"
DEV_SECRET = "aftersales-development-secret-change-me"
MODES = ("production", "development")
MIN_SECRET_LENGTH = 32
# Values published in this repository or commonly used as placeholders: never a production secret.
KNOWN_SECRETS = frozenset({DEV_SECRET, "change-me-in-production", "change-me", "changeme",
                           "secret", "test-secret", "password", "aftersales"})


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which variable and why."""


def mode(env=os.environ) -> str:
    value = env.get("AFTERSALES_MODE", "production").strip().lower() or "production"
    if value not in MODES:
        raise ConfigError(f"AFTERSALES_MODE must be production or development, not {value!r}")
    return value


def secret_problem(secret: str | None) -> str | None:
    """Why ``secret`` may not sign keys in production, or None when it may."""
    if not secret:
        return "is not set"
    if secret.strip().lower() in KNOWN_SECRETS:
        return "is a published placeholder value (anyone can sign keys with it)"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < 8:
        return "has fewer than 8 distinct characters"
    return None


def check_secrets(settings: dict) -> None:
    """In production mode, ConfigError unless the current (and any previous) secret is good.
    ``settings`` is the ``AFTERSALES`` part of :func:`service_config`."""
    if settings.get("mode", "production") != "production":
        return
    problems = []
    why = secret_problem(settings.get("secret"))
    if why:
        problems.append(f"AFTERSALES_SECRET {why}")
    for prev in settings.get("previous_secrets") or []:
        why = secret_problem(prev)
        if why:
            problems.append(f"AFTERSALES_SECRET_PREVIOUS {why}")
    if problems:
        raise ConfigError(
            "refusing to start in production mode: " + "; ".join(problems) + ". Set "
            f"AFTERSALES_SECRET to a random value of at least {MIN_SECRET_LENGTH} characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or set "
            "AFTERSALES_MODE=development on a developer's machine.")


def signing_secret(env=os.environ) -> str:
    """The secret new keys are signed with (the development one only in development mode)."""
    secret = env.get("AFTERSALES_SECRET", "")
    if mode(env) == "development":
        return secret or DEV_SECRET
    check_secrets({"mode": "production", "secret": secret})
    return secret


def verification_secrets(settings: dict) -> list[str]:
    """Current secret first, then the previous ones accepted during a rotation."""
    return [s for s in [settings.get("secret"), *(settings.get("previous_secrets") or [])] if s]


def key_expiry(env=os.environ) -> tuple[int, int]:
    """(default, maximum) key lifetime in seconds."""
    from .auth import parse_duration
    try:
        default = parse_duration(env.get("AFTERSALES_KEY_DEFAULT_EXPIRY", "90d"),
                                 "AFTERSALES_KEY_DEFAULT_EXPIRY")
        maximum = parse_duration(env.get("AFTERSALES_KEY_MAX_EXPIRY", "365d"),
                                 "AFTERSALES_KEY_MAX_EXPIRY")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if default > maximum:
        raise ConfigError("AFTERSALES_KEY_DEFAULT_EXPIRY is longer than AFTERSALES_KEY_MAX_EXPIRY")
    return default, maximum


def var_dir(env=os.environ) -> Path:
    return Path(env.get("AFTERSALES_VAR_DIR", "var")).resolve()


def database_url(service: str, env=os.environ) -> str:
    url = env.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir(env) / (service + '.db')}"


def http_address(service: str, env=os.environ) -> str:
    return env.get(f"{service.upper()}_HTTP", f"127.0.0.1:{DEFAULT_PORTS[service]}")


def retry_delays_ms(env=os.environ) -> list[int]:
    raw = env.get("AFTERSALES_RETRY_DELAYS_MS", "1000,10000,60000")
    delays = [int(x) for x in raw.split(",") if x.strip()]
    if any(d <= 0 for d in delays):
        raise ValueError("AFTERSALES_RETRY_DELAYS_MS: every delay must be a positive number of ms")
    return delays


def delivery_limit(env=os.environ) -> int:
    raw = env.get("AFTERSALES_DELIVERY_LIMIT", "20").strip() or "20"
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"AFTERSALES_DELIVERY_LIMIT must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError("AFTERSALES_DELIVERY_LIMIT must be at least 1")
    return value


def service_config(service: str, env=os.environ, **overrides) -> dict:
    """The nameko config dict of one service. ``overrides`` replace single keys."""
    if service not in DEFAULT_PORTS:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(DEFAULT_PORTS)}")
    max_workers = int(env.get("AFTERSALES_MAX_WORKERS", "10"))
    cfg = {
        "AMQP_URI": env.get("AMQP_URI", DEFAULT_AMQP_URI),
        "WEB_SERVER_ADDRESS": http_address(service, env),
        "max_workers": max_workers,
        "parallel_enabled": False,
        "HEARTBEAT": int(env.get("AFTERSALES_HEARTBEAT", "30")),
        "AFTERSALES": {
            "service": service,
            "database_url": database_url(service, env),
            "mode": mode(env),
            "secret": env.get("AFTERSALES_SECRET") or (DEV_SECRET if mode(env) == "development" else ""),
            "previous_secrets": [s for s in env.get("AFTERSALES_SECRET_PREVIOUS", "").split(",") if s],
            "key_max_lifetime": key_expiry(env)[1],
            "retry_delays_ms": retry_delays_ms(env),
            "relay_interval": float(env.get("AFTERSALES_RELAY_INTERVAL", "1.0")),
            "message_workers": int(env.get("AFTERSALES_MESSAGE_WORKERS", "0")) or None,
            "transient_backoff_max_s": float(env.get("AFTERSALES_TRANSIENT_BACKOFF_MAX", "30")),
            "outbox_max_attempts": int(env.get("AFTERSALES_OUTBOX_MAX_ATTEMPTS", "30")),
            "outbox_retention_hours": float(env.get("AFTERSALES_OUTBOX_RETENTION_HOURS", "168")),
            "inbox_retention_hours": float(env.get("AFTERSALES_INBOX_RETENTION_HOURS", "336")),
            "pool_size": max(max_workers + 2, 5),
            "reference_dir": env.get("AFTERSALES_REFERENCE_DIR", str(reference_dir())),
            "received_max_age_days": float(env.get("INTAKE_RECEIVED_MAX_AGE_DAYS", "365")),
            "survey_valid_days": float(env.get("FEEDBACK_SURVEY_VALID_DAYS", "14")),
            "survey_reminder_days": env.get("FEEDBACK_SURVEY_REMINDER_DAYS", "3,7"),
            "visit_months": env.get("FEEDBACK_VISIT_MONTHS", "1,3,6"),
            "feedback_scan_interval": float(env.get("FEEDBACK_SCAN_INTERVAL", "60")),
            "sla_policy": env.get("DISPATCH_SLA_POLICY", ""),
            "sla_timer_interval": float(env.get("DISPATCH_SLA_TIMER_INTERVAL", "1.0")),
            "accept_timeout_minutes": float(env.get("DISPATCH_ACCEPT_TIMEOUT_MINUTES", "30")),
            "report_interval_hours": float(env.get("DISPATCH_REPORT_INTERVAL_HOURS", "24")),
            "evidence_dir": env.get("DISPATCH_EVIDENCE_DIR", ""),
            "evidence_max_bytes": int(env.get("DISPATCH_EVIDENCE_MAX_BYTES") or 8 * 1024 * 1024),
        },
    }
    for key, value in overrides.items():
        if key in cfg["AFTERSALES"]:
            cfg["AFTERSALES"][key] = value
        else:
            cfg[key] = value
    return cfg


def reference_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "deploy" / "reference"
