"""Recipients by key, in file order, at about 200 bytes per distinct address.

A million distinct addresses as ordinary objects (a Recipient, two lists, a key string, an int) take about
600 bytes each, too much for a Lambda function. So an address seen once is kept as one packed string under its
lower-cased address; only addresses that appear again become Recipient objects, and keys (HMAC) are computed
when a recipient is handed out. To the caller it is a read-only mapping key -> Recipient in file order;
iterate values() or items() (cheap); a lookup by key builds a key index on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from chalicelib.recipients.pseudonym import recipient_key

LINES_KEPT = 100
_SCAN_NAMES = 8  # up to this many names a linear comparison is cheapest; beyond it a set (a school's mailbox)
_SEP = "\x1f"  # never part of a validated address or a line number; the name goes last and may contain anything


@dataclass(slots=True)
class Recipient:
    key: str
    email: str
    names: list[str]
    lang: str
    lines: list[int]  # the first LINES_KEPT lines this address appears on
    row_count: int = 1  # every row merged into this recipient

    def to_message(self) -> dict[str, object]:
        """What the send queue carries (docs/internals.md), nothing more."""
        return {"key": self.key, "email": self.email, "names": list(self.names), "lang": self.lang}


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


class RecipientStore(Mapping[str, Recipient]):
    def __init__(self, hmac_key: bytes):
        self._hmac_key = hmac_key
        self._entries: dict[str, str | Recipient] = {}  # lower-cased address -> packed entry or Recipient
        self._by_key: dict[str, str] | None = None
        self._name_keys: dict[str, set[str]] = {}  # recipients with many names: their name keys, for O(1) checks

    def add(self, email: str, name: str, lang: str, line: int) -> Recipient | None:
        """Record one row; None when the address is new, else the (merged) Recipient it joined."""
        lower = email.lower()
        if lower == email:
            lower = email  # one string object for both
        entry = self._entries.get(lower)
        if entry is None:
            packed = f"{line}{_SEP}{lang}{_SEP}{'' if lower is email else email}{_SEP}{name}"
            self._entries[lower] = packed
            if self._by_key is not None:
                self._by_key[recipient_key(lower, self._hmac_key)] = lower
            return None
        if isinstance(entry, str):
            entry = self._unpack(lower, entry)
            self._entries[lower] = entry
        entry.row_count += 1
        if len(entry.lines) < LINES_KEPT:
            entry.lines.append(line)
        if name:
            self._add_name(lower, entry, name)
        return entry

    def _add_name(self, lower: str, entry: Recipient, name: str) -> None:
        """Each different name once; without the set, 800 pupils at one school address cost 800 x 800 compares."""
        key = _name_key(name)
        if len(entry.names) < _SCAN_NAMES:
            if all(_name_key(n) != key for n in entry.names):
                entry.names.append(name)
            return
        keys = self._name_keys.get(lower)
        if keys is None:
            keys = self._name_keys[lower] = {_name_key(n) for n in entry.names}
        if key not in keys:
            keys.add(key)
            entry.names.append(name)

    def _unpack(self, lower: str, packed: str) -> Recipient:
        line, lang, email, name = packed.split(_SEP, 3)
        key = recipient_key(lower, self._hmac_key)
        return Recipient(key, email or lower, [name] if name else [], lang, [int(line)])

    def _recipient(self, lower: str, entry: str | Recipient) -> Recipient:
        return self._unpack(lower, entry) if isinstance(entry, str) else entry

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        for lower, entry in self._entries.items():
            yield entry.key if isinstance(entry, Recipient) else recipient_key(lower, self._hmac_key)

    def values(self) -> Iterator[Recipient]:  # type: ignore[override]
        """Recipients in file order; single-row ones are made on the fly (not kept)."""
        for lower, entry in self._entries.items():
            yield self._recipient(lower, entry)

    def items(self) -> Iterator[tuple[str, Recipient]]:  # type: ignore[override]
        for recipient in self.values():
            yield recipient.key, recipient

    def __getitem__(self, key: str) -> Recipient:
        if self._by_key is None:
            self._by_key = {recipient_key(lower, self._hmac_key): lower for lower in self._entries}
        lower = self._by_key[key]
        return self._recipient(lower, self._entries[lower])

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __repr__(self) -> str:
        return f"RecipientStore({list(self.values())!r})"
