"""The services this installation runs, found through the ``aftersales.services`` entry
points (``pyproject.toml``), so that the shared library never imports a service by name.

A service package declares itself in its ``plugin.py``::

    PLUGIN = declare(__name__, __file__, order=20, cli=True, events=True)

(:func:`declare` fills in the conventional places: ``service.py``, ``migrations/``, ``seed.py``,
``cli.py``, ``bootstrap.EVENTS``) and one line in ``pyproject.toml``
(``[project.entry-points."aftersales.services"]``) lists it. ``service``, ``seed``, ``cli`` and
``events`` are ``module:attribute`` names, imported only when used.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

GROUP = "aftersales.services"


@dataclass(frozen=True)
class ServicePlugin:
    name: str
    order: int                  # the order of the platform's workflow (listings, start-up)
    service: str                # "module:Class" of the nameko service
    migrations: Path
    seed: str | None = None     # "module:function(session, only_if_empty=...) -> report"
    cli: str | None = None      # "module:function(subparsers)" adding the service's commands
    events: str | None = None   # "module:TABLE" of the bus (event type -> handler): what its
                                # events queue is bound to (aftersales/contracts/topology.py)


def declare(module: str, file: str, order: int, *, cli: bool = False,
            events: bool = False) -> ServicePlugin:
    """A service's plugin by the platform's conventions, from its ``plugin.py``
    (``declare(__name__, __file__, order=20, cli=True, events=True)``): the package
    ``services.<name>`` with ``service.py`` (``<Name>Service``), ``migrations/``, ``seed.py``,
    and, when it has them, ``cli.py`` (``register``) and a bus table of consumed events
    (``bootstrap.EVENTS``)."""
    package = module.rpartition(".")[0]
    name = package.rpartition(".")[2]
    return ServicePlugin(name=name, order=order,
                         service=f"{package}.service:{name.capitalize()}Service",
                         migrations=Path(file).resolve().parent / "migrations",
                         seed=f"{package}.seed:seed",
                         cli=f"{package}.cli:register" if cli else None,
                         events=f"{package}.bootstrap:EVENTS" if events else None)


def load(ref: str):
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@lru_cache(maxsize=1)
def plugins() -> dict[str, ServicePlugin]:
    found = [ep.load() for ep in entry_points(group=GROUP)]
    if not found:
        raise RuntimeError(f"no services are installed (entry points {GROUP!r}); install the "
                           "project first: make venv (or pip install -e .)")
    return {p.name: p for p in sorted(found, key=lambda p: (p.order, p.name))}


def plugin(name: str) -> ServicePlugin:
    try:
        return plugins()[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r}; one of {', '.join(plugins())}") from None


SERVICES: tuple[str, ...] = tuple(plugins())


def service_class(name: str):
    return load(plugin(name).service)


def migrations_dir(name: str) -> Path:
    return plugin(name).migrations


def seed_function(name: str):
    p = plugin(name)
    return load(p.seed) if p.seed else None


def consumed_events(name: str) -> tuple[str, ...]:
    """The event types the service's bus handles from its events queue (its ``EVENTS``
    table), in the table's order; () for a service without one."""
    p = plugin(name)
    return tuple(load(p.events)) if p.events else ()


def register_cli(subparsers) -> None:
    """Every service's own commands (``aftersales assets ...``, ``parts ...``, ``roster ...``)."""
    for p in plugins().values():
        if p.cli:
            load(p.cli)(subparsers)
