"""How the platform finds the dispatch service (entry point ``aftersales.services``, see
``aftersales/registry.py``)."""
from pathlib import Path

from aftersales.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="dispatch", order=20,
    service="services.dispatch.service:DispatchService",
    migrations=Path(__file__).parent / "migrations",
    seed="services.dispatch.seed:seed",
    cli="services.dispatch.cli:register",
)
