"""Rows from a CSV stream: line splitting, delimiter sniffing, header mapping and quoting, all streaming."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from chalicelib.recipients import headers as h
from chalicelib.recipients.decode import iter_text
from chalicelib.recipients.errors import UnusableFile
from chalicelib.recipients.issues import RowIssue

DELIMITERS = (";", "\t", ",")
MAX_RECORD_LINES = 10  # a quoted value spanning more lines is almost surely a stray quotation mark
HEADER_SEARCH_LINES = 10  # some exports put a title line or two above the header
MAX_LINE_CHARS = 1_000_000  # a recipient list's line is a few hundred characters; this is not one
_EOF = "\x00"  # the decoder refuses NUL, so this line can only be swallowed by an unclosed quote

LANGUAGE_VALUES = {
    "sv": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "svensk": "sv",
    "sv-se": "sv",
    "sv_se": "sv",
    "en": "en",
    "engelska": "en",
    "english": "en",
    "eng": "en",
    "en-gb": "en",
    "en-us": "en",
    "en_gb": "en",
    "en_us": "en",
}


@dataclass(slots=True)
class Row:
    """One record of the file. Values are trimmed cells; IP addresses are never read into it."""

    line: int
    email: str
    name: str = ""
    personnummer: str = ""
    phone: str = ""
    postal_address: str = ""
    lang: str | None = None


def iter_lines(chunks: Iterable[str]) -> Iterator[str]:
    """Physical lines with their line ending kept (CRLF, LF or old-Mac CR), across chunk boundaries.

    Raises UnusableFile when a line grows past MAX_LINE_CHARS, so a file without line breaks is not held whole.
    """
    carry = ""
    sep = ""
    count = 0
    for text in chunks:
        buf = carry + text if carry else text
        if not sep:
            if "\n" in buf:
                sep = "\n"
            else:
                cr = buf.find("\r")
                if cr == -1 or cr == len(buf) - 1:
                    carry = buf
                    if len(carry) > MAX_LINE_CHARS:
                        raise _line_too_long(count + 1)
                    continue
                sep = "\r"
        parts = buf.split(sep)
        carry = parts.pop()
        for part in parts:
            count += 1
            yield part + sep
        if len(carry) > MAX_LINE_CHARS:
            raise _line_too_long(count + 1)
    if carry:
        yield carry


def _line_too_long(line: int) -> UnusableFile:
    return UnusableFile(
        "malformed",
        f"Line {line} is longer than {MAX_LINE_CHARS:,} characters, so this is not a recipient list (or its line "
        "breaks are missing). Save the file again from Excel as CSV UTF-8.",
        line=line,
    )


def sniff_delimiter(header_line: str) -> tuple[str, list[str]]:
    """The delimiter under which the header names the most known columns (then: splits into most cells).

    Raises csv.Error when the line cannot be read as CSV under any delimiter (a value over csv's size limit).
    """
    best: tuple[int, int, int] | None = None
    choice = (DELIMITERS[0], [header_line.rstrip("\r\n")])
    error: csv.Error | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            cells = next(csv.reader([header_line], delimiter=delimiter), [])
        except csv.Error as exc:
            error = exc
            continue
        known = sum(1 for cell in cells if h.role_of(cell) is not None)
        score = (known, len(cells), -rank)
        if best is None or score > best:
            best, choice = score, (delimiter, cells)
    if best is None and error is not None:
        raise error
    return choice


def _no_email_column(header: list[str], line: int, last: int) -> UnusableFile:
    searched = f" (nor does any line after it up to line {last})" if last > line else ""
    if any("@" in cell for cell in header):
        return UnusableFile(
            "no_email_column",
            f"Line {line}, read as the header row, looks like a person, not column names{searched}. Add a header "
            "row first, with a column called E-post (and for example Namn, Personnummer, Adress).",
            line=line,
        )
    return UnusableFile(
        "no_email_column",
        f"No e-mail column was found: line {line} was read as the header row and none of its {len(header)} "
        f"column(s) is an e-mail column{searched}. Name the column with the e-mail addresses E-post "
        "(E-postadress, Epost, Mail and Email also work).",
        line=line,
    )


class RowReader(Iterator[Row]):
    """What iter_rows returns: the rows, plus where the header was found (`header_line`, `notes`)."""

    def __init__(self, rows: Iterator[Row], header_line: int, notes: list[RowIssue], has_address: bool = True):
        self._rows = rows
        self.header_line = header_line
        self.notes = notes  # a header below line 1: which line was taken, for the report's warnings
        self.has_address = has_address  # a postal address column exists (letters need one)

    def __iter__(self) -> RowReader:
        return self

    def __next__(self) -> Row:
        return next(self._rows)


def iter_rows(stream: BinaryIO, *, max_bytes: int) -> RowReader:
    """Stream Rows from a CSV file. Raises UnusableFile before the first row (format, header) or midway.

    The header is the first of the first HEADER_SEARCH_LINES non-blank lines that names an e-mail column; the
    lines above it (an export's title) are skipped and a note says so. A header with no row after it is "empty".
    """
    lines = iter_lines(iter_text(stream, max_bytes=max_bytes))
    line_no = 0
    first: tuple[int, list[str]] | None = None  # the line read as the header when none names an e-mail column
    skipped = 0
    for line in lines:
        line_no += 1
        if not line.strip():
            continue
        try:
            delimiter, header = sniff_delimiter(line)
        except csv.Error as exc:
            raise _malformed(line_no, exc) from None
        cols = h.map_columns(header)
        if h.EMAIL in cols:
            break
        if first is None:
            first = (line_no, header)
        skipped += 1
        if skipped == HEADER_SEARCH_LINES:
            raise _no_email_column(first[1], first[0], line_no)
    else:
        if first is not None:
            raise _no_email_column(first[1], first[0], line_no)
        raise UnusableFile("empty", "The file has no rows, not even a header row. Export the recipient list again.")
    notes = []
    if first is not None:
        notes.append(
            RowIssue(
                line_no,
                f"line {line_no} was taken as the header row (the first line naming an e-mail column); "
                f"the {skipped} non-blank line(s) above it were skipped",
                "header",
            )
        )
    has_address = any(role in cols for role in (h.STREET, h.CARE_OF, h.POSTCODE, h.CITY))
    return RowReader(_rows(lines, delimiter, cols, line_no), line_no, notes, has_address)


def _rows(lines: Iterator[str], delimiter: str, cols: dict[str, list[int]], base: int) -> Iterator[Row]:
    width = max(i for indexes in cols.values() for i in indexes) + 1
    pad = [""] * width
    none = -1  # every record gets an empty cell appended, so a missing column reads as ""

    def first(role: str) -> int:
        return cols[role][0] if role in cols else none

    email_i, name_i, first_i, last_i = first(h.EMAIL), first(h.NAME), first(h.FIRST), first(h.LAST)
    pnr_i, phone_i, lang_i = first(h.PNR), first(h.PHONE), first(h.LANG)
    co_i, post_i, city_i = first(h.CARE_OF), first(h.POSTCODE), first(h.CITY)
    streets = cols.get(h.STREET, [])
    street_i = streets[0] if len(streets) == 1 else none
    many_streets = streets if len(streets) > 1 else None
    has_address = bool(streets) or any(i != none for i in (co_i, post_i, city_i))

    reader = csv.reader(chain(lines, (_EOF,)), delimiter=delimiter, strict=False)
    consumed = 0
    people = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            if not people:
                raise _header_only() from None
            return
        except csv.Error as exc:
            raise _malformed(base + consumed + 1, exc) from None
        start = base + consumed + 1
        span = reader.line_num - consumed
        consumed = reader.line_num
        if not any(record):
            continue  # blank lines and Excel's ';;;;' rows
        if span > MAX_RECORD_LINES or _EOF in record[-1]:  # an unclosed quote swallows up to the end marker
            if record == [_EOF]:
                if not people:
                    raise _header_only()
                return
            where = "before the end of the file" if _EOF in record[-1] else f"within {MAX_RECORD_LINES} lines"
            raise UnusableFile(
                "unclosed_quote",
                f'Line {start} has a quotation mark (") that opens a value which does not end {where}. '
                "Check that line for a stray quotation mark, or save the file again from Excel.",
                line=start,
            )
        if len(record) < width:
            record += pad[len(record) :]
        record.append("")
        name = record[name_i].strip()
        if not name:
            given, family = record[first_i].strip(), record[last_i].strip()
            name = f"{given} {family}" if given and family else given or family
        address = ""
        if has_address:
            care_of = record[co_i].strip()
            if care_of and not care_of.lower().startswith("c/o"):
                care_of = "c/o " + care_of
            if many_streets:
                street = ", ".join(v for v in (record[i].strip() for i in many_streets) if v)
            else:
                street = record[street_i].strip()
            postcode, city = record[post_i].strip(), record[city_i].strip()
            town = f"{postcode} {city}" if postcode and city else postcode or city
            address = (
                ", ".join(v for v in (care_of, street, town) if v)
                if care_of
                else (f"{street}, {town}" if street and town else street or town)
            )
        lang = record[lang_i].strip() or None
        if lang is not None:
            lang = LANGUAGE_VALUES.get(lang.lower(), lang)
        email, pnr, phone = record[email_i].strip(), record[pnr_i].strip(), record[phone_i].strip()
        if not (email or name or pnr or phone or address or lang) and not "".join(record).strip():
            continue  # only whitespace
        people += 1
        yield Row(start, email, name, pnr, phone, address, lang)


def _header_only() -> UnusableFile:
    return UnusableFile(
        "empty",
        "The file has a header row but no people in it. Export the recipient list again, with the people in it.",
    )


def _malformed(line: int, exc: csv.Error) -> UnusableFile:
    return UnusableFile(
        "malformed",
        f"Line {line} could not be read as CSV ({_csv_problem(exc)}). Check that line, or save the file again "
        "from Excel.",
        line=line,
    )


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return "one value is far too long, perhaps because of a stray quotation mark"
    return "the quoting is broken"
