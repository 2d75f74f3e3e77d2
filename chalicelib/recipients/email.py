"""Normalise and validate e-mail addresses: a strict fast path for plain addresses, email-validator for the rest.

email-validator checks about 27,000 addresses a second here, too slow for every row of a large file. Plain ASCII
addresses matching FAST_ADDRESS are accepted without it; tests/test_recipients_email.py proves with hypothesis
that email-validator accepts every such address and normalises it to the same string. Everything else
(international addresses, oddities, mistakes) goes to email-validator, without DNS lookups.

SES v2 takes `Destination` addresses in 7-bit ASCII only: an international domain goes as punycode
(`ses_destination`, which the sender uses), but a local part with letters outside ASCII needs SMTPUTF8, which SES
does not offer. Such an address is valid yet unsendable: UnsendableEmail, and the person gets a letter.
"""

from __future__ import annotations

import re

import idna
from email_validator import EmailNotValidError, validate_email

_LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
FAST_ADDRESS = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,24}})")
# Reserved names email-validator rejects; a fast-path match ending in one of them takes the slow path.
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_TRIM = " \t\r\n\xa0\u200b\u2060\ufeff"

NO_ADDRESS = "no e-mail address"
MAX_ADDRESS_CHARS = 254  # RFC 5321's path limit less the angle brackets; SES and email-validator agree
TOO_LONG = f"the e-mail address is not valid: it is longer than {MAX_ADDRESS_CHARS} characters"
NON_ASCII_LOCAL = (
    "the e-mail address has letters SES cannot send to (å, ä, ö or other letters outside English before the @); "
    "this person needs a letter"
)
BAD_DOMAIN = (
    "the e-mail address has a domain (after the @) that cannot be written in the form e-mail needs (IDNA); "
    "this person needs a letter"
)
PUNYCODE_TOO_LONG = (
    f"the e-mail address is longer than {MAX_ADDRESS_CHARS} characters once its domain is written for sending; "
    "this person needs a letter"
)


class InvalidEmail(ValueError):
    """The reason is plain words without any part of the address."""


class UnsendableEmail(InvalidEmail):
    """A valid address that SES cannot send to (not 7-bit ASCII after IDNA): a letter, not a rejected row."""


def ses_destination(address: str) -> str:
    """The address as SES v2's Destination takes it: ASCII, the domain in punycode; raises UnsendableEmail.

    Pure and cheap, for the sender. The To header may keep the Unicode form; only the envelope must be ASCII.
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise UnsendableEmail("the e-mail address is not valid: missing @")
    if not local.isascii():
        raise UnsendableEmail(NON_ASCII_LOCAL)
    if not domain.isascii():
        if len(domain) > 253:  # before idna: encoding a long label costs time quadratic in its length
            raise UnsendableEmail(BAD_DOMAIN)
        try:
            domain = ".".join(
                label if label.isascii() else idna.alabel(label).decode("ascii") for label in domain.split(".")
            )
        except (idna.IDNAError, UnicodeError, ValueError):
            raise UnsendableEmail(BAD_DOMAIN) from None
    ascii_address = f"{local}@{domain}"
    if len(ascii_address) > MAX_ADDRESS_CHARS:
        raise UnsendableEmail(PUNYCODE_TOO_LONG)
    return ascii_address


def fast_normalise(address: str) -> str | None:
    """The normalised address if it is a plain address email-validator certainly accepts, else None."""
    m = FAST_ADDRESS.fullmatch(address)
    if m is None:
        return None
    local, domain = m.group(1), m.group(2)
    if len(local) > 64 or len(address) > 254 or len(domain) > 253 or "--" in domain:
        return None  # IDNA ("xn--") and edge cases: let email-validator decide
    domain = domain.lower()
    if domain.rpartition(".")[2] in _SPECIAL_TLDS:
        return None
    return f"{local}@{domain}"


def normalise_email(raw: str) -> str:
    """Trimmed, validated address with the domain normalised; raises InvalidEmail with a reason staff can use.

    Raises UnsendableEmail (an InvalidEmail) for a valid address SES cannot take: the person needs a letter.
    """
    address = raw.strip(_TRIM)
    if not address:
        raise InvalidEmail(NO_ADDRESS)
    if len(address) > MAX_ADDRESS_CHARS:  # before any parsing: a 100,000-character cell is a broken export
        raise InvalidEmail(TOO_LONG)
    fast = fast_normalise(address)
    if fast is not None:
        return fast
    try:
        normalised = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(invalid_reason(address, str(exc))) from None
    ses_destination(normalised)  # raises UnsendableEmail
    return normalised


def invalid_reason(address: str, message: str) -> str:
    """Our own words for the common mistakes; email-validator's message, cut before any quoted characters."""
    if "@" not in address and "＠" not in address:
        detail = "missing @"
    elif address.count("@") > 1:
        detail = "more than one @"
    elif any(c.isspace() for c in address):
        detail = "it contains a space"
    else:
        detail = message.split(":", 1)[0].split(" (", 1)[0].rstrip(". ")
        detail = detail[:1].lower() + detail[1:]
        if detail.startswith(("the email address ", "an email address ")):
            detail = "it " + detail.split(" address ", 1)[1]
    return f"the e-mail address is not valid: {detail}"
