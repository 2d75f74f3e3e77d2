"""Check Swedish personnummer and samordningsnummer (format, date, Luhn). A failure is a warning, never a skip."""

from __future__ import annotations

import re

# '-' and what Excel/Word autocorrect make of it (en dash, em dash, minus sign, hyphen, non-breaking hyphen); '+'.
_FORMAT = re.compile(r"(\d{2})?(\d{2})(\d{2})(\d{2})[-+\u2013\u2014\u2212\u2010\u2011]?(\d{4})")
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DOUBLED = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}

WRONG_LENGTH = "the personnummer is not 10 or 12 digits (ÅÅMMDD-NNNN or ÅÅÅÅMMDDNNNN)"
BAD_DATE = "the personnummer does not start with a valid date of birth"
BAD_CHECK_DIGIT = "the personnummer's check digit is wrong (a digit may be mistyped)"


def luhn_ok(digits: str) -> bool:
    """Luhn over the ten digits YYMMDDNNNC."""
    total = sum(map(_DOUBLED.__getitem__, digits[0::2])) + sum(map(int, digits[1::2]))
    return total % 10 == 0


def luhn_check_digit(nine: str) -> str:
    """The digit that makes YYMMDDNNN + digit pass Luhn (for generating test and demo data)."""
    total = sum(map(_DOUBLED.__getitem__, nine[0::2])) + sum(map(int, nine[1::2]))
    return str((10 - total % 10) % 10)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def validate_personnummer(value: str) -> str | None:
    """None when valid (or empty); else a reason without the number in it."""
    m = _FORMAT.fullmatch(value)
    if m is None:
        text = value.strip().replace(" ", "")
        if not text:
            return None
        m = _FORMAT.fullmatch(text)
        if m is None:
            return WRONG_LENGTH
    century, yy, mm, dd, serial = m.groups()
    month, day = int(mm), int(dd)
    if day > 60:
        day -= 60  # samordningsnummer
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month]:
        return BAD_DATE
    if century is not None and century not in ("18", "19", "20"):
        return BAD_DATE
    if month == 2 and day == 29:
        # Without a century, 29 February is possible whenever the two digits are a multiple of 4 (2000 was leap).
        if not (_leap(int(century + yy)) if century is not None else int(yy) % 4 == 0):
            return BAD_DATE
    if not luhn_ok(yy + mm + dd + serial):
        return BAD_CHECK_DIGIT
    return None
