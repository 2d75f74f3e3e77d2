"""Postal addresses for letters: which can take a letter, how they are printed, and the reason when not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.recipients import postal
from chalicelib.recipients.collect import collect
from chalicelib.recipients.postal import PostalAddress, UnusableAddress, address_problem, parse_postal_address
from chalicelib.recipients.table import Row

KEY = b"k" * 32


@pytest.mark.parametrize(("text", "lines", "kind"), [
    ("Storgatan 1, 123 45 Stockholm", ("Storgatan 1", "123 45 Stockholm"), "street"),
    ("Storgatan 1\n12345 Stockholm", ("Storgatan 1", "123 45 Stockholm"), "street"),  # no space: printed NNN NN
    ("Storgatan 1, SE-123 45 Stockholm, Sverige", ("Storgatan 1", "123 45 Stockholm"), "street"),
    ("c/o Berg, Ågatan 3 lgh 1102, 972 31 Luleå", ("c/o Berg", "Ågatan 3 lgh 1102", "972 31 Luleå"), "street"),
    ("Box 123, 101 23 STOCKHOLM", ("Box 123", "101 23 STOCKHOLM"), "box"),
    ("Ole Bulls gate 2, 0166 Oslo, Norge", ("Ole Bulls gate 2", "0166 Oslo", "NORGE"), "foreign"),
    ("10 Downing Street, London SW1A 2AA, United Kingdom",
     ("10 Downing Street", "London SW1A 2AA", "UNITED KINGDOM"), "foreign"),
])
def test_usable_addresses_print_as_window_lines(text: str, lines: tuple[str, ...], kind: str) -> None:
    found = parse_postal_address(text)
    assert found.lines == lines and found.kind == kind
    assert found.care_of == text.startswith("c/o")


@pytest.mark.parametrize(("text", "reason"), [
    ("", postal.NO_ADDRESS),
    (" , \n ", postal.NO_ADDRESS),
    ("Storgatan 1, Stockholm", postal.NO_POSTNUMMER),  # missing postnummer
    ("Storgatan 1, 1234 Stockholm", postal.BAD_POSTNUMMER),  # wrong shape: four digits
    ("Storgatan 1, 123456 Stockholm", postal.BAD_POSTNUMMER),  # six digits
    ("Storgatan 1, 123 4 Stockholm", postal.BAD_POSTNUMMER),
    ("Storgatan 1, 123 45", postal.NO_POSTORT),
    ("123 45 Stockholm", postal.NO_STREET),
    ("c/o Berg, 123 45 Stockholm", postal.NO_STREET),
    ("Ole Bulls gate 2, Norge", postal.FOREIGN_SHORT),
    ("a, b, c, d, e, 123 45 Ort", postal.TOO_MANY_LINES),
    ("Storgatan " + "1" * 60 + ", 123 45 Stockholm", postal.LINE_TOO_LONG),
])
def test_unusable_addresses_say_why(text: str, reason: str) -> None:
    with pytest.raises(UnusableAddress) as raised:
        parse_postal_address(text)
    assert str(raised.value) == reason
    assert address_problem(text) == reason
    assert reason.startswith("needs a letter but has no usable postal address")


@given(st.text(max_size=200))
def test_any_text_gives_an_address_or_a_fixed_reason(text: str) -> None:
    try:
        found = parse_postal_address(text)
    except UnusableAddress as exc:
        assert str(exc) in {v for k, v in vars(postal).items() if k.isupper() and isinstance(v, str)}
        return
    assert isinstance(found, PostalAddress)
    assert 2 <= len(found.lines) <= postal.MAX_LINES
    assert all(line and len(line) <= postal.MAX_LINE_CHARS and "\n" not in line for line in found.lines)


@given(st.from_regex(r"[A-ZÅÄÖ][a-zåäö]{2,12}gatan [1-9][0-9]?", fullmatch=True),
       st.from_regex(r"[1-9][0-9]{4}", fullmatch=True), st.booleans(),
       st.from_regex(r"[A-ZÅÄÖ][a-zåäö]{2,15}", fullmatch=True))
def test_split_or_joined_postnummer_is_printed_nnn_nn(street: str, digits: str, spaced: bool, town: str) -> None:
    written = f"{digits[:3]} {digits[3:]}" if spaced else digits
    found = parse_postal_address(f"{street}\n{written} {town}")
    assert found.lines == (street, f"{digits[:3]} {digits[3:]} {town}")


def test_import_counts_each_person_a_letter_cannot_reach_by_line() -> None:
    rows = [
        Row(2, "", "Anna", postal_address="Storgatan 1, 123 45 Åby"),  # letter, fine
        Row(3, "", "Bo", postal_address=""),  # letter, no address at all
        Row(4, "inte-en-adress", "Cia", postal_address="Storgatan 1, 1234 Åby"),  # invalid e-mail, bad postnummer
        Row(5, "dan@example.se", "Dan", postal_address=""),  # mailed: needs no postal address
    ]
    result = collect(rows, hmac_key=KEY)
    assert [(i.line, i.reason) for i in result.unreachable] == [(3, postal.NO_ADDRESS), (4, postal.BAD_POSTNUMMER)]
    assert result.unreachable_count == 2 and result.letters_count == 3
