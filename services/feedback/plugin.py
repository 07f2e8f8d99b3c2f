"""How the platform finds the feedback service (entry point ``aftersales.services``, see
``aftersales/registry.py``)."""
from pathlib import Path

from aftersales.registry import ServicePlugin

PLUGIN = ServicePlugin(
    name="feedback", order=40,
    service="services.feedback.service:FeedbackService",
    migrations=Path(__file__).parent / "migrations",
    seed="services.feedback.seed:seed",
)
