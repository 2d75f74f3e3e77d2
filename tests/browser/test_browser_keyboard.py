"""The page by keyboard alone: every FAQ answer opens and closes with Enter and Space, focus is always visible,
and the language link switches the whole page."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from browser_harness import open_page, wait_for
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from chalicelib.web import CONTENT_DIR
from chalicelib.web.strings import STRINGS

SLUG = "korkortsportalen-2024"
DEMO = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
FOCUSABLE = "a[href], summary, button, input, select, textarea, [tabindex]:not([tabindex='-1'])"

# The focus ring of an element as drawn: outline and box-shadow, plus the page colour behind it.
RING = """
const e = arguments[0], s = getComputedStyle(e);
const clear = c => /rgba\\(0, 0, 0, 0\\)|transparent/.test(c);
let bg = 'rgba(0, 0, 0, 0)', n = e;
while (n && n.nodeType === 1 && clear(bg)) { bg = getComputedStyle(n).backgroundColor; n = n.parentNode; }
if (clear(bg)) bg = 'rgb(255, 255, 255)';
return {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, style: s.outlineStyle,
        width: parseFloat(s.outlineWidth), color: s.outlineColor, shadow: s.boxShadow, background: bg};
"""
ACTIVE = f"""
const e = document.activeElement, all = [...document.querySelectorAll("{FOCUSABLE}")];
return {{index: all.indexOf(e), tag: e.tagName.toLowerCase(), text: e.textContent.trim().slice(0, 60),
         details: e.tagName === 'SUMMARY' ? e.parentElement.id : null}};
"""


def press(driver: Any, key: str) -> None:
    ActionChains(driver).send_keys(key).perform()


def is_open(driver: Any, details_id: str) -> bool:
    return driver.execute_script("return document.getElementById(arguments[0]).open", details_id)


def luminance(css_color: str) -> float:
    parts = [float(p) for p in css_color[css_color.index("(") + 1:-1].replace("/", ",").split(",")[:3]]
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def tab_through(driver: Any, on_stop) -> list[dict]:
    """Press Tab from the top of the page until focus leaves it; call on_stop(active) at each stop."""
    stops: list[dict] = []
    for _ in range(200):
        press(driver, Keys.TAB)
        active = driver.execute_script(ACTIVE)
        if active["index"] < 0 or (stops and active["index"] <= stops[-1]["index"]):
            return stops  # focus went to the browser chrome or wrapped around
        stops.append(active)
        on_stop(active)
    raise AssertionError("Tab never left the page: a focus trap?")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_faq_entry_opens_and_closes_by_keyboard(browser, server, lang):
    open_page(browser, f"{server.origin}/?lang={lang}", 375)
    faq_ids = browser.execute_script("return [...document.querySelectorAll('.faq details')].map(d => d.id)")
    assert len(faq_ids) == len(DEMO["faq"])
    toggled: list[str] = []

    def toggle(active: dict) -> None:
        if not active["details"]:
            return
        details = active["details"]
        assert not is_open(browser, details), f"{details} was open before anyone asked"
        for key, name in ((Keys.ENTER, "Enter"), (Keys.SPACE, "Space")):
            press(browser, key)
            assert is_open(browser, details), f"{name} on the question did not open {details}"
            answer = browser.find_element(By.CSS_SELECTOR, f"#{details} > :not(summary)")
            assert answer.is_displayed() and answer.text.strip(), f"{details} opened but its answer is not shown"
            press(browser, key)
            assert not is_open(browser, details), f"{name} on the question did not close {details}"
            assert browser.execute_script(ACTIVE)["details"] == details, f"{name} moved focus off the question"
        toggled.append(details)

    stops = tab_through(browser, toggle)
    assert toggled == faq_ids, f"Tab reached {toggled}, the page has {faq_ids}; stops: {[s['text'] for s in stops]}"


def test_focus_is_visible_on_every_stop(browser, server):
    open_page(browser, f"{server.origin}/", 375)
    elements = browser.find_elements(By.CSS_SELECTOR, FOCUSABLE)
    resting = [browser.execute_script(RING, e) for e in elements]
    problems: list[str] = []

    def check(active: dict) -> None:
        ring = browser.execute_script(RING, elements[active["index"]])
        where = f"<{active['tag']}> {active['text']!r}"
        drawn = (ring["style"] != "none" and ring["width"] >= 2) or ring["shadow"] != "none"
        if not drawn:
            problems.append(f"{where}: no focus ring (outline {ring['outline']}, box-shadow {ring['shadow']})")
        elif (ring["outline"], ring["shadow"]) == (resting[active["index"]]["outline"],
                                                   resting[active["index"]]["shadow"]):
            problems.append(f"{where}: looks the same focused and unfocused ({ring['outline']})")
        elif ring["style"] != "none" and contrast(ring["color"], ring["background"]) < 3:
            problems.append(f"{where}: focus ring {ring['color']} on {ring['background']} is below 3:1")

    stops = tab_through(browser, check)
    assert len(stops) >= len(DEMO["faq"]) + 2, f"only {len(stops)} Tab stops: {stops}"
    assert stops[0]["text"] and browser.execute_script(
        "return document.querySelector('.skip').getBoundingClientRect().left") < 0, "skip link stays visible"
    assert problems == [], "focus is not visible:\n" + "\n".join(problems)


def test_skip_link_is_first_and_shows_when_focused(browser, server):
    open_page(browser, f"{server.origin}/", 375)
    press(browser, Keys.TAB)
    first = browser.switch_to.active_element
    assert first.get_attribute("class") == "skip"
    assert first.is_displayed() and first.rect["x"] >= 0, "the focused skip link is off screen"
    press(browser, Keys.ENTER)
    wait_for(browser, "return document.activeElement.id", "main")


def test_language_link_switches_lang_and_text(browser, server):
    open_page(browser, f"{server.origin}/", 375)  # the browser asks for Swedish
    assert browser.execute_script("return document.documentElement.lang") == "sv"
    assert browser.find_element(By.TAG_NAME, "h1").text == DEMO["title"]["sv"]

    link = browser.find_element(By.CSS_SELECTOR, "nav a")
    assert link.text == STRINGS["sv"]["other_lang_name"] and link.get_attribute("hreflang") == "en"
    link.click()
    wait_for(browser, "return document.documentElement.lang", "en")
    assert browser.find_element(By.TAG_NAME, "h1").text == DEMO["title"]["en"]
    assert DEMO["organisation"]["name"] in browser.title and DEMO["title"]["en"] in browser.title
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "main h2")]
    assert STRINGS["en"]["what_happened"] in headings and STRINGS["en"]["faq"] in headings, headings

    back = browser.find_element(By.CSS_SELECTOR, "nav a")
    assert back.text == STRINGS["en"]["other_lang_name"] and back.get_attribute("hreflang") == "sv"
    back.send_keys(Keys.ENTER)  # and back again by keyboard
    wait_for(browser, "return document.documentElement.lang", "sv")
    assert browser.find_element(By.TAG_NAME, "h1").text == DEMO["title"]["sv"]
