"""JSON kept in Text columns (customer, site, notes, reasons, plan definitions)."""
from __future__ import annotations

import json


def dumps(v):
    return json.dumps(v, ensure_ascii=False) if v is not None else None


def loads(v, default=None):
    return json.loads(v) if v else default
