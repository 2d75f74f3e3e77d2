"""What the answer page says beyond the verdict: the wrong characters named in plain words, and whom to call.

Plain words because the reader may be frightened and on a phone: "the letter O", "a letter from another alphabet
(Cyrillic)", never a Unicode name such as CYRILLIC CAPITAL LETTER ER in a Swedish sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from chalicelib.content.markdown import to_plain
from chalicelib.mail.reference import NEVER_IN_CODES, WrongCharacter
from chalicelib.web.strings import STRINGS

MAX_NAMED = 4  # more wrong characters than this: the rest are counted, not named (a pasted sentence has dozens)
# Scripts whose letters are most often mistaken for Latin ones, by the first word of their Unicode names.
SCRIPTS = {"sv": {"CYRILLIC": "kyrilliska", "GREEK": "grekiska", "ARMENIAN": "armeniska", "CHEROKEE": "cherokesiska"},
           "en": {"CYRILLIC": "Cyrillic", "GREEK": "Greek", "ARMENIAN": "Armenian", "CHEROKEE": "Cherokee"}}
QUOTES = {"sv": ("”", "”"), "en": ("“", "”")}


def name_character(wrong: WrongCharacter, lang: str) -> str:
    """One character that is never in a code, as a reader would say it: `bokstaven O`, `the character “#”`."""
    s, c = STRINGS[lang], wrong.char
    left, right = QUOTES[lang]
    shown = f"{left}{c}{right}"
    category = unicodedata.category(c)
    if c in NEVER_IN_CODES:
        return s[f"verify_char_{c}"]
    if not c.isprintable() or category.startswith(("C", "Z", "M")):
        return s["verify_char_invisible"]
    if category.startswith("L"):
        script = wrong.name.split(" ")[0]
        if script == "LATIN":
            return s["verify_char_latin"].format(char=shown)
        named = SCRIPTS[lang].get(script)
        return (s["verify_char_script"].format(char=shown, script=named) if named
                else s["verify_char_other_script"].format(char=shown))
    if category.startswith("N"):
        return s["verify_char_digit"].format(char=shown)
    return s["verify_char_sign"].format(char=shown)


def name_characters(wrong: tuple[WrongCharacter, ...], lang: str) -> str:
    """`bokstaven O och siffran 0`; past MAX_NAMED, `… och 3 tecken till`."""
    s = STRINGS[lang]
    named = [name_character(w, lang) for w in wrong[:MAX_NAMED]]
    if len(wrong) > MAX_NAMED:
        named.append(s["verify_char_more"].format(n=len(wrong) - MAX_NAMED))
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + s["verify_and"] + named[-1]


def any_left_out(wrong: tuple[WrongCharacter, ...]) -> bool:
    return any(w.left_out_look_alike for w in wrong)


def any_other_alphabet(wrong: tuple[WrongCharacter, ...]) -> bool:
    """A letter of another script (Cyrillic Р for P): typed by hand it is a keyboard's, pasted it is a lure's."""
    return any(unicodedata.category(w.char).startswith("L") and not w.name.startswith("LATIN") for w in wrong)


@dataclass(frozen=True)
class ContactPoint:
    name: str
    phone: str
    tel: str  # the number for a tel: link (digits and a leading +)
    hours: str
    hours_lang: str  # the language the opening hours are written in (Swedish when there is no translation)
    email: str


def contact_points(incidents: Any, lang: str, slug: str | None = None) -> list[ContactPoint]:
    """The contact point of each incident's organisation (only `slug`'s when it names a published incident),
    each once, so a reader can call a number they found on our site rather than one in the message."""
    chosen = [i for i in incidents if i.slug == slug] or list(incidents)
    points: list[ContactPoint] = []
    for incident in chosen:
        contact = incident.organisation.contact
        hours, used = contact.hours.resolve(lang) if contact.hours else ("", lang)
        point = ContactPoint(name=incident.organisation.name, phone=contact.phone,
                             tel=re.sub(r"(?!^\+)\D", "", contact.phone.strip()), hours=to_plain(hours),
                             hours_lang=used, email=contact.email)
        if (point.phone or point.email) and point not in points:
            points.append(point)
    return points
