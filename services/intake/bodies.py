"""The HTTP request bodies of the service desk's actions (pydantic). A repair request's body is
the phone-center contract itself (:class:`aftersales.contracts.events.RepairRequested`),
validated by the ``ReceiveRequest`` handler so that a bad one is answered with
``request_rejected``."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aftersales.contracts.events import Category, Priority
from aftersales.errors import InvalidInput
from aftersales.service import parse


class _Body(BaseModel):
    """A body whose fields are the keyword arguments of its command."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def read(cls, request):
        """The request's body, or InvalidInput naming every bad field (422; 400 when
        unreadable)."""
        return parse(cls, request)


class ContactBody(_Body):
    channel: Literal["phone", "sms", "email", "wechat", "onsite"] = "phone"
    note: str | None = Field(default=None, max_length=2000)


class ReclassifyBody(_Body):
    priority: Priority | None = None
    category: Category | None = None
    reason: str = Field(min_length=1, max_length=1000)

    @classmethod
    def read(cls, request):
        """Every bad field named, then at least one of priority and category given (both 422,
        before the ticket is looked up)."""
        body = super().read(request)
        if body.priority is None and body.category is None:
            raise InvalidInput([{"field": "priority", "message": "give priority and/or category"}])
        return body


class ResolveBody(_Body):
    resolution: str = Field(min_length=1, max_length=5000)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=1000)

