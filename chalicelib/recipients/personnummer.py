"""Check Swedish personnummer and samordningsnummer (format, date, Luhn). A failure is a warning, never a skip."""

from __future__ import annotations

import calendar
import re

_FORMAT = re.compile(r"(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})")

WRONG_LENGTH = "the personnummer is not 10 or 12 digits (ÅÅMMDD-NNNN or ÅÅÅÅMMDDNNNN)"
BAD_DATE = "the personnummer does not start with a valid date of birth"
BAD_CHECK_DIGIT = "the personnummer's check digit is wrong (a digit may be mistyped)"


def luhn_ok(digits: str) -> bool:
    """Luhn over the ten digits YYMMDDNNNC."""
    total = 0
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def validate_personnummer(value: str) -> str | None:
    """None when valid (or empty); else a reason without the number in it."""
    text = value.strip().replace(" ", "")
    if not text:
        return None
    m = _FORMAT.fullmatch(text)
    if m is None:
        return WRONG_LENGTH
    century, yy, mm, dd, _sign, serial = m.groups()
    month, day = int(mm), int(dd)
    if day > 60:
        day -= 60  # samordningsnummer
    if not 1 <= month <= 12 or day < 1:
        return BAD_DATE
    if century is not None:
        if century not in ("18", "19", "20"):
            return BAD_DATE
        last = calendar.monthrange(int(century + yy), month)[1]
    else:
        last = calendar.monthrange(2000 if int(yy) % 4 == 0 else 2001, month)[1]
    if day > last:
        return BAD_DATE
    if not luhn_ok(yy + mm + dd + serial):
        return BAD_CHECK_DIGIT
    return None
