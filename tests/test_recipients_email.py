"""E-mail normalisation: the fast path is proven against email-validator; reasons never echo the address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.recipients import email as E
from chalicelib.recipients.email import (
    FAST_ADDRESS,
    MAX_ADDRESS_CHARS,
    NO_ADDRESS,
    NON_ASCII_LOCAL,
    InvalidEmail,
    UnsendableEmail,
    fast_normalise,
    normalise_email,
    ses_destination,
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
    except UnsendableEmail as exc:
        assert str(exc).endswith("this person needs a letter") and cell.strip() not in str(exc)
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
        assert ses_destination(normalised).isascii(), "every accepted address is one SES can send to"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("  anna@exempel.se\xa0", "anna@exempel.se"),
        ("\ufeffAnna.A@Exempel.SE", "Anna.A@exempel.se"),
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


# -- what SES can take: 7-bit ASCII Destination addresses, international domains as punycode ----------------------

FIXED_REASONS = {E.NON_ASCII_LOCAL, E.BAD_DOMAIN, E.PUNYCODE_TOO_LONG, "the e-mail address is not valid: missing @"}
_ASCII_LOCAL = st.from_regex(r"[a-z0-9_%+-]{1,20}(\.[a-z0-9_%+-]{1,10}){0,2}", fullmatch=True)
_SWEDISH_LABEL = st.from_regex(r"[a-zåäöü]{1,12}(-[a-zåäöü]{1,8})?", fullmatch=True)
_TLD = st.sampled_from(["se", "com", "nu", "de", "org"])


@settings(max_examples=300)
@given(_ASCII_LOCAL, st.lists(_SWEDISH_LABEL, min_size=1, max_size=3), _TLD)
@example("anna", ["exempel-åäö"], "se")
def test_an_international_domain_stays_deliverable_and_goes_to_ses_as_punycode(local: str, labels: list[str],
                                                                              tld: str) -> None:
    address = f"{local}@{'.'.join(labels)}.{tld}"
    normalised = normalise_email(address)  # never raises for these
    destination = ses_destination(normalised)
    assert destination.isascii() and len(destination) <= MAX_ADDRESS_CHARS
    expected = validate_email(address, check_deliverability=False).ascii_email
    assert destination == expected, "the same punycode email-validator computes"
    if not all(label.isascii() for label in labels):
        assert "xn--" in destination.partition("@")[2]


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("abcåäöéüß"), min_size=1, max_size=20).filter(lambda t: not t.isascii()),
       st.sampled_from(["exempel.se", "exempel-åäö.se", "example.com"]))
@example("åsa", "exempel.se")
def test_a_local_part_outside_ascii_is_a_letter_with_a_plain_reason(local: str, domain: str) -> None:
    with pytest.raises(UnsendableEmail) as info:
        normalise_email(f"{local}@{domain}")
    assert str(info.value) == NON_ASCII_LOCAL
    assert local not in str(info.value) or local in "åäö"  # the fixed sentence names å, ä, ö as examples
    assert isinstance(info.value, InvalidEmail), "the letter list (notis letters) treats it as unusable"


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_ses_destination_returns_ascii_or_raises_for_any_text(text: str) -> None:
    try:
        out = ses_destination(text)
    except UnsendableEmail as exc:
        assert str(exc) in FIXED_REASONS, "a fixed sentence, never a part of the address"
    else:
        assert out.isascii() and len(out) <= MAX_ADDRESS_CHARS and "@" in out


def test_ses_destination_examples() -> None:
    assert ses_destination("anna@exempel-åäö.se") == "anna@xn--exempel--7zaj2q.se"
    assert ses_destination("kalle@bücher.de") == "kalle@xn--bcher-kva.de"
    assert ses_destination("Anna.A@exempel.se") == "Anna.A@exempel.se"
    for bad in ("åsa@exempel.se", "anna", "@exempel.se", "anna@", "anna@" + "ö" * 300 + ".se"):
        with pytest.raises(UnsendableEmail):
            ses_destination(bad)


@pytest.mark.parametrize("cell", ["a" * 250 + "@x.se", "a@" + "b" * 100_000 + ".se", "å" * 100_000 + "@x.se",
                                  "x" * 1_000_000])
def test_an_address_over_254_characters_is_rejected_with_a_reason(cell: str) -> None:
    with pytest.raises(InvalidEmail) as info:
        normalise_email(cell)
    assert not isinstance(info.value, UnsendableEmail)
    assert str(info.value) == "the e-mail address is not valid: it is longer than 254 characters"
