"""Event contracts: the envelope, every event schema (versioned) and the broker topology."""
from .envelope import Envelope, utcnow
from .events import EVENTS, EventSpec, RepairRequested, latest, spec_for
from .topology import QUEUES, QueueSpec

__all__ = ["Envelope", "utcnow", "EVENTS", "EventSpec", "RepairRequested", "latest",
           "spec_for", "QUEUES", "QueueSpec"]
