"""Where SLA policies come from: ``<reference_dir>/sla_policy.json`` (calendars, holidays,
make-up days, targets per branch), each branch's time zone from ``branches.json``, and an
optional override from the configuration (``DISPATCH_SLA_POLICY``: JSON text or the path of a
JSON file; tests pass a dict with targets in seconds)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from aftersales.config import reference_dir

from ..domain.policy import Policy, build_policy

DEFAULT_GENERAL_MANAGER = "HQ-GM"


@lru_cache(maxsize=16)
def _load(directory: str) -> tuple[dict, dict]:
    d = Path(directory)
    branches = json.loads((d / "branches.json").read_text(encoding="utf-8"))
    path = d / "sla_policy.json"
    doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return branches, doc


def _override(raw) -> dict:
    if not raw:
        return {}
    if isinstance(raw, dict):
        return raw
    text = str(raw).strip()
    if not text.startswith("{"):
        text = Path(text).read_text(encoding="utf-8")
    return json.loads(text)


class PolicyBook:
    """The policy of each branch, built once per process and configuration."""

    _cache: dict = {}

    def __init__(self, settings: dict):
        self.directory = str(settings.get("reference_dir") or reference_dir())
        self.override = _override(settings.get("sla_policy"))
        self._key = (self.directory, json.dumps(self.override, sort_keys=True))

    def for_branch(self, branch: str) -> Policy:
        key = (self._key, branch)
        if key not in self._cache:
            branches, doc = _load(self.directory)
            tz = (branches.get(branch) or {}).get("timezone")
            self._cache[key] = build_policy(branch, tz, doc, self.override)
        return self._cache[key]

    @property
    def general_manager(self) -> str:
        branches, doc = _load(self.directory)
        return str(self.override.get("general_manager") or doc.get("general_manager")
                   or (branches.get("HQ") or {}).get("general_manager") or DEFAULT_GENERAL_MANAGER)

    def neighbours(self, branch: str) -> list[str]:
        branches, _ = _load(self.directory)
        return list((branches.get(branch) or {}).get("neighbours") or [])
