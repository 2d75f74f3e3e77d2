"""Reference codes: unique, unguessable, and readable over the phone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail import new_reference, normalise_reference
from chalicelib.mail.reference import ALPHABET, REFERENCE_RE


def test_ten_thousand_references_are_unique_and_well_formed() -> None:
    codes = [new_reference() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert all(REFERENCE_RE.fullmatch(code) for code in codes)
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    used = set("".join(codes).replace("-", ""))
    assert used == set(ALPHABET)  # every symbol is drawn (so the alphabet really is the documented one)


def test_alphabet_has_no_look_alikes() -> None:
    for ambiguous in "01OILUV":
        assert ambiguous not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET) == 29


def test_what_people_type_or_read_out_is_normalised() -> None:
    assert normalise_reference("k7qx 2m9d pa4t") == "K7QX-2M9D-PA4T"
    assert normalise_reference(" K7QX-2M9D-PA4T ") == "K7QX-2M9D-PA4T"
    assert normalise_reference("K7QX2M9DPA4T") == "K7QX-2M9D-PA4T"
    assert normalise_reference("K7QX-2M9D-PA4") is None  # too short
    assert normalise_reference("K7QX-2M9D-PA40") is None  # 0 is not in the alphabet
    assert normalise_reference("") is None


@given(st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_normalise_accepts_only_valid_codes(typed: str) -> None:
    result = normalise_reference(typed)
    assert result is None or REFERENCE_RE.fullmatch(result)


@given(st.just(None).map(lambda _: new_reference()))
@settings(max_examples=200, deadline=None)
def test_a_code_survives_being_read_out_and_typed_back(code: str) -> None:
    assert normalise_reference(code.lower().replace("-", " ")) == code
