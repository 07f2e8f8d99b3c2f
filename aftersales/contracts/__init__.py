"""Event contracts: the envelope, every event schema (versioned) and the broker topology.

The schemas live beside their producer (``intake``, ``dispatch``, ``parts``, ``feedback``,
``keys``; shared types in ``common``, the phone centers' request in ``phone_center``); import
them from :mod:`aftersales.contracts.events`, the registry that collects and re-exports them."""
from .envelope import Envelope, utcnow
from .events import EVENTS, EventSpec, RepairRequested, latest, spec_for
from .topology import QueueSpec, queues

__all__ = ["Envelope", "utcnow", "EVENTS", "EventSpec", "RepairRequested", "latest",
           "spec_for", "QueueSpec", "queues"]
