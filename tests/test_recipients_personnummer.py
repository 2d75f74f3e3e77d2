"""Personnummer and samordningsnummer: generated valid numbers pass in every format; one wrong digit fails."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.recipients.personnummer import (
    BAD_CHECK_DIGIT,
    BAD_DATE,
    WRONG_LENGTH,
    luhn_ok,
    validate_personnummer,
)


def check_digit(nine: str) -> str:
    for c in "0123456789":
        if luhn_ok(nine + c):
            return c
    raise AssertionError("no check digit")


@st.composite
def personnummer(draw: st.DrawFn) -> tuple[str, str]:
    """(formatted number, its ten digits)"""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    coordination = draw(st.booleans())
    day = born.day + (60 if coordination else 0)
    serial = draw(st.integers(0, 999))
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    ten = nine + check_digit(nine)
    style = draw(st.sampled_from(["yymmdd-nnnn", "yymmdd+nnnn", "yymmddnnnn", "12", "12-", " spaced "]))
    century = f"{born.year // 100}"
    formatted = {
        "yymmdd-nnnn": f"{ten[:6]}-{ten[6:]}",
        "yymmdd+nnnn": f"{ten[:6]}+{ten[6:]}",
        "yymmddnnnn": ten,
        "12": century + ten,
        "12-": f"{century}{ten[:6]}-{ten[6:]}",
        " spaced ": f" {century}{ten[:6]} {ten[6:]} ",
    }[style]
    return formatted, ten


@given(personnummer())
def test_generated_valid_numbers_pass(number: tuple[str, str]) -> None:
    assert validate_personnummer(number[0]) is None


@given(personnummer(), st.integers(0, 9), st.integers(1, 9))
def test_any_single_digit_change_is_caught(number: tuple[str, str], position: int, delta: int) -> None:
    _, ten = number
    digits = list(ten)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    assert validate_personnummer(f"{changed[:6]}-{changed[6:]}") in (BAD_CHECK_DIGIT, BAD_DATE)


def test_known_examples() -> None:
    assert validate_personnummer("811218-9876") is None
    assert validate_personnummer("19811218-9876") is None
    assert validate_personnummer("811218-9877") == BAD_CHECK_DIGIT
    assert validate_personnummer("701063-2391") is None  # samordningsnummer: day 03 + 60
    assert validate_personnummer("811318-9876") == BAD_DATE  # month 13
    assert validate_personnummer("810230-1234") == BAD_DATE  # 30 February
    assert validate_personnummer("21811218-9876") == BAD_DATE  # no such century
    assert validate_personnummer("") is None


@given(st.text(max_size=20))
def test_any_text_gets_none_or_a_reason_without_the_value(value: str) -> None:
    reason = validate_personnummer(value)
    assert reason in (None, WRONG_LENGTH, BAD_DATE, BAD_CHECK_DIGIT)


@given(st.text(alphabet="0123456789-+ ", max_size=16).filter(lambda s: len(s.replace(" ", "")) not in (10, 11, 12, 13)))
def test_wrong_lengths(value: str) -> None:
    if value.strip():
        assert validate_personnummer(value) == WRONG_LENGTH


AUTOCORRECTED_DASHES = ["\u2013", "\u2014", "\u2212", "\u2011"]  # en dash, em dash, minus sign, non-breaking hyphen


@given(personnummer(), st.sampled_from(AUTOCORRECTED_DASHES))
def test_dash_autocorrected_by_excel_or_word_is_accepted_like_a_hyphen(number: tuple[str, str], dash: str) -> None:
    _, ten = number
    assert validate_personnummer(f"{ten[:6]}{dash}{ten[6:]}") is None
    assert validate_personnummer(f"19811218{dash}9876") is None
    assert validate_personnummer(f"811218{dash}9877") == BAD_CHECK_DIGIT
    assert validate_personnummer(f"811218{dash}{dash}9876") == WRONG_LENGTH


def test_dash_in_a_windows_1252_file_is_read_as_a_hyphen() -> None:
    """Excel's plain CSV writes the en dash as byte 0x96; the number is still valid."""
    import io

    from chalicelib.recipients import read_recipients

    data = "Namn;Personnummer;E-post\r\nAnna;811218–9876;a@x.se\r\nBo;811218–9877;b@x.se\r\n".encode("cp1252")
    assert b"\x96" in data
    result = read_recipients(io.BytesIO(data), max_bytes=1 << 20, hmac_key=b"k")
    assert [(w.line, w.reason) for w in result.warnings] == [(3, BAD_CHECK_DIGIT)]
