"""Reference codes: unique, unguessable, readable over the phone, and a typo is told apart from a code never made."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.mail import new_reference, normalise_reference
from chalicelib.mail.reference import (
    ALPHABET,
    LENGTH,
    MAX_TYPED,
    NEVER_IN_CODES,
    REFERENCE_RE,
    WEIGHTS,
    Outcome,
    check_symbol,
    group,
    parse_reference,
)

CODE = "9Z5D-WNYY-JWPFH"  # a valid code (its check symbol is H)

codes = st.text(alphabet=ALPHABET, min_size=LENGTH - 1, max_size=LENGTH - 1).map(lambda s: group(s + check_symbol(s)))


def _substitutions(code: str) -> list[str]:
    """Every code with exactly one symbol replaced by another symbol of the alphabet (13 x 28)."""
    flat = code.replace("-", "")
    return [group(flat[:i] + other + flat[i + 1 :]) for i in range(LENGTH) for other in ALPHABET if other != flat[i]]


def _transpositions(code: str) -> list[str]:
    """Every code with two neighbouring, different symbols swapped."""
    flat = code.replace("-", "")
    return [group(flat[:i] + flat[i + 1] + flat[i] + flat[i + 2 :])
            for i in range(LENGTH - 1) if flat[i] != flat[i + 1]]


def test_ten_thousand_references_are_unique_well_formed_and_valid() -> None:
    codes_made = [new_reference() for _ in range(10_000)]
    assert len(set(codes_made)) == len(codes_made)
    assert all(REFERENCE_RE.fullmatch(code) for code in codes_made)
    assert all(len(code) == 15 and [len(g) for g in code.split("-")] == [4, 4, 5] for code in codes_made)
    assert all(parse_reference(code).code == code for code in codes_made)
    used = set("".join(codes_made).replace("-", ""))
    assert used == set(ALPHABET)  # every symbol is drawn (so the alphabet really is the documented one)


def test_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    for ambiguous in NEVER_IN_CODES:
        assert ambiguous not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET) == 29
    assert all(29 % d for d in range(2, 29))


def test_the_check_catches_every_substitution_and_transposition_in_every_code() -> None:
    """The check is linear, so these hold for all 29^12 codes: a change of one symbol from a to b at weight w moves
    the sum by w(b - a); a swap of a and b at weights w, v moves it by (w - v)(b - a). Neither is 0 mod 29."""
    assert len(WEIGHTS) == LENGTH
    assert all(w % 29 for w in WEIGHTS)  # no weight is 0: a substitution always moves the sum
    assert len(set(WEIGHTS)) == LENGTH  # all different: any swap of two different symbols moves it
    for w in WEIGHTS:
        for a in range(29):
            for b in range(29):
                if a != b:
                    assert w * (b - a) % 29 != 0
    for w, v in itertools.pairwise(WEIGHTS):
        for a in range(29):
            for b in range(29):
                if a != b:
                    assert (w - v) * (b - a) % 29 != 0


def test_every_single_error_in_a_sample_of_codes_is_a_typo() -> None:
    """End to end through parse_reference: all 364 substitutions and up to 12 swaps of 150 codes."""
    rng = random.Random(29)
    sample = [group(s + check_symbol(s)) for s in ("".join(rng.choices(ALPHABET, k=LENGTH - 1)) for _ in range(150))]
    sample += ["2222-2222-2222" + check_symbol("2" * 12), "ZZZZ-ZZZZ-ZZZZ" + check_symbol("Z" * 12)]
    for code in sample:
        assert parse_reference(code).valid
        wrong = _substitutions(code) + _transpositions(code)
        assert len(_substitutions(code)) == LENGTH * 28
        assert {parse_reference(w).outcome for w in wrong} == {Outcome.TYPO}, code


@pytest.mark.parametrize("typed", [
    "9Z5D-WNYY-JWPFH",
    "9z5d wnyy jwpfh",  # as read out over the phone
    "9Z5DWNYYJWPFH",
    " 9Z5D-WNYY-JWPFH ",
    "9Z5D-WNYY-JWPFH.",  # the full stop of the sentence it was copied from
    "9Z5D-WNYY-JWPFH,",
    "(9Z5D-WNYY-JWPFH)",
    '"9Z5D-WNYY-JWPFH"',
    "«9Z5D-WNYY-JWPFH»",
    "“9Z5D-WNYY-JWPFH”",
    "'9Z5D-WNYY-JWPFH'",
    "`9Z5D-WNYY-JWPFH`",
    "> 9Z5D-WNYY-JWPFH",  # a quoted reply
    "Referenskod: 9Z5D-WNYY-JWPFH",
    "Din referenskod: 9Z5D-WNYY-JWPFH.",
    "Reference code: 9Z5D-WNYY-JWPFH",
    "Ref: 9Z5D-WNYY-JWPFH",
    "Ref.:9Z5D-WNYY-JWPFH",
    "REF: 9Z5D-WNYY-JWPFH",
    "Referenskod：９Ｚ５Ｄ－ＷＮＹＹ－ＪＷＰＦＨ",  # full-width, from a phone keyboard
    "９ｚ５ｄ ｗｎｙｙ ｊｗｐｆｈ",
    "9Z5D\u2013WNYY\u2013JWPFH",  # en dash
    "9Z5D\u2014WNYY\u2014JWPFH",  # em dash
    "9Z5D\u2212WNYY\u2212JWPFH",  # minus sign
    "9Z5D\u2011WNYY\u2011JWPFH",  # non-breaking hyphen
    "9Z5D\u2010WNYY\u2010JWPFH",  # hyphen
    "9Z5D\u2012WNYY\u2015JWPFH",  # figure dash, horizontal bar
    "9Z5D\ufe63WNYY\u2e3aJWPFH",  # small hyphen-minus, two-em dash
    "9Z5D\u301cWNYY\u30a0JWPFH",  # wave dash, katakana double hyphen (category Pd)
    "9Z5D\u00a0WNYY\u202fJWPFH",  # no-break spaces
    "\u200b9Z5D-WN\u200bYY-JWPFH\u200b",  # zero-width spaces
    "\ufeff9Z5D-WNYY-JW\u00adPFH",  # byte order mark, soft hyphen
    "9Z5D-\u2060WNYY-\u200dJWPFH\u200e",  # word joiner, zero-width joiner, left-to-right mark
    "9Z5D-WNYY-JWPFH\n",
])
def test_a_real_code_copied_slightly_wrongly_is_still_recognised(typed: str) -> None:
    parsed = parse_reference(typed)
    assert parsed.outcome is Outcome.VALID and parsed.code == CODE
    assert normalise_reference(typed) == CODE


def test_a_one_character_typo_is_a_typo_not_a_stranger() -> None:
    for typed in ("9Z5D-WNYY-JWPFJ", "9Z5D-WNYY-JWFPH", "Z95D-WNYY-JWPFH", "9Z5D-WMYY-JWPFH", "9z5d wnyy jwpf j."):
        parsed = parse_reference(typed)
        assert parsed.outcome is Outcome.TYPO, typed
        assert parsed.code is None and normalise_reference(typed) is None
        assert parsed.found == LENGTH
        assert parsed.read == group(typed.upper().replace(" ", "").replace("-", "").rstrip("."))


def test_characters_that_are_never_in_codes_are_named_not_guessed() -> None:
    parsed = parse_reference("9Z5D-WN0Y-JWPFH")
    assert parsed.outcome is Outcome.WRONG_CHARACTERS and parsed.code is None
    assert [(w.char, w.position, w.left_out_look_alike) for w in parsed.wrong] == [("0", 7, True)]
    parsed = parse_reference("OI1L-UV00-JWPFH")
    assert [w.char for w in parsed.wrong] == ["O", "I", "1", "L", "U", "V", "0"]  # each named once, in order
    assert all(w.left_out_look_alike for w in parsed.wrong)
    parsed = parse_reference("9Z5D-WNYY-JW\u0420FH")  # a Cyrillic Р that looks like P: named, not taken for P
    assert [(w.char, w.name, w.left_out_look_alike) for w in parsed.wrong] == [
        ("\u0420", "CYRILLIC CAPITAL LETTER ER", False)]
    parsed = parse_reference("9Z5D-WNYY-JWPFß")  # never upper-cased into SS, two symbols nobody typed
    assert [w.char for w in parsed.wrong] == ["ß"] and parsed.found == 13
    parsed = parse_reference("9Z5D.WNYY.JWPFH")  # a full stop inside the code is not a dash
    assert [w.char for w in parsed.wrong] == ["."]


def test_too_few_or_too_many_symbols_says_how_many() -> None:
    old_shape = parse_reference("K7QX-2M9D-PA4T")  # 12 symbols: the check symbol left out
    assert (old_shape.outcome, old_shape.found, old_shape.expected) == (Outcome.WRONG_LENGTH, 12, 13)
    long = parse_reference(CODE + "2")
    assert (long.outcome, long.found, long.read) == (Outcome.WRONG_LENGTH, 14, "9Z5D-WNYY-JWPFH2")
    assert parse_reference("x" * 500).found == MAX_TYPED  # only the first MAX_TYPED characters are looked at


@pytest.mark.parametrize("typed", ["", "   ", "-", "\u200b", ".", '""', "Referenskod:", "Reference code: ."])
def test_nothing_typed_is_empty(typed: str) -> None:
    assert parse_reference(typed).outcome is Outcome.EMPTY and normalise_reference(typed) is None


def test_huge_and_strange_input_is_cut_and_never_raises() -> None:
    for typed in ("x" * 10_000_000, "\ufdfa" * 100_000, "\ud800\udfff" * 1000, "Ref:" * 1000 + CODE, "a." * 100_000):
        parsed = parse_reference(typed)
        assert parsed.code is None and parsed.found <= MAX_TYPED and len(parsed.read) <= 2 * MAX_TYPED


@given(codes)
@settings(max_examples=300, deadline=None)
def test_any_code_parses_back_to_itself(code: str) -> None:
    assert REFERENCE_RE.fullmatch(code)
    assert parse_reference(code).code == code
    assert parse_reference(code.lower().replace("-", " ")).code == code


@given(codes, st.sampled_from(["-", " ", "", "\u2013", "\u2212", "\u2011", "\u200b", "\u00a0", "\u3000"]),
       st.sampled_from(["", "Referenskod: ", "Ref:", '"', "\u00ab", " "]),
       st.sampled_from(["", ".", '"', "\u00bb", " "]), st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_code_survives_dashes_labels_quotes_and_full_width(code: str, dash: str, before: str, after: str,
                                                               wide: bool) -> None:
    typed = code.replace("-", dash)
    if wide:
        typed = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in typed)
    assert parse_reference(before + typed + after).code == code


@given(codes, st.data())
@settings(max_examples=300, deadline=None)
def test_any_single_substitution_or_adjacent_transposition_is_a_typo(code: str, data: st.DataObject) -> None:
    flat = code.replace("-", "")
    i = data.draw(st.integers(0, LENGTH - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != flat[i]))
    assert parse_reference(group(flat[:i] + other + flat[i + 1 :])).outcome is Outcome.TYPO
    j = data.draw(st.integers(0, LENGTH - 2))
    if flat[j] != flat[j + 1]:
        swapped = flat[:j] + flat[j + 1] + flat[j] + flat[j + 2 :]
        assert parse_reference(swapped.lower()).outcome is Outcome.TYPO


@given(st.text(max_size=400)
       | st.text(st.characters(categories=("Cs", "Cf", "Pd", "Zs", "Lu", "Ll", "Nd", "Po", "Ps", "Sm")), max_size=400)
       | st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")))
@settings(max_examples=500, deadline=None)
def test_parse_never_raises_and_accepts_only_valid_codes(typed: str) -> None:
    parsed = parse_reference(typed)
    assert parsed.outcome in Outcome
    assert (parsed.code is not None) == parsed.valid
    if parsed.valid:
        assert REFERENCE_RE.fullmatch(parsed.code) and parse_reference(parsed.code).code == parsed.code
    if parsed.outcome is Outcome.WRONG_CHARACTERS:
        assert parsed.wrong and all(w.char not in ALPHABET for w in parsed.wrong)
    else:
        assert not parsed.wrong
    assert normalise_reference(typed) == parsed.code
