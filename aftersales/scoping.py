"""Which branch a request acts on or reads, from the API key (:class:`aftersales.auth.Principal`)
and an optional ``branch`` the caller named. Pure: raises the platform's errors
(``InvalidInput`` naming the field, ``Forbidden`` from the key)."""
from __future__ import annotations

from typing import Collection

from .auth import Principal
from .errors import InvalidInput


def branch_for(principal: Principal, branch: str | None, branches: Collection[str] | None,
               field_name: str = "branch") -> str:
    """The one branch a change acts on: ``branch``, or the key's own when left out (an HQ key
    must name it). With ``branches`` given, an unknown code is refused by name."""
    if not branch:
        if principal.is_hq:
            raise InvalidInput([{"field": field_name, "message": "is required for an HQ key"}])
        branch = principal.branch
    if branches is not None and branch not in branches:
        raise InvalidInput([{"field": field_name, "message":
                             f"unknown branch {branch!r}; known: {', '.join(sorted(branches))}"}])
    principal.require_branch(branch, field_name)
    return branch


def scope(principal: Principal, branch: str | None,
          branches: Collection[str] | None = None) -> str | None:
    """A branch filter for a list: None (every branch) when an HQ key leaves it out, else the
    branch as :func:`branch_for` decides it."""
    if principal.is_hq and not branch:
        return None
    return branch_for(principal, branch, branches)
