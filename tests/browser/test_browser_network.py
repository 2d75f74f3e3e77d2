"""Reading the page asks nothing of anyone but the page's own server: no fonts, scripts, trackers or CDNs."""

from __future__ import annotations

from browser_harness import network_events, open_page, wait_for
from selenium.webdriver.common.by import By

SLUG = "korkortsportalen-2024"


def test_no_request_leaves_the_local_origin_and_no_script_loads(browser, server):
    browser.get("about:blank")
    network_events(browser)  # forget the browser's own start-up page
    for path in ("/", "/?lang=en", f"/incidents/{SLUG}", f"/incidents/{SLUG}?lang=en", "/no-such-page"):
        for width in (375, 1280):
            open_page(browser, server.origin + path, width)
    open_page(browser, server.origin + "/", 375)
    browser.find_element(By.CSS_SELECTOR, "nav a").click()
    wait_for(browser, "return document.documentElement.lang", "en")
    for summary in browser.find_elements(By.CSS_SELECTOR, ".faq summary"):
        summary.click()

    events = network_events(browser)
    urls = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert len(urls) >= 10, f"the network log recorded too little to mean anything: {urls}"
    elsewhere = sorted({u for u in urls if not u.startswith(server.origin + "/")})
    assert elsewhere == [], "the page made requests away from its own server:\n" + "\n".join(elsewhere)
    kinds = {e["params"]["type"] for e in events if e["method"] == "Network.responseReceived"}
    assert "Script" not in kinds and "Font" not in kinds, f"the page loaded {kinds}"
    sockets = [e for e in events if e["method"].startswith("Network.webSocket")]
    assert sockets == []
