"""Runs the service desk's browser walk (``desk_browser_walk.py``) in a pytest of its own,
without the root conftest: that one greens the standard library with eventlet, under which
Playwright's event loop can wait for ever on a navigation. The walk starts its own services
and writes its screenshots under var/screenshots/."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WALK = Path(__file__).with_name("desk_browser_walk.py")

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(600)
def test_the_service_desk_in_a_real_browser():
    run = subprocess.run([sys.executable, "-m", "pytest", "--noconftest", "-q", "-p",
                          "no:cacheprovider", "-rs", str(WALK.relative_to(ROOT))], cwd=ROOT,
                         capture_output=True, text=True, timeout=580)
    out = run.stdout[-6000:] + run.stderr[-2000:]
    if run.returncode == 0 and " skipped" in run.stdout and " passed" not in run.stdout:
        pytest.skip(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, out
