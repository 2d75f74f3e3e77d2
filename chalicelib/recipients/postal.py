"""Is this a postal address a letter can be sent to? Swedish addresses, c/o and box lines, addresses abroad.

A Swedish address (Postnord's addressing rules) ends with a line `NNN NN POSTORT`: a five-digit postnummer,
written with or without the space (or with the old `SE-` prefix), then the town. Above it: a street line or a
box line (`Box 123`), optionally a c/o line. An address abroad ends with the country's name on its own line and
has at least two lines above it (their postcode rules are the destination's, not checked here). Addresses come
as one column (lines separated by commas or line breaks) or as split columns (Adress, Postnummer, Ort), which
the reader joins in that order. Reasons are fixed sentences, never a value from the address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINES = 5  # without the name: GOV.UK Notify allows 3-7 lines with the name; a C5 window holds about 6
MAX_LINE_CHARS = 50  # what fits the 90 mm window at the letter's 10 pt address type
_SPLIT = re.compile(r"\s*(?:\r\n|\r|\n|,|;)\s*")
_POSTNUMMER_LINE = re.compile(r"^(?:SE-?\s*)?(\d{3})\s?(\d{2})(?:\s+(\S.*))?$", re.IGNORECASE)
_BOX = re.compile(r"^(?:box|pl|postbox|fack)\s*\d+", re.IGNORECASE)
_CARE_OF = re.compile(r"^c/o\b", re.IGNORECASE)
_DIGITS = re.compile(r"^(?:SE-?\s*)?\d{3,}")  # a postnummer of the wrong shape, rather than none
_LETTER = re.compile(r"[^\W\d_]")
HOME = {"sverige", "sweden", "se"}
# Country names as Swedish export files write them on the last line (Swedish and English); an address whose last
# line names none of these is read as Swedish and must end with a postnummer.
COUNTRIES = {
    "norge", "norway", "danmark", "denmark", "finland", "suomi", "island", "iceland", "tyskland", "germany",
    "deutschland", "frankrike", "france", "spanien", "spain", "españa", "portugal", "italien", "italy", "nederländerna",
    "netherlands", "holland", "belgien", "belgium", "luxemburg", "luxembourg", "schweiz", "switzerland", "österrike",
    "austria", "polen", "poland", "estland", "estonia", "lettland", "latvia", "litauen", "lithuania", "tjeckien",
    "czechia", "czech republic", "slovakien", "slovakia", "ungern", "hungary", "rumänien", "romania", "bulgarien",
    "bulgaria", "grekland", "greece", "kroatien", "croatia", "slovenien", "slovenia", "irland", "ireland",
    "storbritannien", "united kingdom", "uk", "england", "skottland", "scotland", "förenade kungariket", "usa",
    "united states", "united states of america", "förenta staterna", "kanada", "canada", "australien", "australia",
    "nya zeeland", "new zealand", "turkiet", "turkey", "türkiye", "thailand", "japan", "kina", "china", "indien",
    "india", "brasilien", "brazil", "mexiko", "mexico", "sydafrika", "south africa", "ukraina", "ukraine",
    "ryssland", "russia", "cypern", "cyprus", "malta", "åland", "aland", "färöarna", "faroe islands", "grönland",
    "greenland", "förenade arabemiraten", "united arab emirates", "israel", "singapore", "argentina", "chile",
}

NO_ADDRESS = "needs a letter but has no usable postal address: the address is empty"
NO_POSTNUMMER = ("needs a letter but has no usable postal address: no postnummer (NNN NN) before the postort on "
                 "the last line (an address abroad must end with the country)")
BAD_POSTNUMMER = "needs a letter but has no usable postal address: the postnummer is not five digits (NNN NN)"
NO_POSTORT = "needs a letter but has no usable postal address: no postort after the postnummer"
NO_STREET = "needs a letter but has no usable postal address: no street or box line above the postnummer"
FOREIGN_SHORT = ("needs a letter but has no usable postal address: an address abroad needs a street line and a "
                 "town line above the country")
TOO_MANY_LINES = (f"needs a letter but has no usable postal address: more than {MAX_LINES} lines, which do not fit "
                  "the envelope window")
LINE_TOO_LONG = (f"needs a letter but has no usable postal address: a line is longer than {MAX_LINE_CHARS} "
                 "characters, which does not fit the envelope window")


class UnusableAddress(ValueError):
    """The address cannot take a letter; str() is the fixed reason."""


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """The lines printed in the envelope window under the name, and what kind of address it is."""

    lines: tuple[str, ...]
    kind: str  # "street", "box" or "foreign"
    care_of: bool = False


def parse_postal_address(text: str) -> PostalAddress:
    """The address as window lines (postnummer as `NNN NN`); raises UnusableAddress with the reason."""
    found = _parse(text)
    if isinstance(found, str):
        raise UnusableAddress(found)
    return found


def address_problem(text: str) -> str | None:
    """None when a letter can be sent to `text`, else the fixed reason (no exception: the import calls this for
    every row that needs a letter, which in a broken export can be most rows)."""
    found = _parse(text)
    return found if isinstance(found, str) else None


def _parse(text: str) -> PostalAddress | str:
    if not text or text.isspace():
        return NO_ADDRESS
    lines = [" ".join(part.split()) for part in _SPLIT.split(text)]
    lines = [line for line in lines if line]
    if not lines:
        return NO_ADDRESS
    if lines[-1].casefold() in HOME and len(lines) > 1:
        lines.pop()  # "Sverige" last: a Swedish address, sent from Sweden without the country
    if len(lines) > MAX_LINES:
        return TOO_MANY_LINES
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        return LINE_TOO_LONG
    care_of = _CARE_OF.match(lines[0]) is not None
    last = lines[-1]
    if last.casefold() in COUNTRIES:
        if len(lines) < 3:
            return FOREIGN_SHORT
        return PostalAddress((*lines[:-1], last.upper()), "foreign", care_of)
    found = _POSTNUMMER_LINE.match(last)
    if found is None:
        return BAD_POSTNUMMER if _DIGITS.match(last) else NO_POSTNUMMER
    if not found.group(3) or not _LETTER.search(found.group(3)):
        return NO_POSTORT
    above = [line for line in lines[:-1] if not _CARE_OF.match(line)]
    if not above:
        return NO_STREET
    kind = "box" if any(_BOX.match(line) for line in above) else "street"
    town = f"{found.group(1)} {found.group(2)} {found.group(3)}"
    return PostalAddress((*lines[:-1], town), kind, care_of)

