"""axe-core (from npm, injected through the driver, never served by the page) finds nothing serious or critical,
in both languages and both colour schemes, with the FAQ closed and open."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser_harness import AXE, open_page

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(JSON.stringify({version: axe.version, rules: r.passes.length + r.violations.length
                                  + r.incomplete.length + r.inapplicable.length, violations: r.violations})))
  .catch(e => done(JSON.stringify({error: String(e)})));
"""


def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` (or `make browser-deps`)", pytrace=False)
    return AXE.read_text(encoding="utf-8")


def run_axe(driver: Any) -> dict:
    driver.execute_script(axe_source())
    result = json.loads(driver.execute_async_script(RUN_AXE))
    assert "error" not in result, f"axe-core did not run: {result['error']}"
    assert result["rules"] > 20, f"axe-core ran only {result['rules']} rules"
    return result


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:120]}")
            lines.append("      " + node.get("failureSummary", "").replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.parametrize("faq_open", [False, True], ids=["faq-closed", "faq-open"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_axe_finds_no_serious_or_critical_violations(browser, server, lang, scheme, faq_open):
    open_page(browser, f"{server.origin}/?lang={lang}", 375, scheme=scheme)
    if faq_open:
        browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    result = run_axe(browser)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    others = [v for v in result["violations"] if v not in serious]
    if others:
        print(f"axe-core {result['version']} ({lang}, {scheme}), minor or moderate:\n{describe(others)}")
    assert serious == [], (f"axe-core {result['version']} found serious or critical violations on the {lang} page "
                           f"({scheme} scheme):\n{describe(serious)}")
