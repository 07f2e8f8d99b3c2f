"""The envelope every event between services carries (PRODUCT.md, "Events between services")."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..clock import utcnow  # noqa: F401  (the platform's clock; re-exported for the services)


class Envelope(BaseModel):
    """`event_id`, `type`, `version`, `occurred_at`, `ticket_no`, `branch`, plus the `data`."""

    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID
    type: str = Field(min_length=1)
    version: int = Field(ge=1)
    occurred_at: datetime
    source: str = Field(min_length=1, description="the service that published the event")
    ticket_no: str | None = None
    branch: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
