"""From the letter list (rows of the uploaded file) to letters: one per household at one postal address.

People at the same address (compared without case and spacing) get one letter naming each of them, as they get
one e-mail at a shared address. A person whose address cannot take a letter is counted by line, never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from chalicelib.content.model import Incident
from chalicelib.mail.letter import compose_letter
from chalicelib.mail.reference import new_reference
from chalicelib.mail.render import MAX_NAMES, MailSpec, clean_names, normalise_lang
from chalicelib.mail.strings import STRINGS, format_date, join_names
from chalicelib.recipients.postal import PostalAddress, UnusableAddress, parse_postal_address
from notis_cli.letters.pdf import Letter

HOUSEHOLD = {"sv": "Hushållet", "en": "The household"}  # the window line when the names do not fit
PAGE_LABEL = {"sv": "sida", "en": "page"}


@dataclass
class Household:
    address: PostalAddress
    lang: str
    names: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # rows of the uploaded file
    key: str = ""  # the first recipient key (HMAC of an e-mail address) among them; "" when nobody has one


@dataclass
class Households:
    found: list[Household]
    unusable: list[tuple[int, str]]  # (line, fixed reason): need a letter, no usable postal address

    @property
    def people(self) -> int:
        return sum(len(h.lines) for h in self.found)


def households(rows: Iterable[Any], *, default_lang: str = "sv",
               key_of: Callable[[Any], str] = lambda _row: "") -> Households:
    """Group letter rows (`line`, `name`, `postal_address`, `lang`) by postal address, in file order;
    `key_of(row)` is the row's recipient key ("" without a usable e-mail address)."""
    by_address: dict[tuple[str, ...], Household] = {}
    unusable: list[tuple[int, str]] = []
    for row in rows:
        try:
            address = parse_postal_address(row.postal_address)
        except UnusableAddress as exc:
            unusable.append((row.line, str(exc)))
            continue
        key = tuple(line.casefold() for line in address.lines)
        home = by_address.get(key)
        if home is None:
            lang = normalise_lang(getattr(row, "lang", None) or default_lang)
            home = by_address[key] = Household(address, lang)
        if row.name:
            home.names.append(row.name)
        home.lines.append(row.line)
        home.key = home.key or key_of(row)
    return Households(list(by_address.values()), unusable)


def sender_lines(incident: Incident) -> tuple[str, ...]:
    org = incident.organisation
    contact = org.contact
    web = urlsplit(org.website or incident.page_url).netloc
    second = " · ".join(v for v in (contact.phone, web) if v)
    return (org.name, second) if second else (org.name,)


def window_lines(household: Household) -> tuple[str, ...]:
    """The names line (everyone at the address, as the greeting names them), then the address."""
    people = clean_names(household.names)
    if not people or len(people) > MAX_NAMES:
        who = HOUSEHOLD[household.lang]
    else:
        who = join_names(people, household.lang)
    return (who, *household.address.lines)


def letters_for(
    incident: Incident, spec: MailSpec, found: Iterable[Household], *, on: date,
    reference: Callable[[Household], str] = lambda _household: new_reference(),
) -> Iterator[Letter]:
    """One Letter per household, in the household's language; `reference` gives each letter its code."""
    sender = sender_lines(incident)
    for home in found:
        code = reference(home)
        body = compose_letter(incident, spec, names=home.names, lang=home.lang, reference=code)
        yield Letter(recipient=window_lines(home), sender=sender, date=format_date(on, body.lang),
                     reference=code, html=body.html, lang=body.lang, page_label=PAGE_LABEL[body.lang])


__all__ = ["STRINGS", "Household", "Households", "households", "letters_for", "sender_lines", "window_lines"]
