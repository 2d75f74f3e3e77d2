"""The page as it lands on a phone and a desktop: fits the screen, styled under its CSP, screenshots for review."""

from __future__ import annotations

import pytest
from browser_checks import assert_fits
from browser_harness import full_page_png, open_page


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("width", [320, 375, 1280])
def test_page_fits_the_screen_without_sideways_scrolling(browser, server, screenshot_dir, width, lang):
    open_page(browser, f"{server.origin}/?lang={lang}", width)
    assert browser.execute_script("return document.documentElement.lang") == lang
    assert_fits(browser, width, f"the {lang} page")
    if width in (375, 1280):
        (screenshot_dir / f"{lang}-{width}.png").write_bytes(full_page_png(browser, width))


def test_inline_stylesheet_is_applied_under_the_content_security_policy(browser, server):
    open_page(browser, f"{server.origin}/", 375)
    border, skip_left = browser.execute_script("""
        return [getComputedStyle(document.querySelector('nav a')).borderTopStyle,
                document.querySelector('.skip').getBoundingClientRect().left];""")
    assert border == "solid", "the page is unstyled: the CSP hash no longer matches the inlined style.css"
    assert skip_left < 0, "the skip link shows before it is focused: the stylesheet did not apply"
    refused = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == [], "the browser refused part of the page under its own CSP:\n" + "\n".join(refused)


def test_text_is_large_enough_to_read_on_a_phone(browser, server):
    open_page(browser, f"{server.origin}/", 375)
    smallest = browser.execute_script("""
        const sizes = [...document.querySelectorAll('main *')]
          .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
          .map(e => parseFloat(getComputedStyle(e).fontSize));
        return Math.min(...sizes);""")
    assert smallest >= 13, f"some text in main is {smallest} px: too small to read on a phone"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_whom_to_call_is_on_the_first_screen_of_a_phone(browser, server, lang):
    """A frightened reader looks for a phone number first: it must not wait behind the timeline and the FAQ."""
    open_page(browser, f"{server.origin}/?lang={lang}", 375)
    reach, phone, link, contact = browser.execute_script("""
        const top = s => document.querySelector(s).getBoundingClientRect().top + window.scrollY;
        return [top('.reach'), top('.reach a[href^="tel:"]'), top('.reach a[href="#h-contact"]'),
                top('#h-contact')];""")
    assert phone < 900 and link < 900, f"the contact line starts {reach:.0f} px down at 375 px"
    assert contact > reach, "the full contact section keeps its place after the timeline and the FAQ"
