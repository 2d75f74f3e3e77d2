"""The pages around the incident page: the list shown when two incidents are open, the incident page that then
links back to it, and the 404 page. Each fits a small phone and passes axe-core in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from browser_checks import assert_fits, assert_no_serious_violations
from browser_harness import Server, app_server, open_page, wait_for
from selenium.webdriver.common.by import By

from chalicelib.web import CONTENT_DIR
from chalicelib.web.strings import STRINGS

SLUG = "korkortsportalen-2024"
SECOND = "korkortsportalen-2025"
SECOND_TITLE = {"sv": "Ett andra intrång med en mycket lång rubrik som måste radbrytas snyggt på en liten telefon",
                "en": "A second intrusion with a very long heading that must wrap neatly on a small phone"}


def write_two_incidents(root: Path) -> None:
    demo = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
    second = {
        **demo, "slug": SECOND, "status": "investigating",
        "page_url": demo["page_url"].replace(SLUG, SECOND),
        "title": SECOND_TITLE,
    }
    for doc in (demo, second):
        (root / doc["slug"]).mkdir(parents=True)
        (root / doc["slug"] / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def two_open(tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("content")
    write_two_incidents(root)
    try:
        with app_server(root) as running:
            yield running
    except RuntimeError as exc:
        pytest.fail(f"the app would not serve two incidents under chalice local: {exc}", pytrace=False)


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", ["/", f"/incidents/{SECOND}", "/no-such-page"], ids=["list", "incident", "404"])
def test_page_fits_a_small_phone_and_passes_axe(browser, two_open, path, lang):
    open_page(browser, f"{two_open.origin}{path}?lang={lang}", 320)
    assert browser.execute_script("return document.documentElement.lang") == lang
    assert_fits(browser, 320, f"{path} ({lang})")
    assert_no_serious_violations(browser, f"{path} ({lang})")


def test_list_leads_to_each_incident_and_back(browser, two_open):
    open_page(browser, f"{two_open.origin}/", 375)
    assert browser.find_element(By.TAG_NAME, "h1").text == STRINGS["sv"]["list_title"]
    demo = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
    titles = {SLUG: demo["title"]["sv"], SECOND: SECOND_TITLE["sv"]}
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".incidents h2 a")}
    assert sorted(links) == sorted(titles.values())
    for title, link in links.items():
        browser.get(link)
        assert browser.find_element(By.TAG_NAME, "h1").text == title
        back = browser.find_element(By.CSS_SELECTOR, ".org a")
        assert back.text == STRINGS["sv"]["all_incidents"]
        back.click()
        wait_for(browser, "return document.querySelector('h1').textContent", STRINGS["sv"]["list_title"])
