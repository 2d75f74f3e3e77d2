"""With JavaScript turned off the page is whole: every section, every question, and answers that open on a click."""

from __future__ import annotations

import pytest
import yaml
from browser_harness import open_page
from selenium.webdriver.common.by import By

from chalicelib.web import CONTENT_DIR
from chalicelib.web.strings import STRINGS

SLUG = "korkortsportalen-2024"
DEMO = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
SECTIONS = ("what_happened", "categories", "consequences", "measures", "advice", "genuine", "timeline", "faq",
            "contact")
# A page whose title only changes if its script runs: proves the browser really has JavaScript off.
PROBE = "data:text/html,<title>off</title><script>document.title='on'</script>"


def test_the_second_browser_really_has_javascript_off(browser_nojs):
    browser_nojs.get(PROBE)
    assert browser_nojs.title == "off"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_page_is_complete_and_faq_toggles_without_javascript(browser_nojs, server, lang):
    open_page(browser_nojs, f"{server.origin}/?lang={lang}", 375)
    assert browser_nojs.find_element(By.TAG_NAME, "h1").text == DEMO["title"][lang]
    headings = [h.text for h in browser_nojs.find_elements(By.CSS_SELECTOR, "main h2") if h.is_displayed()]
    missing = [STRINGS[lang][key] for key in SECTIONS if STRINGS[lang][key] not in headings]
    assert missing == [], f"sections not shown without JavaScript: {missing}"
    categories = browser_nojs.find_element(By.CSS_SELECTOR, ".categories").text
    assert all(c[lang] in categories for c in DEMO["data_categories"])

    entries = browser_nojs.find_elements(By.CSS_SELECTOR, ".faq details")
    assert [e.find_element(By.TAG_NAME, "summary").text for e in entries] == [q["question"][lang] for q in DEMO["faq"]]
    for entry in entries:
        summary = entry.find_element(By.TAG_NAME, "summary")
        answer = entry.find_element(By.CSS_SELECTOR, ":scope > :not(summary)")
        assert not answer.is_displayed()
        summary.click()
        assert entry.get_attribute("open") is not None and answer.is_displayed() and answer.text.strip(), (
            f"{summary.text!r} did not open on a click")
        summary.click()
        assert entry.get_attribute("open") is None and not answer.is_displayed(), (
            f"{summary.text!r} did not close on a click")
