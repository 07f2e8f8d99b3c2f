"""Reference data every service reads (branches); it is configuration, not service state.

Read once per directory and kept in memory; the file's modification time is looked at again at
most every ``RECHECK_S`` seconds, so an edited ``branches.json`` is picked up by a running
service without a restart and without a file read per message."""
from __future__ import annotations

import json
import time
from pathlib import Path

from .config import reference_dir

RECHECK_S = 5.0

_cache: dict[str, tuple[float, float, dict, dict]] = {}   # dir -> (checked, mtime, all, operating)
_default_dir: str | None = None


def _entry(directory: str | None) -> tuple[dict, dict]:
    global _default_dir
    if directory is None:
        directory = _default_dir or str(reference_dir())
        _default_dir = directory
    key = str(directory)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < RECHECK_S:
        return hit[2], hit[3]
    path = Path(key) / "branches.json"
    mtime = path.stat().st_mtime
    if hit is not None and hit[1] == mtime:
        _cache[key] = (now, mtime, hit[2], hit[3])
        return hit[2], hit[3]
    data = json.loads(path.read_text(encoding="utf-8"))
    operating = {code: b for code, b in data.items() if not b.get("hq")}
    _cache[key] = (now, mtime, data, operating)
    return data, operating


def branches(directory: str | None = None) -> dict:
    """``{code: {name, timezone, ...}}`` of the operating branches (HQ excluded). The dict is
    shared: callers must not change it."""
    return _entry(directory)[1]


def timezone_of(branch: str | None, directory: str | None = None) -> str:
    """The branch's time zone (IANA name) from the reference data; Asia/Shanghai by default."""
    return (_entry(directory)[1].get(branch or "") or {}).get("timezone") or "Asia/Shanghai"
