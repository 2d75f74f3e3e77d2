"""Reference codes printed in each e-mail and letter: random, unguessable, easy to read out, and self-checking.

The alphabet drops characters that are confused when read or heard (0/O, 1/I/L, U/V), so a caller can spell
the code to support without mistakes. A code is 12 random symbols of this 29-symbol alphabet (about 58 bits:
guessing a live code is hopeless, and collisions within one campaign are negligible, birthday bound ~1e-8 for
a million recipients) followed by one check symbol.

The check symbol lets a reader's typo be told apart from a code we never made, instead of answering "not from
us" to someone who holds a genuine message. It is an ISO/IEC 7064-style pure system with modulus 29 and radix
2: counting positions from the right (the check symbol is position 1), position i weighs 2^(i-1) mod 29, and a
code is valid when the sum of weight x value (a symbol's value is its index in ALPHABET) is 1 mod 29. Because
29 is a prime and the alphabet has exactly 29 symbols, every residue is a symbol (no extra check character as
in ISO 7064's MOD 37-2), and:
- every weight is non-zero mod 29, so changing one symbol always changes the sum: every single substitution
  is caught;
- 2 is a primitive root mod 29 (order 28 > 13), so the 13 weights are all different: swapping any two
  different symbols, adjacent or not, is caught, and so is a doubled pair typed wrongly (aa -> bb, weights
  w + 2w = 3w, non-zero).
A code typed at random (or made up by someone else) still passes the check once in 29; so a "typo" answer
must also say that a code typed exactly as printed, and still refused, is not ours.

Shape: 4-4-5 (`K7QX-2M9D-PA4TX`). Three groups as before, so it reads and fits like the codes people already
know; no group is longer than five symbols, about what one holds in mind while reading out or typing an
unfamiliar string; and there is no lone trailing symbol (as in `K7QX-2M9D-PA4T-X`), which looks like a suffix
or footnote and would be left out when read out or copied. The grouping is only for the eye: `parse_reference`
ignores where dashes and spaces are.

What someone typed is normalised before it is judged, and never guessed beyond that: Unicode NFKC (full-width
letters from a phone keyboard become plain ones), every dash (Unicode category Pd, and U+2212 minus) counts as
`-`, invisible format characters (category Cf: zero-width space, soft hyphen...) and white space are dropped,
surrounding punctuation and quotes are stripped, and so is a leading label ending in `:` (`Referenskod:`,
`Reference code:`, `Ref:`). A character outside the alphabet is named, never replaced by a likely one: the
characters dropped from the alphabet (0, O, 1, I, L, U, V) have no single symbol they stand for, because none
of them is ever printed in a code.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
MODULUS = len(ALPHABET)  # 29, a prime
GROUP_SIZES = (4, 4, 5)
LENGTH = sum(GROUP_SIZES)  # 13 symbols: 12 random ones and the check symbol
RANDOM_SYMBOLS = LENGTH - 1
NEVER_IN_CODES = "01ILOUV"  # left out on purpose: read or heard as each other
MAX_TYPED = 200  # what is longer is cut before it is looked at: no code needs more, and parsing stays cheap
REFERENCE_RE = re.compile("^" + "-".join(f"[{ALPHABET}]{{{n}}}" for n in GROUP_SIZES) + "$")

_VALUE = {symbol: i for i, symbol in enumerate(ALPHABET)}
# Weights left to right: position i from the right weighs 2^(i-1) mod 29; the check symbol (last) weighs 1.
WEIGHTS = tuple(pow(2, LENGTH - 1 - i, MODULUS) for i in range(LENGTH))
_DASHES = {"\u2212"}  # the minus sign (category Sm) is typed for a dash too
_QUOTES = "`´<>"  # quote-like symbols that are not in a punctuation category (`code`, > quoted reply)
_LABEL = re.compile(r"^[^\W\d_]+(?:[\s.'\-]+[^\W\d_]+)*[\s.'\-]*:")  # words (no digits), then `:`


class Outcome(StrEnum):
    VALID = "valid"
    TYPO = "typo"  # the right number of code symbols, but the check fails: one is wrong, or two are swapped
    WRONG_CHARACTERS = "wrong_characters"  # something that is never in a code (see Parsed.wrong)
    WRONG_LENGTH = "wrong_length"  # only code symbols, but too few or too many (see Parsed.found)
    EMPTY = "empty"  # nothing left after the spaces, dashes, punctuation and label are taken away


@dataclass(frozen=True)
class WrongCharacter:
    """A character that is never in a code, as it was found (after NFKC), so a page can name it."""

    char: str
    position: int  # 1-based, among the characters read (dashes and spaces not counted); its first occurrence

    @property
    def left_out_look_alike(self) -> bool:
        """0, O, 1, I, L, U or V: never in a code because they are confused with each other."""
        return self.char in NEVER_IN_CODES

    @property
    def name(self) -> str:
        """The Unicode name (`CYRILLIC CAPITAL LETTER ER` for a Р that looks like P), or the code point."""
        return unicodedata.name(self.char, f"U+{ord(self.char):04X}")


@dataclass(frozen=True)
class Parsed:
    """What a typed code turned out to be. `code` only for VALID; `read` is what was read, for showing back."""

    outcome: Outcome
    code: str | None = None
    read: str = ""  # the characters read, upper case, grouped like a code (at most MAX_TYPED characters' worth)
    found: int = 0  # how many characters were read (dashes and spaces not counted)
    wrong: tuple[WrongCharacter, ...] = ()  # each distinct character that is never in a code, in order

    expected = LENGTH

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.VALID


def group(symbols: str) -> str:
    """`K7QX2M9DPA4TX` -> `K7QX-2M9D-PA4TX`: the printed shape (whatever is past the last group is kept)."""
    parts, start = [], 0
    for size in GROUP_SIZES:
        if start < len(symbols):
            parts.append(symbols[start : start + size])
        start += size
    if start < len(symbols):
        parts[-1] += symbols[start:]
    return "-".join(parts)


def check_symbol(random_symbols: str) -> str:
    """The symbol that makes `random_symbols` (12 from ALPHABET) a valid code."""
    total = sum(w * _VALUE[s] for w, s in zip(WEIGHTS[:-1], random_symbols, strict=True))
    return ALPHABET[(1 - total) % MODULUS]


def checks(symbols: str) -> bool:
    """True when 13 symbols from ALPHABET satisfy the check (sum of weight x value is 1 mod 29)."""
    return len(symbols) == LENGTH and sum(w * _VALUE[s] for w, s in zip(WEIGHTS, symbols, strict=True)) % MODULUS == 1


def new_reference() -> str:
    """A fresh code such as `K7QX-2M9D-PA4TX`, from the operating system's CSPRNG."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return group(symbols + check_symbol(symbols))


def parse_reference(typed: str) -> Parsed:
    """Judge what someone typed, pasted or read out: a valid code (canonical form), or what is wrong with it.

    Never raises, whatever the text; only the first MAX_TYPED characters are looked at."""
    read = _normalise(str(typed)[:MAX_TYPED])[:MAX_TYPED]  # NFKC can lengthen text (one ligature, 18 letters)
    if not read:
        return Parsed(Outcome.EMPTY)
    shown = group(read)
    wrong: dict[str, WrongCharacter] = {}
    for i, c in enumerate(read, 1):
        if c not in _VALUE and c not in wrong:
            wrong[c] = WrongCharacter(c, i)
    if wrong:
        return Parsed(Outcome.WRONG_CHARACTERS, read=shown, found=len(read), wrong=tuple(wrong.values()))
    if len(read) != LENGTH:
        return Parsed(Outcome.WRONG_LENGTH, read=shown, found=len(read))
    if not checks(read):
        return Parsed(Outcome.TYPO, read=shown, found=LENGTH)
    return Parsed(Outcome.VALID, code=shown, read=shown, found=LENGTH)


def normalise_reference(typed: str) -> str | None:
    """The canonical code for what someone typed or read out, else None (see parse_reference for why not)."""
    return parse_reference(typed).code


def _normalise(text: str) -> str:
    """NFKC, no format characters, no label or surrounding punctuation, no dashes or spaces; ASCII upper-cased."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    text = _strip_outer(text, end=False)  # a label's `:` is not stripped as trailing punctuation of `Ref:`
    label = _LABEL.match(text)
    text = _strip_outer(text[label.end() :] if label else text)
    # Only ASCII letters are upper-cased: str.upper() would turn ß into SS, two code symbols nobody typed.
    return "".join(c.upper() if c.isascii() else c for c in text if not (c.isspace() or _is_dash(c)))


def _is_dash(c: str) -> bool:
    return c in _DASHES or unicodedata.category(c) == "Pd"


def _is_outer(c: str) -> bool:
    return c.isspace() or c in _QUOTES or c in _DASHES or unicodedata.category(c).startswith("P")


def _strip_outer(text: str, *, end: bool = True) -> str:
    start, stop = 0, len(text)
    while start < stop and _is_outer(text[start]):
        start += 1
    while end and stop > start and _is_outer(text[stop - 1]):
        stop -= 1
    return text[start:stop]


# What a reader most likely saw for each character left out of the alphabet, so staff can ask the caller to
# look again (never replaced: none of them stands for one symbol).
LOOK_ALIKES = {"0": "the digit 0", "O": "the letter O", "1": "the digit 1", "I": "the letter I", "L": "the letter L",
               "U": "the letter U", "V": "the letter V"}


def why_not_a_code(typed: str) -> str | None:
    """Why `typed` is not one of our codes, in plain words for staff on the phone; None for a valid code."""
    parsed = parse_reference(typed)
    if parsed.outcome is Outcome.VALID:
        return None
    if parsed.outcome is Outcome.EMPTY:
        return "nothing that could be a code was typed"
    if parsed.outcome is Outcome.WRONG_CHARACTERS:
        named = [LOOK_ALIKES.get(w.char) or (f"'{w.char}'" if w.char.isprintable() else w.name) for w in parsed.wrong]
        some_look_alike = any(w.left_out_look_alike for w in parsed.wrong)
        return (f"{_join(named)} {'is' if len(named) == 1 else 'are'} never used in our codes"
                + (" (0, O, 1, I, L, U and V are left out because they are easily mixed up): read the code "
                   "again with the caller; a code that has them is misread, or not ours" if some_look_alike
                   else ": a code has only letters and the digits 2 to 9"))
    if parsed.outcome is Outcome.WRONG_LENGTH:
        return (f"it has {parsed.found} letters and digits; a code has {LENGTH} (groups of "
                f"{', '.join(map(str, GROUP_SIZES[:-1]))} and {GROUP_SIZES[-1]})")
    return ("one character is misread or two are swapped (the last symbol checks the others): read the code "
            "again with the caller, symbol by symbol; typed exactly as printed and still refused, it is not ours")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
