"""The public check as a reader meets it: the form, a genuine answer, a "not from us" answer, a typo and the
page's example fit 320, 375 and 1280 px screens and pass axe-core in both languages; after an answer the box to
correct the code is on the first screen of a phone; the form works with JavaScript off; 375 px screenshots of
the genuine and the typo answer (`make screenshots` writes them to docs/screenshots).

The app runs under `chalice local` as elsewhere, with its verify routes served by the verify function (the local
gateway, as API Gateway does in AWS), reading code records from a moto server on a local port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from browser_checks import assert_fits, assert_no_serious_violations
from browser_harness import Server, app_server, free_port, full_page_png, navigate, open_page
from selenium.webdriver.common.by import By

from chalicelib.verify.answer import EXAMPLE
from chalicelib.verify.codes import CodeBook
from chalicelib.web.strings import STRINGS

CODE = "K7QX-2M9D-PA4T4"
UNKNOWN = "ABCD-EFGH-JKMN6"
TYPO = "K7QX-2M9D-PA4T5"  # CODE with its last symbol misread: the check symbol tells
PHONE_SCREEN = 800  # CSS px: a common Android phone's screen is 360 x 800 (an iPhone 12 to 15's, 390 x 844)
SEND_ID = "korkortsportalen-2024.customers.notice"


@pytest.fixture(scope="module")
def verify_server() -> Iterator[Server]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-north-1", "AWS_REGION": "eu-north-1",
           "NOTIS_TABLE": "notis-verify-browser", "NOTIS_VERIFY_LIMIT": "1000/1000"}
    try:
        ddb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="eu-north-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
        ddb.create_table(TableName=env["NOTIS_TABLE"], BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}])
        CodeBook(ddb, env["NOTIS_TABLE"]).record(CODE, send_id=SEND_ID, campaign="c" + "0" * 20, key="ab" * 16,
                                                 now=time.time(), expires_at=int(time.time()) + 86400)
        with app_server(extra_env=env) as running:
            yield running
    except RuntimeError as exc:
        pytest.fail(f"the app would not serve the verify page under chalice local: {exc}", pytrace=False)
    finally:
        moto.stop()


PAGES = {"form": "", "genuine": f"&code={CODE.lower().replace('-', ' ')}", "not-ours": f"&code={UNKNOWN}",
         "empty": "&code=", "typo": f"&code={TYPO}", "example": f"&code={EXAMPLE}",
         "wrong-characters": "&code=K7QO-2M9D-PA4T0"}
SCREENSHOTS = {"genuine": "verify-{lang}-375.png", "typo": "verify-typo-{lang}-375.png"}


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_verify_pages_fit_every_screen_and_pass_axe(browser, verify_server, screenshot_dir, page, lang):
    for width in (320, 375, 1280):
        open_page(browser, f"{verify_server.origin}/verify?lang={lang}{PAGES[page]}", width)
        assert browser.execute_script("return document.documentElement.lang") == lang
        assert_fits(browser, width, f"/verify {page} ({lang}, {width} px)")
        if page in ("genuine", "not-ours", "typo"):  # the code in the answer is never broken over two lines
            lines = browser.execute_script("return document.querySelector('.answer-code .code').getClientRects()"
                                           ".length")
            assert lines == 1, f"the code wraps at {width} px ({lang})"
        if width == 375:
            assert_no_serious_violations(browser, f"/verify {page} ({lang})")
            if page in SCREENSHOTS:
                (screenshot_dir / SCREENSHOTS[page].format(lang=lang)).write_bytes(full_page_png(browser, 375))
    text = browser.find_element(By.TAG_NAME, "main").text
    expected = {"form": STRINGS[lang]["verify_intro"].format(example=EXAMPLE), "genuine": STRINGS[lang]["verify_yes"],
                "not-ours": STRINGS[lang]["verify_no"], "empty": STRINGS[lang]["verify_empty_title"],
                "typo": STRINGS[lang]["verify_typo"], "example": STRINGS[lang]["verify_example"],
                "wrong-characters": STRINGS[lang]["verify_chars"]}[page]
    assert expected in text


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("page", ["not-ours", "typo", "example", "wrong-characters"])
def test_after_an_answer_the_box_to_correct_the_code_is_on_a_phones_first_screen(browser, verify_server, page, lang):
    for width in (320, 375):
        open_page(browser, f"{verify_server.origin}/verify?lang={lang}{PAGES[page]}", width)
        bottom = browser.execute_script("const b = document.getElementById('code').getBoundingClientRect();"
                                        "return b.bottom + window.scrollY")
        assert bottom <= PHONE_SCREEN, f"the box ends {bottom:.0f} px down at {width} px ({page}, {lang})"
        field = browser.find_element(By.ID, "code")
        assert field.get_attribute("value") == PAGES[page].removeprefix("&code="), "the typed code stays"
        assert browser.execute_script("return document.activeElement.id") != "code", "no surprise focus jump"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_form_works_without_javascript(browser_nojs, verify_server, lang):
    open_page(browser_nojs, f"{verify_server.origin}/verify?lang={lang}", 375)
    field = browser_nojs.find_element(By.ID, "code")
    label = browser_nojs.find_element(By.CSS_SELECTOR, "label[for=code]")
    assert label.text == STRINGS[lang]["verify_label"]
    field.send_keys(" k7qx 2m9d pa4t4 ")  # as read out over the phone
    navigate(browser_nojs, browser_nojs.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    answer: Any = browser_nojs.find_element(By.CSS_SELECTOR, ".answer h2")
    assert STRINGS[lang]["verify_yes"] in answer.text
    assert browser_nojs.execute_script("return document.documentElement.lang") == lang
    field = browser_nojs.find_element(By.ID, "code")
    field.clear()
    field.send_keys(UNKNOWN)
    navigate(browser_nojs, browser_nojs.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert STRINGS[lang]["verify_no"] in browser_nojs.find_element(By.CSS_SELECTOR, ".answer h2").text


def test_the_incident_page_links_the_form_next_to_how_to_recognise_our_messages(browser, verify_server):
    open_page(browser, f"{verify_server.origin}/?lang=sv", 375)
    link = browser.find_element(By.CSS_SELECTOR, ".genuine a[href*='/verify']")
    assert link.text == STRINGS["sv"]["verify_link"]
    navigate(browser, link)
    assert browser.find_element(By.TAG_NAME, "h1").text == STRINGS["sv"]["verify_title"]
