"""Every e-mail notis sends, as a phone's mail app shows its HTML part: no sideways scrolling and no link past
the edge at 320 and 375 px, and readable in dark mode. Each kind in both languages, from the demo incident."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_checks import assert_fits
from browser_harness import ROOT, open_page

from chalicelib.content.loader import load_incidents
from chalicelib.mail import MailSpec, compose

INCIDENT = load_incidents(ROOT / "chalicelib" / "incidents")[0]
KINDS = {
    "notice-customers": MailSpec("notice", "customers"),
    "notice-schools": MailSpec("notice", "schools"),
    "reminder": MailSpec("reminder", "customers"),
    "update": MailSpec("update", "customers", INCIDENT.updates[-1].id),
}
# A long name (a school's shared mailbox) and a reference code, as real mail carries them.
NAMES = ["Annika Andersson-Bergström", "Körkortsskolan Syd AB, kursadministrationen"]


@pytest.fixture(scope="module")
def mails(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("mail")
    files = {}
    for kind, spec in KINDS.items():
        for lang in ("sv", "en"):
            composed = compose(INCIDENT, spec, names=NAMES, lang=lang, reference="K7QX-2M9D-PA4T4")
            path = folder / f"{kind}.{lang}.html"
            path.write_text(composed.html, encoding="utf-8")
            files[kind, lang] = path
    return files


LINKS_PAST_THE_EDGE = """
    const width = arguments[0];
    return [...document.querySelectorAll('a')].filter(a => [...a.getClientRects()].some(r => r.right > width + 0.5))
      .map(a => a.textContent.trim().slice(0, 60));"""


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("width", [320, 375])
def test_every_mail_fits_a_phone_and_every_link_wraps(browser, mails, kind, lang, width):
    open_page(browser, mails[kind, lang].as_uri(), width)
    assert_fits(browser, width, f"the {kind} e-mail ({lang})")
    assert browser.execute_script(LINKS_PAST_THE_EDGE, width) == []


CONTRAST = """
    const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = c => {
        const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const background = el => {
        for (; el; el = el.parentElement) {
            const b = getComputedStyle(el).backgroundColor;
            if (!b.endsWith(', 0)') && b !== 'transparent') return rgb(b); }
        return [255, 255, 255]; };
    const ratios = [...document.querySelectorAll('p, li, h2, a')].map(el => {
        const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); });
    return Math.min(...ratios);"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_notice_is_readable_in_light_and_dark_mode(browser, mails, scheme, lang):
    open_page(browser, mails["notice-customers", lang].as_uri(), 375, scheme=scheme)
    assert browser.execute_script(CONTRAST) >= 4.5, f"text too faint in {scheme} mode"
