"""Printed for the reader's records, the page is a readable notice: every answer shown, no navigation chrome."""

from __future__ import annotations

import base64
import os

import pytest
import yaml
from browser_harness import open_page
from selenium.webdriver.common.by import By

from chalicelib.web import CONTENT_DIR

DEMO = yaml.safe_load((CONTENT_DIR / "korkortsportalen-2024" / "incident.yaml").read_text(encoding="utf-8"))
VISIBLE = """
const e = arguments[0], r = e.getBoundingClientRect();
return e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}) && r.height > 0 && r.width > 0;
"""
PDF_LIMIT = 300_000  # bytes; a bigger PDF is not worth committing next to the screenshots


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_print_hides_navigation_and_shows_every_answer(browser, server, lang):
    open_page(browser, f"{server.origin}/?lang={lang}", 1280, media="print")
    assert browser.execute_script("return matchMedia('print').matches"), "print media is not emulated"
    nav = browser.find_element(By.CSS_SELECTOR, "header nav")
    assert not browser.execute_script(VISIBLE, nav), "the language link is printed"
    assert not browser.execute_script(VISIBLE, browser.find_element(By.CSS_SELECTOR, ".skip"))

    answers = browser.find_elements(By.CSS_SELECTOR, ".faq details > :not(summary)")
    hidden = [a.find_element(By.XPATH, "..").get_attribute("id") for a in answers
              if not browser.execute_script(VISIBLE, a)]
    assert len(answers) == len(DEMO["faq"])
    assert hidden == [], f"these FAQ answers would not be printed: {hidden}"
    assert browser.find_element(By.CSS_SELECTOR, ".address").is_displayed(), "the genuine address is not printed"
    ink = browser.execute_script("return getComputedStyle(document.body).color")
    assert ink == "rgb(0, 0, 0)", f"printed text is {ink}, not black"


def test_print_to_pdf(browser, server, screenshot_dir):
    """A real print of the Swedish page; kept beside the screenshots when it is small."""
    open_page(browser, f"{server.origin}/?lang=sv", 1280)
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {
        "printBackground": False, "preferCSSPageSize": True, "paperWidth": 8.27, "paperHeight": 11.69,
    })["data"])
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") >= 2
    if len(pdf) <= PDF_LIMIT or not os.environ.get("NOTIS_SCREENSHOTS"):
        (screenshot_dir / "print-sv.pdf").write_bytes(pdf)
