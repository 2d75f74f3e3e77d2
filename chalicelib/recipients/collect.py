"""Merge rows into recipients: one per address, every name at that address, nobody dropped silently.

Memory grows with the number of distinct addresses (see store.py) and of problem rows (the report lists them),
not with the file. Personnummer, phone and IP never reach a Recipient or a RowIssue; reasons are fixed
sentences, never a value from the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.recipients.email import NO_ADDRESS, InvalidEmail, fast_normalise, normalise_email
from chalicelib.recipients.personnummer import validate_personnummer
from chalicelib.recipients.store import LINES_KEPT, Recipient, RecipientStore
from chalicelib.recipients.table import Row

LANGUAGES = ("sv", "en")
UNKNOWN_LANGUAGE = "the language is not sv or en; the default language is used"
OTHER_LANGUAGE = "the language differs from an earlier row for the same address; that row's language is used"

__all__ = ["LINES_KEPT", "ImportResult", "Recipient", "RowIssue", "collect"]


@dataclass(slots=True)
class RowIssue:
    line: int
    reason: str
    column: str = ""


@dataclass(slots=True)
class ImportResult:
    recipients: RecipientStore
    rows: int = 0
    duplicates_merged: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    letters: list[RowIssue] = field(default_factory=list)

    @property
    def deliverable(self) -> int:
        return len(self.recipients)


def collect(rows: Iterable[Row], *, hmac_key: bytes, default_lang: str = "sv") -> ImportResult:
    """Validate, deduplicate and merge. Raises whatever the rows iterator raises (UnusableFile)."""
    store = RecipientStore(hmac_key)
    result = ImportResult(store)
    warnings, letters = result.warnings, result.letters
    count = merged = 0
    for row in rows:
        count += 1
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
        raw = row.email
        if not raw:
            letters.append(RowIssue(line, NO_ADDRESS, "e-mail"))
            continue
        email = fast_normalise(raw)  # the common case, without the exception machinery
        if email is None:
            try:
                email = normalise_email(raw)
            except InvalidEmail as exc:
                reason = str(exc)
                if reason != NO_ADDRESS:  # a cell of only invisible characters is simply empty
                    result.rejected.append(RowIssue(line, reason, "e-mail"))
                letters.append(RowIssue(line, reason, "e-mail"))
                continue
        name = row.name
        if "  " in name or "\n" in name or "\t" in name:
            name = " ".join(name.split())
        joined = store.add(email, name, lang, line)
        if joined is not None:
            merged += 1
            if row.lang is not None and lang != joined.lang and row.lang in LANGUAGES:
                warnings.append(RowIssue(line, OTHER_LANGUAGE, "language"))
    result.rows = count
    result.duplicates_merged = merged
    return result
