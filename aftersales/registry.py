"""The four services: where their nameko class, migrations and demo data live."""
from __future__ import annotations

import importlib
from pathlib import Path

SERVICES = ("intake", "dispatch", "parts", "feedback")
ROOT = Path(__file__).resolve().parent.parent


def service_class(name: str):
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{name}.service")
    return getattr(module, f"{name.capitalize()}Service")


def migrations_dir(name: str) -> Path:
    return ROOT / "services" / name / "migrations"


def seed_module(name: str):
    return importlib.import_module(f"services.{name}.seed")
