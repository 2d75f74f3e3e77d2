"""Fixtures for the browser tests: the app under `chalice local`, and headless Chromium sessions reading it.

When Chromium cannot start, every browser test fails (an error with the reason), never skips: a hidden skip would
let the page ship unchecked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_harness import ROOT, BrowserUnavailable, Server, app_server, chromium


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    try:
        with app_server() as running:
            yield running
    except RuntimeError as exc:
        pytest.fail(f"the app would not serve under chalice local: {exc}", pytrace=False)


def _browser(**kwargs: Any) -> Iterator[Any]:
    try:
        with chromium(**kwargs) as driver:
            yield driver
    except BrowserUnavailable as exc:
        pytest.fail(f"browser tests cannot run: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, JavaScript on, Swedish Accept-Language, network and console recorded."""
    yield from _browser(network_log=True)


@pytest.fixture(scope="module")
def browser_nojs() -> Iterator[Any]:
    """A second Chromium with JavaScript turned off in its settings, as some careful readers have it."""
    yield from _browser(javascript=False)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where screenshots go: out/screenshots by default; `make screenshots` points it at docs/screenshots."""
    folder = Path(os.environ.get("NOTIS_SCREENSHOTS") or ROOT / "out" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
