"""A real browser (Debian's chromium, driven by Playwright) for the console's tests. Where either
is missing the tests skip and say why, except on CI, where they must run."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("SLUICE_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM:
        _missing("no chromium on PATH (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()
