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
