"""A real browser for the console's tests: Debian's chromium (``/usr/bin/chromium``, installed
by ``scripts/ensure-test-tools.sh``), driven headless by Playwright. Playwright never downloads
a browser here: it launches that binary.

``browser`` (one per test module) gives a :class:`Screens` with ``desktop()`` (1280×800) and
``phone()`` (390×844, touch) pages; ``screens.shot(page, "name")`` saves
``var/screenshots/<test>/<n>-<name>.png`` (var/ is not committed) for people to look at.

Chromium missing: the script is run once to install it (when allowed); only if it still is
missing is the test skipped (failed under CI, which runs every test)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("AFTERSALES_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def chromium_path() -> str | None:
    """The chromium binary, installing it with the test-tools script when it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure-test-tools.sh")], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


def _unavailable(why: str):
    if os.environ.get("CI"):
        pytest.fail(f"{why} (scripts/ensure-test-tools.sh installs it)", pytrace=False)
    pytest.skip(f"{why}; make test installs it when allowed (apt-get install chromium)")


class Screens:
    """Browser pages of one test and the screenshots they leave under var/screenshots/."""

    def __init__(self, browser, folder: Path):
        self.browser = browser
        self.folder = folder
        self.count = 0
        self.contexts = []

    def _page(self, options: dict, lang: str):
        context = self.browser.new_context(locale=lang, **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def desktop(self, lang: str = "zh-CN"):
        return self._page(DESKTOP, lang)

    def phone(self, lang: str = "zh-CN"):
        return self._page(PHONE, lang)

    def shot(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def chromium():
    """The launched headless chromium of a test module."""
    import sys
    if "eventlet" in sys.modules and sys.modules["eventlet"].patcher.is_monkey_patched("socket"):
        pytest.fail("Playwright can hang under eventlet's monkey-patching (the root conftest): run "
                    "the browser module with `pytest --noconftest` (see test_desk_browser.py)",
                    pytrace=False)
    path = chromium_path()
    if path is None:
        _unavailable(f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements.txt)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium, request):
    """A test's :class:`Screens`; its old screenshots are removed first."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    screens = Screens(chromium, folder)
    yield screens
    screens.close()
