"""Recognise the columns Swedish and English exports use, whatever their case, spacing and punctuation."""

from __future__ import annotations

import re

EMAIL = "email"
NAME = "name"
FIRST = "first"
LAST = "last"
PNR = "personnummer"
PHONE = "phone"
CARE_OF = "care_of"
STREET = "street"
POSTCODE = "postcode"
CITY = "city"
LANG = "lang"
IP = "ip"  # recognised only so that it is known to be dropped

_ALIASES: dict[str, tuple[str, ...]] = {
    EMAIL: (
        "epost",
        "epostadress",
        "epostaddress",
        "mail",
        "email",
        "emailadress",
        "emailaddress",
        "mailadress",
        "mejl",
        "mejladress",
        "emejl",
    ),
    NAME: ("namn", "name", "fullname", "fulltnamn", "kundnamn", "namnkund", "customername"),
    FIRST: ("förnamn", "fornamn", "firstname", "givenname", "tilltalsnamn"),
    LAST: ("efternamn", "lastname", "surname", "familyname"),
    PNR: (
        "personnummer",
        "personnr",
        "pnr",
        "nationalid",
        "nationalidnumber",
        "samordningsnummer",
        "personnummersamordningsnummer",
        "personalidentitynumber",
        "personalnumber",
    ),
    PHONE: (
        "telefon",
        "tel",
        "telnr",
        "telefonnummer",
        "mobil",
        "mobilnummer",
        "mobilnr",
        "mobiltelefon",
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "cellphone",
    ),
    CARE_OF: ("co", "careof"),
    STREET: (
        "adress",
        "gatuadress",
        "postadress",
        "utdelningsadress",
        "address",
        "streetaddress",
        "street",
        "adress1",
        "adress2",
        "address1",
        "address2",
        "gatuadress2",
    ),
    POSTCODE: ("postnummer", "postnr", "zip", "zipcode", "postcode", "postalcode"),
    CITY: ("ort", "postort", "stad", "city", "town"),
    LANG: ("språk", "sprak", "språkkod", "language", "lang"),
    IP: ("ip", "ipadress", "ipaddress", "ipnummer"),
}
_ROLE_OF = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}
_NOISE = re.compile(r"[\s\-_./:()*\"'#]+")
_MULTI = {STREET}  # roles where every matching column is kept (in file order), not just the first


def normalise_header(cell: str) -> str:
    """'  E-post ', 'E_POST', 'e-post:' all become 'epost'; 'c/o' becomes 'co'."""
    return _NOISE.sub("", cell.replace("\ufeff", "").lower())


def role_of(cell: str) -> str | None:
    return _ROLE_OF.get(normalise_header(cell))


def map_columns(header: list[str]) -> dict[str, list[int]]:
    """Role -> column indexes. The first column of a role wins, except street lines, which are all kept."""
    columns: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        role = role_of(cell)
        if role is None:
            continue
        if role in columns and role not in _MULTI:
            continue
        columns.setdefault(role, []).append(index)
    return columns
