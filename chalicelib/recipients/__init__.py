"""Read a recipient CSV (pure code, no AWS) and turn it into deduplicated recipients, streaming.

Interface (everything the import handler and the CLI need):

    iter_rows(stream: BinaryIO, *, max_bytes: int) -> RowReader (an Iterator[Row])
        Reads `stream` (an open binary file or an S3 StreamingBody) in chunks, never the whole file.
        Raises UnusableFile when called (empty, Excel workbook, not text, UTF-16 without BOM, no e-mail column) or
        while iterating (over max_bytes, binary data, mixed encoding, a quotation mark that never closes, a line
        over 1,000,000 characters, a header row with no people after it).
        The header is the first of the first 10 non-blank lines that names an e-mail column (exports may put a
        title above it); RowReader.header_line is its line, RowReader.notes a RowIssue saying so when lines above
        it were skipped (collect puts it first among the warnings).
        Row(line, email, name, personnummer, phone, postal_address, lang): trimmed cells; `line` is the
        physical line where the record starts; `lang` is "sv"/"en" when recognised, the raw cell when not, None
        when empty or there is no language column.
    collect(rows, *, hmac_key: bytes, default_lang: str = "sv") -> ImportResult
        ImportResult(recipients: RecipientStore, rows, duplicates_merged,
                     rejected, warnings, letters: list[RowIssue]   (the first MAX_ISSUES_KEPT = 10,000 of each),
                     rejected_count, warnings_count, letters_count: int   (exact); .deliverable == len(recipients))
        Memory grows with distinct addresses, not with bad rows. Use the *_count fields for counts; to list every
        person who needs a letter, read the file again (iter_rows: a row whose e-mail is empty or invalid).
        RecipientStore: a read-only Mapping[key, Recipient] in file order, compact (about 200 bytes per address);
            iterate .values() / .items() (cheap); a lookup by key builds an index on first use.
        Recipient(key, email, names, lang, lines (the first 100), row_count; .to_message() for the send queue).
            Treat it as read-only: single-row recipients are built on the fly by values().
        RowIssue(line, reason, column): reason is a fixed sentence, never a value from the file.
        An invalid address is both rejected and on the letter list; an empty one only on the letter list; one SES
        cannot send to (not ASCII before the @) is a warning and a letter. Caps: an address over 254 characters
        is rejected; a name over MAX_NAME_CHARS (200) is left out, with a warning.
        Every row is accounted for: rows == deliverable + duplicates_merged + letters_count.
    read_recipients(stream, *, max_bytes, hmac_key, default_lang="sv") -> ImportResult   (the two above)
    recipient_key(email: str, hmac_key: bytes) -> str        hex HMAC-SHA256 of the lower-cased address
    normalise_email(raw: str) -> str                          raises InvalidEmail(reason); UnsendableEmail (an
                                                              InvalidEmail) for a valid address SES cannot take
    ses_destination(address: str) -> str                      the ASCII (punycode) form SES v2 needs as Destination;
                                                              raises UnsendableEmail
    validate_personnummer(value: str) -> str | None           None when valid or empty; else a reason
                                                              (-, +, and Excel's en/em dash, minus sign, hyphens)
    UnusableFile(code, reason, line=None)                     .code for code, .reason for staff

UnusableFile codes: empty (also: a header row and no people), excel, not_text, too_large, no_email_column,
mixed_encoding, unknown_encoding (also: UTF-16 without a BOM), unclosed_quote, malformed (also: a huge line).
"""

from __future__ import annotations

from typing import BinaryIO

from chalicelib.recipients.collect import MAX_ISSUES_KEPT, ImportResult, RowIssue, collect
from chalicelib.recipients.email import InvalidEmail, UnsendableEmail, normalise_email, ses_destination
from chalicelib.recipients.errors import UnusableFile
from chalicelib.recipients.personnummer import validate_personnummer
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.recipients.store import Recipient, RecipientStore
from chalicelib.recipients.table import Row, RowReader, iter_rows


def read_recipients(stream: BinaryIO, *, max_bytes: int, hmac_key: bytes, default_lang: str = "sv") -> ImportResult:
    """Read, validate and deduplicate a whole upload; raises UnusableFile."""
    return collect(iter_rows(stream, max_bytes=max_bytes), hmac_key=hmac_key, default_lang=default_lang)


__all__ = [
    "MAX_ISSUES_KEPT",
    "ImportResult",
    "InvalidEmail",
    "Recipient",
    "RecipientStore",
    "Row",
    "RowIssue",
    "RowReader",
    "UnsendableEmail",
    "UnusableFile",
    "collect",
    "iter_rows",
    "normalise_email",
    "read_recipients",
    "recipient_key",
    "ses_destination",
    "validate_personnummer",
]
