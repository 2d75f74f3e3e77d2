"""An embeddable status badge (SVG): the organisation and the incident's state in words, for intranets and READMEs.

Drawn here, not from a template: a few lines of SVG need no Jinja, and no external font, image or style is used,
so the badge shows the same inside any page that embeds it. The words carry the meaning; the colour only repeats it.
"""

from __future__ import annotations

from chalicelib.content.model import Incident
from chalicelib.web.atom import escape
from chalicelib.web.strings import STRINGS

HEIGHT = 20
CHAR_WIDTH = 7  # Verdana 11 px averages under 7 px a character; textLength makes the text fit whatever font is used
PADDING = 8
LABEL_FILL = "#444"
FILL = {"investigating": "#8a3b00", "identified": "#8a3b00", "monitoring": "#1d5e20", "resolved": "#1d5e20"}
SEVERITY = ("resolved", "monitoring", "identified", "investigating")


def message(incidents: list[Incident], lang: str) -> tuple[str, str]:
    """The state in words, and the status whose colour repeats it."""
    open_incidents = [i for i in incidents if i.is_open]
    if not open_incidents:
        return STRINGS[lang]["badge_none"], "resolved"
    worst = max((i.status for i in open_incidents), key=SEVERITY.index)
    if len(open_incidents) == 1:
        return STRINGS[lang][f"status_{worst}"], worst
    return STRINGS[lang]["badge_many"].format(n=len(open_incidents)), worst


def render_badge(incidents: list[Incident], lang: str, name: str) -> str:
    words, status = message(incidents, lang)
    label = f"{STRINGS[lang]['status']}: {words}"
    said = f"{name}. {label}"
    left = len(name) * CHAR_WIDTH + 2 * PADDING
    right = len(words) * CHAR_WIDTH + 2 * PADDING
    text = 'font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" lengthAdjust="spacingAndGlyphs"'
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="{HEIGHT}" '
        f'viewBox="0 0 {left + right} {HEIGHT}" role="img" aria-label="{escape(said)}" xml:lang="{lang}">',
        f"<title>{escape(said)}</title>",
        f'<rect width="{left}" height="{HEIGHT}" fill="{LABEL_FILL}"/>',
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="{FILL[status]}"/>',
        '<g fill="#fff" text-anchor="middle" aria-hidden="true">',
        f'<text x="{left / 2:g}" y="14" textLength="{left - 2 * PADDING}" {text}>{escape(name)}</text>',
        f'<text x="{left + right / 2:g}" y="14" textLength="{right - 2 * PADDING}" {text}>{escape(words)}</text>',
        "</g>",
        "</svg>",
    ]) + "\n"
