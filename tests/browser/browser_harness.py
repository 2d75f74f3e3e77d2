"""Start the app on a free local port and a headless Debian Chromium to read it, as a reader's browser would.

Shared by tests/browser/ and `bench/page.py --browser`. No browser is ever downloaded: Chromium and ChromeDriver
are Debian's (`make browser-deps` installs them), driven by Selenium.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NOTIS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NOTIS_CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
HOW_TO_INSTALL = "install them with `make browser-deps` (Debian packages chromium and chromium-driver)"
# Flags from docs: no sandbox as root in CI, and nothing that phones home (the machine's network is closed).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,900",
)


class BrowserUnavailable(RuntimeError):
    """Chromium or its driver is missing or will not start; the message says what to do."""


@dataclass(frozen=True)
class Server:
    origin: str  # e.g. http://127.0.0.1:41234
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(content_dir: Path | None = None, timeout: float = 30.0, *,
               extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`chalice local` serving app.py on a free port in a subprocess; stopped (terminate, then kill) on exit.

    content_dir serves other incidents than the packaged demo (NOTIS_CONTENT_DIR); extra_env adds variables
    (the verify page's tests point it at a local moto server).
    """
    port = free_port()
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "local", "--host", "127.0.0.1", "--port", str(port), "--no-autoreload"]
    log = tempfile.TemporaryFile()
    env = {k: v for k, v in os.environ.items() if k != "NOTIS_CONTENT_DIR"}  # never another test's leftover
    if content_dir:
        env["NOTIS_CONTENT_DIR"] = str(content_dir)
    env.update(extra_env or {})
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(origin, process, log, timeout)
        yield Server(origin, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_serving(origin: str, process: subprocess.Popen, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"chalice local exited with {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(origin + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"chalice local did not serve {origin} within {timeout:.0f} s:\n"
                       f"{log.read().decode(errors='replace')}")


@contextmanager
def chromium(*, javascript: bool = True, network_log: bool = False, languages: str = "sv-SE,sv") -> Iterator[Any]:
    """A headless Chromium under Selenium with a fresh profile; raises BrowserUnavailable with the reason.

    javascript=False turns script off by content setting, as a reader who disabled it would have it.
    network_log=True records CDP Network events (read with network_events(driver)) and the console.
    languages is the reader's Accept-Language: Swedish by default, like most of the page's readers.
    """
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "ChromeDriver")):
        if not os.access(path, os.X_OK):
            raise BrowserUnavailable(f"{what} not found at {path}: {HOW_TO_INSTALL}")
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise BrowserUnavailable(f"selenium is not installed ({exc}): pip install -r requirements-dev.txt") from None

    profile = tempfile.TemporaryDirectory(prefix="notis-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile.name}")
    options.add_argument(f"--lang={languages.split(',')[0]}")
    prefs: dict[str, Any] = {"intl.accept_languages": languages}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    try:
        driver = webdriver.Chrome(options=options, service=service)
    except WebDriverException as exc:
        profile.cleanup()
        raise BrowserUnavailable(f"Chromium would not start under ChromeDriver: {exc.msg or exc}\n"
                                 f"({CHROMIUM}, {CHROMEDRIVER}; {HOW_TO_INSTALL})") from None
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def wait_for(driver: Any, script: str, expected: Any, timeout: float = 10) -> None:
    """Wait until `script` returns `expected` (after a navigation a link started), else fail saying what it was."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script) == expected)
    except TimeoutException:
        raise AssertionError(f"{script!r} is {driver.execute_script(script)!r}, expected {expected!r}") from None


def navigate(driver: Any, element: Any, timeout: float = 10) -> None:
    """Click `element` (a link or a submit button) and return once the next page has replaced this one and is
    loaded: the old document gone (its <html> stale), the new one's readyState "complete". A find_element straight
    after click() can still find the old page's element, and a sleep is either too short or slow."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    try:
        WebDriverWait(driver, timeout).until(ec.staleness_of(old))
    except TimeoutException:
        raise AssertionError(f"clicking {element.tag_name} left {driver.current_url} in place") from None
    wait_for(driver, "return document.readyState", "complete", timeout)


def network_events(driver: Any) -> list[dict]:
    """CDP Network.* events recorded since the last call (needs chromium(network_log=True))."""
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append(message)
    return events


def set_viewport(driver: Any, width: int, height: int = 800, *, mobile: bool | None = None) -> None:
    """Emulate a screen `width` CSS pixels wide (a phone at 375, with touch-style viewport handling)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 if mobile is None else mobile,
    })


def open_page(driver: Any, url: str, width: int = 375, *, media: str = "", scheme: str = "light") -> None:
    """Load `url` fresh at `width` CSS pixels, with the given emulated media type ("print") and colour scheme."""
    set_viewport(driver, width)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "media": media, "features": [{"name": "prefers-color-scheme", "value": scheme}],
    })
    driver.get(url)


def full_page_png(driver: Any, width: int) -> bytes:
    """A PNG of the whole page at `width`, as tall as the content."""
    import base64

    height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    set_viewport(driver, width, height)
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    finally:
        set_viewport(driver, width)
    return base64.b64decode(shot["data"])
