"""E-mail normalisation: the fast path is proven against email-validator; reasons never echo the address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.recipients.email import (
    FAST_ADDRESS,
    NO_ADDRESS,
    InvalidEmail,
    fast_normalise,
    normalise_email,
)


def test_the_fast_path_is_taken_for_plain_addresses() -> None:
    assert fast_normalise("anna.andersson@exempel.se") == "anna.andersson@exempel.se"
    assert fast_normalise("bo.berg+kvitto@example.com") == "bo.berg+kvitto@example.com"


@settings(max_examples=1500)
@given(st.from_regex(FAST_ADDRESS, fullmatch=True))
@example("anna.andersson@exempel.se")
@example("a@b.co")
@example("x@y.local")
@example("x@xn--bcher-kva.de")
def test_every_fast_path_address_is_accepted_by_email_validator_unchanged(address: str) -> None:
    fast = fast_normalise(address)
    if fast is None:
        return  # left to email-validator
    assert validate_email(address, check_deliverability=False).normalized == fast


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from("aZ09._%+-@.åö-x'! "), max_size=30))
def test_fast_path_never_accepts_what_email_validator_rejects(text: str) -> None:
    fast = fast_normalise(text)
    if fast is not None:
        assert validate_email(text, check_deliverability=False).normalized == fast


@given(st.text(max_size=40))
def test_any_cell_gives_an_address_or_a_reason_without_it(cell: str) -> None:
    try:
        normalised = normalise_email(cell)
    except InvalidEmail as exc:
        reason = str(exc)
        assert reason == NO_ADDRESS or reason.startswith("the e-mail address is not valid: ")
        stripped = cell.strip()
        if len(stripped) >= 3 and not set(stripped) <= set("abcdefghijklmnopqrstuvwxyz @-.'"):
            assert stripped not in reason  # (plain lower-case words may occur in the fixed sentences)
        assert "'" not in reason and "@" not in reason.replace("@-sign", "").replace("missing @", "").replace(
            "more than one @", ""
        )
    else:
        assert "@" in normalised
        assert validate_email(normalised, check_deliverability=False).normalized == normalised


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("  anna@exempel.se\xa0", "anna@exempel.se"),
        ("\ufeffAnna.A@Exempel.SE", "Anna.A@exempel.se"),
        ("åsa@exempel.se", "åsa@exempel.se"),
        ("kalle@bücher.de", "kalle@bücher.de"),
        ("kalle@xn--bcher-kva.de", "kalle@bücher.de"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_normalisation(cell: str, expected: str) -> None:
    assert normalise_email(cell) == expected


@pytest.mark.parametrize(
    ("cell", "detail"),
    [
        ("anna.exempel.se", "missing @"),
        ("anna@@exempel.se", "more than one @"),
        ("anna@exempel", "the part after the @-sign is not valid"),
        ("anna andersson@exempel.se", "it contains a space"),
        ("anna@exempel.local", "the part after the @-sign is a special-use or reserved name"),
        ("=cmd|' /C calc'!A0@x.se", "it contains a space"),
        ("<script>@x.se", ""),
        ("anna.@exempel.se", "it cannot have a period immediately before the @-sign"),
        ("anna(at)exempel.se", "missing @"),
    ],
)
def test_reasons(cell: str, detail: str) -> None:
    with pytest.raises(InvalidEmail) as info:
        normalise_email(cell)
    assert str(info.value).startswith(f"the e-mail address is not valid: {detail}")
    assert "script" not in str(info.value) and "cmd" not in str(info.value)


def test_empty_is_no_address() -> None:
    for cell in ("", "   ", "\xa0", "\u200b"):
        with pytest.raises(InvalidEmail, match=NO_ADDRESS):
            normalise_email(cell)


def test_email_validator_rejects_what_we_reject() -> None:
    with pytest.raises(EmailNotValidError):
        validate_email("anna@exempel", check_deliverability=False)
