"""Read a recipient CSV (pure code, no AWS) and turn it into deduplicated recipients, streaming.

Interface (everything the import handler and the CLI need):

    iter_rows(stream: BinaryIO, *, max_bytes: int) -> Iterator[Row]
        Reads `stream` (an open binary file or an S3 StreamingBody) in chunks, never the whole file.
        Raises UnusableFile when called (empty, Excel workbook, not text, no e-mail column) or while iterating
        (over max_bytes, binary data, mixed encoding, a quotation mark that never closes).
        Row(line, email, name, personnummer, phone, postal_address, lang): trimmed cells; `line` is the
        physical line (header = line 1) where the record starts; `lang` is "sv"/"en" when recognised, the raw
        cell when not, None when empty or there is no language column.
    collect(rows, *, hmac_key: bytes, default_lang: str = "sv") -> ImportResult
        ImportResult(recipients: RecipientStore, rows, duplicates_merged, rejected: list[RowIssue],
                     warnings: list[RowIssue], letters: list[RowIssue]; .deliverable == len(recipients))
        RecipientStore: a read-only Mapping[key, Recipient] in file order, compact (about 200 bytes per address);
            iterate .values() / .items() (cheap); a lookup by key builds an index on first use.
        Recipient(key, email, names, lang, lines (the first 100), row_count; .to_message() for the send queue).
            Treat it as read-only: single-row recipients are built on the fly by values().
        RowIssue(line, reason, column): reason is a fixed sentence, never a value from the file.
        An invalid address is both rejected and on the letter list; an empty one only on the letter list.
        Every row is accounted for: rows == deliverable + duplicates_merged + len(letters).
    read_recipients(stream, *, max_bytes, hmac_key, default_lang="sv") -> ImportResult   (the two above)
    recipient_key(email: str, hmac_key: bytes) -> str        hex HMAC-SHA256 of the lower-cased address
    normalise_email(raw: str) -> str                          raises InvalidEmail(reason)
    validate_personnummer(value: str) -> str | None           None when valid or empty; else a reason
    UnusableFile(code, reason, line=None)                     .code for code, .reason for staff

UnusableFile codes: empty, excel, not_text, too_large, no_email_column, mixed_encoding, unknown_encoding,
unclosed_quote, malformed.
"""

from __future__ import annotations

from typing import BinaryIO

from chalicelib.recipients.collect import ImportResult, RowIssue, collect
from chalicelib.recipients.email import InvalidEmail, normalise_email
from chalicelib.recipients.errors import UnusableFile
from chalicelib.recipients.personnummer import validate_personnummer
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.recipients.store import Recipient, RecipientStore
from chalicelib.recipients.table import Row, iter_rows


def read_recipients(stream: BinaryIO, *, max_bytes: int, hmac_key: bytes, default_lang: str = "sv") -> ImportResult:
    """Read, validate and deduplicate a whole upload; raises UnusableFile."""
    return collect(iter_rows(stream, max_bytes=max_bytes), hmac_key=hmac_key, default_lang=default_lang)


__all__ = [
    "ImportResult",
    "InvalidEmail",
    "Recipient",
    "RecipientStore",
    "Row",
    "RowIssue",
    "UnusableFile",
    "collect",
    "iter_rows",
    "normalise_email",
    "read_recipients",
    "recipient_key",
    "validate_personnummer",
]
