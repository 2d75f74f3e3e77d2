"""Merge rows into recipients: one per address, every name at that address, nobody dropped silently.

Memory grows with the number of distinct addresses (and of problem rows, which the report must list), not with
the file: a recipient keeps at most LINES_KEPT line numbers and a count. Personnummer, phone and IP never reach
a Recipient or a RowIssue; reasons are fixed sentences, never a value from the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.recipients.email import NO_ADDRESS, InvalidEmail, normalise_email
from chalicelib.recipients.personnummer import validate_personnummer
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.recipients.table import Row

LANGUAGES = ("sv", "en")
LINES_KEPT = 100
UNKNOWN_LANGUAGE = "the language is not sv or en; the default language is used"
OTHER_LANGUAGE = "the language differs from an earlier row for the same address; that row's language is used"


@dataclass(slots=True)
class RowIssue:
    line: int
    reason: str
    column: str = ""


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


@dataclass(slots=True)
class ImportResult:
    rows: int = 0
    recipients: dict[str, Recipient] = field(default_factory=dict)
    duplicates_merged: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    letters: list[RowIssue] = field(default_factory=list)

    @property
    def deliverable(self) -> int:
        return len(self.recipients)


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def collect(rows: Iterable[Row], *, hmac_key: bytes, default_lang: str = "sv") -> ImportResult:
    """Validate, deduplicate and merge. Raises whatever the rows iterator raises (UnusableFile)."""
    result = ImportResult()
    recipients = result.recipients
    rejected, warnings, letters = result.rejected, result.warnings, result.letters
    by_lower: dict[str, str] = {}  # lower-cased normalised address -> recipient key (saves an HMAC per row)
    for row in rows:
        result.rows += 1
        line = row.line
        if row.personnummer:
            problem = validate_personnummer(row.personnummer)
            if problem is not None:
                warnings.append(RowIssue(line, problem, "personnummer"))
        lang = default_lang
        if row.lang is not None:
            if row.lang in LANGUAGES:
                lang = row.lang
            else:
                warnings.append(RowIssue(line, UNKNOWN_LANGUAGE, "language"))
        if not row.email:
            letters.append(RowIssue(line, NO_ADDRESS, "e-mail"))
            continue
        try:
            email = normalise_email(row.email)
        except InvalidEmail as exc:
            reason = str(exc)
            if reason == NO_ADDRESS:  # only invisible characters in the cell
                letters.append(RowIssue(line, NO_ADDRESS, "e-mail"))
            else:
                rejected.append(RowIssue(line, reason, "e-mail"))
                letters.append(RowIssue(line, reason, "e-mail"))
            continue
        name = " ".join(row.name.split())
        lower = email.lower()
        key = by_lower.get(lower)
        if key is None:
            key = recipient_key(email, hmac_key)
            by_lower[lower] = key
            recipients[key] = Recipient(key, email, [name] if name else [], lang, [line])
            continue
        found = recipients[key]
        result.duplicates_merged += 1
        found.row_count += 1
        if len(found.lines) < LINES_KEPT:
            found.lines.append(line)
        if name and all(_name_key(n) != _name_key(name) for n in found.names):
            found.names.append(name)
        if row.lang is not None and lang != found.lang and row.lang in LANGUAGES:
            warnings.append(RowIssue(line, OTHER_LANGUAGE, "language"))
    return result
