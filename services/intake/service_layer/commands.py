"""What people and systems ask intake to do: one frozen dataclass per command, each handled by
the function :mod:`services.intake.bootstrap`'s ``COMMANDS`` maps it to.

The agents' commands carry the caller's :class:`aftersales.auth.Principal` (who acts, and which
branches they may touch) and the values of the validated HTTP body."""
from __future__ import annotations

from dataclasses import dataclass

from aftersales.auth import Principal


@dataclass(frozen=True)
class ReceiveRequest:
    """A repair request from any channel: the phone center's (not enveloped) ``repair_requested``
    message on the bus, or the body of ``POST /api/v1/tickets``, as received (validated by the
    handler, which answers a bad one with ``request_rejected``)."""
    body: dict


# -- the service desk: agents' actions on a ticket ------------------------------------------------
@dataclass(frozen=True)
class DeskAction:
    """An agent's action on one ticket: which ticket, and who acts (their key)."""
    ticket_no: str
    principal: Principal


@dataclass(frozen=True)
class RecordContact(DeskAction):
    channel: str = "phone"
    note: str | None = None


@dataclass(frozen=True)
class Reclassify(DeskAction):
    reason: str
    priority: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class ResolveRemotely(DeskAction):
    resolution: str


@dataclass(frozen=True)
class Cancel(DeskAction):
    reason: str


@dataclass(frozen=True)
class Split(DeskAction):
    """A linked request is a separate problem after all: it gets its own dispatch."""
    reason: str
