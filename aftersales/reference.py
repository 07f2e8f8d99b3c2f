"""Reference data every service reads (branches); it is configuration, not service state."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .config import reference_dir


@lru_cache(maxsize=8)
def _load(directory: str) -> dict:
    return json.loads((Path(directory) / "branches.json").read_text(encoding="utf-8"))


def branches(directory: str | None = None) -> dict:
    """``{code: {name, timezone, ...}}`` of the operating branches (HQ excluded)."""
    data = _load(str(directory or reference_dir()))
    return {code: b for code, b in data.items() if not b.get("hq")}


def timezone_of(branch: str | None, directory: str | None = None) -> str:
    """The branch's time zone (IANA name) from the reference data; Asia/Shanghai by default."""
    return (branches(directory).get(branch or "") or {}).get("timezone") or "Asia/Shanghai"
