"""Reference codes printed in each e-mail: random, unguessable, and easy to read out over the phone.

The alphabet drops characters that are confused when read or heard (0/O, 1/I/L, U/V), so a caller can
spell the code to support without mistakes. 12 symbols of a 29-symbol alphabet carry about 58 bits:
guessing a valid code is hopeless, and collisions within one campaign are negligible (birthday bound
~1e-8 for a million recipients).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
GROUPS = 3
GROUP_SIZE = 4
REFERENCE_RE = re.compile(rf"^[{ALPHABET}]{{{GROUP_SIZE}}}(-[{ALPHABET}]{{{GROUP_SIZE}}}){{{GROUPS - 1}}}$")


def new_reference() -> str:
    """A fresh code such as `K7QX-2M9D-PA4T`, from the operating system's CSPRNG."""
    symbols = [secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_SIZE)]
    return "-".join("".join(symbols[i : i + GROUP_SIZE]) for i in range(0, len(symbols), GROUP_SIZE))


def normalise_reference(typed: str) -> str | None:
    """The canonical code for what someone typed or read out (any case, spaces or dashes), else None."""
    compact = re.sub(r"[\s\-]", "", typed.upper())
    if len(compact) != GROUPS * GROUP_SIZE or any(c not in ALPHABET for c in compact):
        return None
    return "-".join(compact[i : i + GROUP_SIZE] for i in range(0, len(compact), GROUP_SIZE))


# Characters left out of the alphabet because they are mistaken for others (see above): what a reader most
# likely saw, so staff can ask the caller to look again.
LOOK_ALIKES = {"0": "the digit 0", "O": "the letter O", "1": "the digit 1", "I": "the letter I", "L": "the letter L",
               "U": "the letter U", "V": "the letter V"}


def why_not_a_code(typed: str) -> str | None:
    """Why `typed` cannot be one of our codes, in plain words for staff (which characters, or how many), else
    None (it is shaped like a code). Never guesses a replacement: 0/O, 1/I/L and U/V are all left out."""
    compact = re.sub(r"[\s\-]", "", typed.upper())
    wrong = list(dict.fromkeys(c for c in compact if c not in ALPHABET))
    if wrong:
        named = [LOOK_ALIKES.get(c) or (f"'{c}'" if c.isprintable() else f"U+{ord(c):04X}") for c in wrong]
        some_look_alike = any(c in LOOK_ALIKES for c in wrong)
        return (f"{_join(named)} {'is' if len(named) == 1 else 'are'} never used in our codes"
                + (" (0, O, 1, I, L, U and V are left out because they are easily mixed up): read the code "
                   "again with the caller; a code that has them is misread, or not ours" if some_look_alike
                   else ": a code has only letters and the digits 2 to 9"))
    size = GROUPS * GROUP_SIZE
    if len(compact) != size:
        return f"it has {len(compact)} letters and digits; a code has {size} ({GROUPS} groups of {GROUP_SIZE})"
    return None


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
