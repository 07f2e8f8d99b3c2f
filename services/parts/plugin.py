"""How the platform finds the parts service (entry point ``aftersales.services``, see
``aftersales/registry.py``)."""
from pathlib import Path

from aftersales.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="parts", order=30,
    service="services.parts.service:PartsService",
    migrations=Path(__file__).parent / "migrations",
    seed="services.parts.seed:seed",
    cli="services.parts.cli:register",
)
