"""Merge rows into recipients: one per address, the names at that address, nobody dropped silently.

Memory grows with the number of distinct addresses (see store.py), not with the file: problem rows are counted
exactly, but only the first MAX_ISSUES_KEPT of each kind are kept for the report (a file of a million bad rows
must not need a million RowIssues in a 1 GB Lambda function). Personnummer, phone and IP never reach a Recipient
or a RowIssue; reasons are fixed sentences, never a value from the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.recipients.email import (
    NO_ADDRESS,
    InvalidEmail,
    UnsendableEmail,
    fast_normalise,
    normalise_email,
)
from chalicelib.recipients.issues import RowIssue
from chalicelib.recipients.personnummer import validate_personnummer
from chalicelib.recipients.postal import address_problem
from chalicelib.recipients.store import LINES_KEPT, Recipient, RecipientStore
from chalicelib.recipients.table import Row

MAX_ISSUES_KEPT = 10_000  # per kind (rejected, warnings, letters); the counts stay exact
LANGUAGES = ("sv", "en")
UNKNOWN_LANGUAGE = "the language is not sv or en; the default language is used"
OTHER_LANGUAGE = "the language differs from an earlier row for the same address; that row's language is used"
# Caps on what is kept from a cell. A real name is under 100 characters; one over MAX_NAME_CHARS is almost surely
# a broken export (a whole row or a note pasted in). The person is still mailed, greeted without the name (as
# when the name is missing), and the report says so: cutting it would put a fragment of garbage in a legal notice.
MAX_NAME_CHARS = 200
LONG_NAME = (
    f"the name is longer than {MAX_NAME_CHARS} characters, which looks like a broken export; the e-mail is sent "
    "without a name in the greeting"
)
# The postal address is not kept at import, but a letter is printed from it: say so when it is clearly broken.
MAX_POSTAL_ADDRESS_CHARS = 500
LONG_POSTAL_ADDRESS = (
    f"needs a letter but has no usable postal address: it is longer than {MAX_POSTAL_ADDRESS_CHARS} characters"
)

__all__ = ["LINES_KEPT", "MAX_ISSUES_KEPT", "ImportResult", "Recipient", "RowIssue", "collect"]


@dataclass(slots=True)
class ImportResult:
    """Counts are exact; the issue lists hold the first MAX_ISSUES_KEPT of each kind, in file order."""

    recipients: RecipientStore
    rows: int = 0
    duplicates_merged: int = 0
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    letters: list[RowIssue] = field(default_factory=list)
    unreachable: list[RowIssue] = field(default_factory=list)  # need a letter, but no usable postal address
    rejected_count: int = 0
    warnings_count: int = 0
    letters_count: int = 0
    unreachable_count: int = 0

    @property
    def deliverable(self) -> int:
        return len(self.recipients)


NO_ADDRESS_COLUMN = (
    "some people have no usable e-mail address and the file has no postal address column: their letters "
    "will need addresses from elsewhere (export the address columns too)"
)


def collect(rows: Iterable[Row], *, hmac_key: bytes, default_lang: str = "sv") -> ImportResult:
    """Validate, deduplicate and merge. Raises whatever the rows iterator raises (UnusableFile).

    If `rows` has `notes` (iter_rows' reader: a header found below line 1), they lead the warnings.
    """
    store = RecipientStore(hmac_key)
    result = ImportResult(store)
    rejected, warnings, letters, unreachable = result.rejected, result.warnings, result.letters, result.unreachable
    for note in getattr(rows, "notes", ()):
        warnings.append(note)
    n_rejected = n_letters = n_unreachable = 0
    n_warnings = len(warnings)
    cap = MAX_ISSUES_KEPT
    count = merged = 0
    for row in rows:
        count += 1
        line = row.line
        if row.personnummer:
            problem = validate_personnummer(row.personnummer)
            if problem is not None:
                n_warnings += _keep(warnings, RowIssue(line, problem, "personnummer"), cap)
        lang = default_lang
        if row.lang is not None:
            if row.lang in LANGUAGES:
                lang = row.lang
            else:
                n_warnings += _keep(warnings, RowIssue(line, UNKNOWN_LANGUAGE, "language"), cap)
        raw = row.email
        if not raw:
            n_letters += _keep(letters, RowIssue(line, NO_ADDRESS, "e-mail"), cap)
            n_unreachable += _check_postal_address(row, unreachable, cap)
            continue
        email = fast_normalise(raw)  # the common case, without the exception machinery
        if email is None:
            try:
                email = normalise_email(raw)
            except UnsendableEmail as exc:  # a valid address SES cannot take: a letter, said as a warning
                reason = str(exc)
                n_warnings += _keep(warnings, RowIssue(line, reason, "e-mail"), cap)
                n_letters += _keep(letters, RowIssue(line, reason, "e-mail"), cap)
                n_unreachable += _check_postal_address(row, unreachable, cap)
                continue
            except InvalidEmail as exc:
                reason = str(exc)
                if reason != NO_ADDRESS:  # a cell of only invisible characters is simply empty
                    n_rejected += _keep(rejected, RowIssue(line, reason, "e-mail"), cap)
                n_letters += _keep(letters, RowIssue(line, reason, "e-mail"), cap)
                n_unreachable += _check_postal_address(row, unreachable, cap)
                continue
        name = row.name
        if "  " in name or "\n" in name or "\t" in name:
            name = " ".join(name.split())
        if len(name) > MAX_NAME_CHARS:
            name = ""
            n_warnings += _keep(warnings, RowIssue(line, LONG_NAME, "name"), cap)
        joined = store.add(email, name, lang, line)
        if joined is not None:
            merged += 1
            if row.lang is not None and lang != joined.lang and row.lang in LANGUAGES:
                n_warnings += _keep(warnings, RowIssue(line, OTHER_LANGUAGE, "language"), cap)
    if n_letters and getattr(rows, "has_address", True) is False:
        n_warnings += 1  # said once, at the header: the letter list will have names but no addresses
        warnings.insert(0, RowIssue(getattr(rows, "header_line", 1), NO_ADDRESS_COLUMN, "address"))
    result.rows = count
    result.duplicates_merged = merged
    result.rejected_count, result.warnings_count, result.letters_count = n_rejected, n_warnings, n_letters
    result.unreachable_count = n_unreachable
    return result


def _keep(issues: list[RowIssue], issue: RowIssue, cap: int) -> int:
    """Count every issue, keep only the first `cap` of a kind (memory follows addresses, not bad rows)."""
    if len(issues) < cap:
        issues.append(issue)
    return 1


def _check_postal_address(row: Row, unreachable: list[RowIssue], cap: int) -> int:
    """1 (an error kept) when this person needs a letter and has no usable postal address, else 0.

    Staff must find them another way; the reason is fixed, never the address itself.
    """
    if len(row.postal_address) > MAX_POSTAL_ADDRESS_CHARS:
        return _keep(unreachable, RowIssue(row.line, LONG_POSTAL_ADDRESS, "address"), cap)
    problem = address_problem(row.postal_address)
    return 0 if problem is None else _keep(unreachable, RowIssue(row.line, problem, "address"), cap)
