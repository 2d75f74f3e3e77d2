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

DELIMITERS = (";", "\t", ",")
MAX_RECORD_LINES = 10  # a quoted value spanning more lines is almost surely a stray quotation mark
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
    """Physical lines with their line ending kept (CRLF, LF or old-Mac CR), across chunk boundaries."""
    carry = ""
    sep = ""
    for text in chunks:
        buf = carry + text if carry else text
        if not sep:
            if "\n" in buf:
                sep = "\n"
            else:
                cr = buf.find("\r")
                if cr == -1 or cr == len(buf) - 1:
                    carry = buf
                    continue
                sep = "\r"
        parts = buf.split(sep)
        carry = parts.pop()
        for part in parts:
            yield part + sep
    if carry:
        yield carry


def sniff_delimiter(header_line: str) -> tuple[str, list[str]]:
    """The delimiter under which the header names the most known columns (then: splits into most cells)."""
    best: tuple[int, int, int] | None = None
    choice = (DELIMITERS[0], [header_line.rstrip("\r\n")])
    for rank, delimiter in enumerate(DELIMITERS):
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        known = sum(1 for cell in cells if h.role_of(cell) is not None)
        score = (known, len(cells), -rank)
        if best is None or score > best:
            best, choice = score, (delimiter, cells)
    return choice


def _no_email_column(header: list[str]) -> UnusableFile:
    if any("@" in cell for cell in header):
        return UnusableFile(
            "no_email_column",
            "The first row looks like a person, not column names. Add a header row first, with a column "
            "called E-post (and for example Namn, Personnummer, Adress).",
            line=1,
        )
    return UnusableFile(
        "no_email_column",
        f"No e-mail column was found among the {len(header)} column(s) of the header row. Name the column "
        "with the e-mail addresses E-post (E-postadress, Epost, Mail and Email also work).",
        line=1,
    )


def _cell(record: list[str], indexes: list[int] | None) -> str:
    if not indexes:
        return ""
    i = indexes[0]
    return record[i].strip() if i < len(record) else ""


def _join(record: list[str], indexes: list[int] | None, sep: str) -> str:
    if not indexes:
        return ""
    n = len(record)
    return sep.join(v for v in (record[i].strip() for i in indexes if i < n) if v)


def iter_rows(stream: BinaryIO, *, max_bytes: int) -> Iterator[Row]:
    """Stream Rows from a CSV file. Raises UnusableFile before the first row (format, header) or midway."""
    lines = iter_lines(iter_text(stream, max_bytes=max_bytes))
    header_line_no = 0
    for line in lines:
        header_line_no += 1
        if line.strip():
            break
    else:
        raise UnusableFile("empty", "The file has no rows, not even a header row. Export the recipient list again.")
    delimiter, header = sniff_delimiter(line)
    cols = h.map_columns(header)
    if h.EMAIL not in cols:
        raise _no_email_column(header)
    return _rows(lines, delimiter, cols, header_line_no)


def _rows(lines: Iterator[str], delimiter: str, cols: dict[str, list[int]], base: int) -> Iterator[Row]:
    email_i = cols[h.EMAIL][0]
    name_c, first_c, last_c = cols.get(h.NAME), cols.get(h.FIRST), cols.get(h.LAST)
    pnr_c, phone_c, lang_c = cols.get(h.PNR), cols.get(h.PHONE), cols.get(h.LANG)
    co_c, street_c, post_c, city_c = cols.get(h.CARE_OF), cols.get(h.STREET), cols.get(h.POSTCODE), cols.get(h.CITY)
    has_address = bool(co_c or street_c or post_c or city_c)
    has_first_last = bool(first_c or last_c)

    reader = csv.reader(chain(lines, (_EOF,)), delimiter=delimiter, strict=False)
    consumed = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = base + consumed + 1
            raise UnusableFile(
                "malformed",
                f"Line {line} could not be read as CSV ({_csv_problem(exc)}). Check that line, or save the "
                "file again from Excel.",
                line=line,
            ) from None
        start = base + consumed + 1
        span = reader.line_num - consumed
        consumed = reader.line_num
        if not record or not any(record):
            continue
        if span > MAX_RECORD_LINES or any(_EOF in cell for cell in record):
            if record == [_EOF]:
                return
            at_end = any(_EOF in cell for cell in record)
            where = "before the end of the file" if at_end else f"within {MAX_RECORD_LINES} lines"
            raise UnusableFile(
                "unclosed_quote",
                f'Line {start} has a quotation mark (") that opens a value which does not end {where}. '
                "Check that line for a stray quotation mark, or save the file again from Excel.",
                line=start,
            )
        n = len(record)
        email = record[email_i].strip() if email_i < n else ""
        name = _cell(record, name_c)
        if not name and has_first_last:
            name = " ".join(v for v in (_cell(record, first_c), _cell(record, last_c)) if v)
        address = ""
        if has_address:
            care_of = _cell(record, co_c)
            if care_of and not care_of.lower().startswith("c/o"):
                care_of = "c/o " + care_of
            town = " ".join(v for v in (_cell(record, post_c), _cell(record, city_c)) if v)
            address = ", ".join(v for v in (care_of, _join(record, street_c, ", "), town) if v)
        lang = None
        if lang_c:
            raw = _cell(record, lang_c)
            if raw:
                lang = LANGUAGE_VALUES.get(raw.lower(), raw)
        pnr = _cell(record, pnr_c)
        phone = _cell(record, phone_c)
        if not (email or name or pnr or phone or address or lang) and not "".join(record).strip():
            continue  # a blank line, or one of Excel's ';;;;' rows
        yield Row(start, email, name, pnr, phone, address, lang)


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return "one value is far too long, perhaps because of a stray quotation mark"
    return "the quoting is broken"
