"""Which ticket categories need an engineer on site: one list for intake (its ``needs_visit``
flag) and dispatch (which opens the job). Pure Python.

Categories (PRODUCT.md): emergency_repair, fault, maintenance, consultation, parts, training,
installation, complaint. Consultation is answered by the service desk and a complaint is
handled by feedback: neither needs a visit; training is given on site by an engineer.
"""
from __future__ import annotations

VISIT_CATEGORIES = frozenset({"emergency_repair", "fault", "maintenance", "installation",
                              "parts", "training"})


def needs_visit(category: str | None) -> bool:
    return category in VISIT_CATEGORIES
