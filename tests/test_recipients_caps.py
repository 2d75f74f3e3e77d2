"""What SES can take and how much of a cell is kept: every row still accounted for, every reason a fixed sentence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.recipients import Row, collect
from chalicelib.recipients.collect import (
    LONG_NAME,
    LONG_POSTAL_ADDRESS,
    MAX_NAME_CHARS,
    MAX_POSTAL_ADDRESS_CHARS,
)
from chalicelib.recipients.email import NON_ASCII_LOCAL, TOO_LONG, ses_destination

KEY = b"test-key"


def test_a_local_part_outside_ascii_is_a_letter_and_a_warning_never_deliverable() -> None:
    result = collect([Row(2, "åsa@exempel.se", "Åsa Ek"), Row(3, "anna@exempel-åäö.se", "Anna"),
                      Row(4, "bo@example.se", "Bo")], hmac_key=KEY)
    assert [r.email for r in result.recipients.values()] == ["anna@exempel-åäö.se", "bo@example.se"]
    assert (result.deliverable, result.letters_count, result.rejected_count) == (2, 1, 0)
    assert [(i.line, i.reason) for i in result.letters] == [(2, NON_ASCII_LOCAL)]
    assert [(i.line, i.reason) for i in result.warnings] == [(2, NON_ASCII_LOCAL)]
    assert result.rows == result.deliverable + result.duplicates_merged + result.letters_count


def test_a_name_over_the_cap_is_dropped_from_the_greeting_and_the_row_still_mailed() -> None:
    huge = "A" * 100_000
    result = collect([Row(2, "anna@x.se", huge), Row(3, "anna@x.se", "Anna Ek"),
                      Row(4, "bo@x.se", "B" * (MAX_NAME_CHARS + 1)), Row(5, "cy@x.se", "C" * MAX_NAME_CHARS)],
                     hmac_key=KEY)
    by_email = {r.email: r for r in result.recipients.values()}
    assert by_email["anna@x.se"].names == ["Anna Ek"]
    assert by_email["bo@x.se"].names == []
    assert by_email["cy@x.se"].names == ["C" * MAX_NAME_CHARS], "a name at the cap is kept whole"
    assert [(i.line, i.reason, i.column) for i in result.warnings] == [(2, LONG_NAME, "name"), (4, LONG_NAME, "name")]
    assert result.deliverable == 3 and result.rejected_count == 0 and result.warnings_count == 2


def test_an_address_over_254_characters_is_rejected_and_a_letter() -> None:
    result = collect([Row(2, "a" * 100_000 + "@x.se", "Anna")], hmac_key=KEY)
    assert (result.deliverable, result.rejected_count, result.letters_count) == (0, 1, 1)
    assert result.rejected[0].reason == TOO_LONG


def test_a_broken_postal_address_is_said_for_a_letter() -> None:
    long_address = "Gatan 1, " * 100
    result = collect([Row(2, "", "Anna", postal_address=long_address),
                      Row(3, "", "Bo", postal_address="Gatan 1, 123 45 Åby"),
                      Row(4, "åsa@x.se", "Åsa", postal_address=long_address),
                      Row(5, "cy@x.se", "Cy", postal_address=long_address)], hmac_key=KEY)
    assert len(long_address) > MAX_POSTAL_ADDRESS_CHARS
    # a person who needs a letter and whose address cannot take one is an error row; a mailed person is not
    assert [(i.line, i.reason) for i in result.unreachable] == [(2, LONG_POSTAL_ADDRESS), (4, LONG_POSTAL_ADDRESS)]
    assert result.unreachable_count == 2 and result.letters_count == 3


@settings(max_examples=300)
@given(st.lists(st.tuples(st.text(max_size=300), st.text(max_size=40)), max_size=20))
def test_every_kept_recipient_is_sendable_and_capped(rows: list[tuple[str, str]]) -> None:
    result = collect([Row(i + 2, email, name) for i, (name, email) in enumerate(rows)], hmac_key=KEY)
    assert result.rows == result.deliverable + result.duplicates_merged + result.letters_count
    for r in result.recipients.values():
        assert ses_destination(r.email).isascii()
        assert all(len(n) <= MAX_NAME_CHARS for n in r.names)
        assert len(r.email) <= 254
