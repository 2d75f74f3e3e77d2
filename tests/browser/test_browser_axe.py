"""axe-core (from npm, injected through the driver, never served by the page) finds nothing serious or critical,
in both languages and both colour schemes, with the FAQ closed and open."""

from __future__ import annotations

import pytest
from browser_checks import assert_no_serious_violations
from browser_harness import open_page


@pytest.mark.parametrize("faq_open", [False, True], ids=["faq-closed", "faq-open"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_axe_finds_no_serious_or_critical_violations(browser, server, lang, scheme, faq_open):
    open_page(browser, f"{server.origin}/?lang={lang}", 375, scheme=scheme)
    if faq_open:
        browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_no_serious_violations(browser, f"the {lang} page ({scheme} scheme, FAQ {'open' if faq_open else 'closed'})")
