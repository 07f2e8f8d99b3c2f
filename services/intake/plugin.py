"""How the platform finds the intake service (entry point ``aftersales.services``, see
``aftersales/registry.py``)."""
from pathlib import Path

from aftersales.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="intake", order=10,
    service="services.intake.service:IntakeService",
    migrations=Path(__file__).parent / "migrations",
    seed="services.intake.seed:seed",
    cli="services.intake.cli:register",
)
