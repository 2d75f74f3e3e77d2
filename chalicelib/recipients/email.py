"""Normalise and validate e-mail addresses: a strict fast path for plain addresses, email-validator for the rest.

email-validator checks about 27,000 addresses a second here, too slow for every row of a large file. Plain ASCII
addresses matching FAST_ADDRESS are accepted without it; tests/test_recipients_email.py proves with hypothesis
that email-validator accepts every such address and normalises it to the same string. Everything else
(international addresses, oddities, mistakes) goes to email-validator, without DNS lookups.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

_LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
FAST_ADDRESS = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,24}})")
# Reserved names email-validator rejects; a fast-path match ending in one of them takes the slow path.
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_TRIM = " \t\r\n\xa0\u200b\u2060\ufeff"

NO_ADDRESS = "no e-mail address"


class InvalidEmail(ValueError):
    """The reason is plain words without any part of the address."""


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
    """Trimmed, validated address with the domain normalised; raises InvalidEmail with a reason staff can use."""
    address = raw.strip(_TRIM)
    if not address:
        raise InvalidEmail(NO_ADDRESS)
    fast = fast_normalise(address)
    if fast is not None:
        return fast
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(invalid_reason(address, str(exc))) from None


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
