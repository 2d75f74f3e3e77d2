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
        if not any(record):
            continue  # blank lines and Excel's ';;;;' rows
        if span > MAX_RECORD_LINES or _EOF in record[-1]:  # an unclosed quote swallows up to the end marker
            if record == [_EOF]:
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
        yield Row(start, email, name, pnr, phone, address, lang)


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return "one value is far too long, perhaps because of a stray quotation mark"
    return "the quoting is broken"
