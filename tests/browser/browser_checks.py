"""Checks shared by the browser tests: axe-core run in the page, and sideways scrolling."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser_harness import AXE

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']})
  .then(r => done(JSON.stringify({version: axe.version, rules: r.passes.length + r.violations.length
                                  + r.incomplete.length + r.inapplicable.length, violations: r.violations})))
  .catch(e => done(JSON.stringify({error: String(e)})));
"""
# What overflows a screen `arguments[0]` px wide, if anything: the reader would have to scroll sideways to read it.
WIDEST = """
const limit = arguments[0];
return [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > limit + 0.5)
  .slice(0, 8)
  .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> right=${Math.round(e.getBoundingClientRect().right)}`);
"""


def run_axe(driver: Any) -> dict:
    """axe-core injected through the driver (the page itself never loads it), run on the whole document."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` (or `make browser-deps`)", pytrace=False)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
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


def assert_no_serious_violations(driver: Any, where: str) -> None:
    result = run_axe(driver)
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    others = [v for v in result["violations"] if v not in serious]
    if others:
        print(f"axe-core {result['version']} on {where}, minor or moderate:\n{describe(others)}")
    assert serious == [], f"axe-core {result['version']} found serious or critical violations on {where}:\n" + describe(
        serious)


def assert_fits(driver: Any, width: int, where: str) -> None:
    """No sideways scrolling on a screen `width` px wide. A phone zooms out to fit a too-wide page (innerWidth
    grows), so both the document and the viewport must stay at the screen's width."""
    scroll_width, inner_width = driver.execute_script(
        "return [document.documentElement.scrollWidth, innerWidth]")
    assert scroll_width <= inner_width == width, (
        f"{where} on a {width} px screen is {scroll_width} px wide (viewport {inner_width} px): it scrolls "
        "sideways or shrinks to fit; too wide: " + "; ".join(driver.execute_script(WIDEST, width)))
