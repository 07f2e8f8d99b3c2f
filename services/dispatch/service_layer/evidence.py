"""A job's evidence: the engineer's photos from site and the customer's signature at the
sign-off. The bytes go to the evidence store (``adapters/evidence.py``: checked by content,
kept once under their SHA-256); the job keeps a row per image (``job_evidence``: who, when,
caption, signer); the events carry references (``photos``, ``signature``), never the bytes.

Who: photos are added by the job's engineer (or a dispatcher or manager of its branch) while
the job is open; the evidence is read by keys that can see the job (its branch, HQ, or the
engineer it is assigned to).
"""
from __future__ import annotations

import logging
from datetime import datetime

from aftersales.access import JOB_ACTORS
from aftersales.auth import Principal
from aftersales.contracts.envelope import utcnow
from aftersales.errors import NotFound

from .. import bodies
from ..adapters.evidence import Evidence, from_data_url
from ..domain import model
from . import commands
from .views import evidence_view, require_own, visible_job

log = logging.getLogger(__name__)

PHOTO, SIGNATURE = "photo", "signature"


def upload_photo(uow, cmd: commands.UploadPhoto, evidence: Evidence):
    """Keep one photo of the job: (201, its row) when new, (200, the row) when the job has
    these bytes already."""
    principal = cmd.principal
    principal.require_role(*JOB_ACTORS)
    meta = bodies.validate(bodies.PhotoMeta, cmd.meta)
    job = visible_job(uow, principal, cmd.ticket_no, lock=True)
    require_own(principal, job)
    if not job.is_open:
        raise model.InvalidTransition(f"cannot add photos to job {job.ticket_no}: it is "
                                      f"{job.status!r}")
    sha, content_type = evidence.keep(cmd.data, "photo")
    added = uow.evidence.add(job.ticket_no, kind=PHOTO, sha256=sha, content_type=content_type,
                             size=len(cmd.data), uploaded_by=principal.actor,
                             uploaded_at=utcnow(), taken_at=meta.taken_at,
                             caption=meta.caption, signed_by=None)
    log.info("%s: photo %s (%s, %d bytes) by %s%s", job.ticket_no, sha[:12], content_type,
             len(cmd.data), principal.actor, "" if added else " (had it already)")
    return (201 if added else 200), evidence_view(uow.evidence.get(job.ticket_no, sha, PHOTO))


def keep_signature(uow, evidence: Evidence, principal: Principal, job: model.Job,
                   data_url: str, signed_by: str | None, now: datetime) -> dict:
    """The customer's signature (a data URL) kept as the job's evidence; its reference."""
    data = from_data_url(data_url, "signature")
    sha, content_type = evidence.keep(data, "signature")
    uow.evidence.add(job.ticket_no, kind=SIGNATURE, sha256=sha, content_type=content_type,
                     size=len(data), uploaded_by=principal.actor, uploaded_at=now,
                     taken_at=now, caption=None, signed_by=signed_by)
    return {"sha256": sha, "content_type": content_type, "signed_by": signed_by}


def photo_refs(uow, ticket_no: str) -> list[dict]:
    """The job's photos as the events reference them."""
    return [{"sha256": r["sha256"], "content_type": r["content_type"], "size": r["size"]}
            for r in uow.evidence.of_job(ticket_no, PHOTO)]


# -- reading ------------------------------------------------------------------------------------
def list_evidence(uow, principal: Principal, ticket_no: str) -> dict:
    with uow:
        uow.snapshot()
        job = visible_job(uow, principal, ticket_no)
        rows = [evidence_view(r) for r in uow.evidence.of_job(job.ticket_no)]
        return {"ticket_no": job.ticket_no, "evidence": rows, "count": len(rows)}


def read_evidence(uow, evidence: Evidence, principal: Principal, ticket_no: str,
                  sha256: str) -> tuple[dict, bytes]:
    """One image of the job: its row and its bytes; NotFound when the job (for this key) or
    the image is not there."""
    with uow:
        uow.snapshot()
        job = visible_job(uow, principal, ticket_no)
        row = uow.evidence.get(job.ticket_no, sha256.lower())
    if row is None:
        raise NotFound(f"job {ticket_no} has no evidence {sha256}")
    try:
        return evidence_view(row), evidence.store.get(row["sha256"])
    except FileNotFoundError:
        log.error("%s: evidence %s is recorded but missing from the store", ticket_no, sha256)
        raise NotFound(f"the bytes of evidence {sha256} are missing from the store") from None
