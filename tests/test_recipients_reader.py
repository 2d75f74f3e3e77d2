"""The CSV reader: generated tables round-trip through every encoding x delimiter x line ending x read size."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.recipients import Row, UnusableFile, iter_rows
from tests.recipients_helpers import TrickleStream

MAX = 10 * 1024 * 1024
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
DELIMITERS = (";", ",", "\t")
ENDINGS = ("\r\n", "\n")
HEADER = ["Namn", "Personnummer", "Adress", "Postnummer", "Ort", "Telefon", "E-post", "IP-adress", "Språk"]

# What Swedish lists contain, all of it encodable in Windows-1252 too.
CELL_ALPHABET = st.sampled_from([*"abcxyzABCÅÄÖåäöéÉüÜ0189 -'\".,;\t\n", "€", "ß", "\xa0"])
cells = st.text(alphabet=CELL_ALPHABET, max_size=12)
emails = st.from_regex(r"[a-z0-9]{1,8}(\.[a-z]{1,5})?@[a-z]{1,8}\.(se|com|nu)", fullmatch=True)
langs = st.sampled_from(["", "sv", "en", "SV", "Svenska", "English"])


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        rows.append(
            {
                "name": draw(cells),
                "pnr": draw(st.sampled_from(["", "811218-9876", "19811218-9876"])),
                "street": draw(cells),
                "zip": draw(st.sampled_from(["", "123 45", "98765"])),
                "city": draw(cells),
                "phone": draw(st.sampled_from(["", "070-123 45 67", "+46 70 1234567"])),
                "email": draw(emails),
                "ip": draw(st.sampled_from(["", "192.0.2.7", "2001:db8::1"])),
                "lang": draw(langs),
                "blank_before": draw(st.booleans()),
            }
        )
    return rows


def render(rows: list[dict[str, str]], delimiter: str, ending: str) -> tuple[str, list[int]]:
    """The CSV text as Excel would write it, and the line each record starts on."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=ending)
    writer.writerow(HEADER)
    line = 2
    starts = []
    for r in rows:
        if r["blank_before"]:
            out.write(ending)
            line += 1
        cells = [r["name"], r["pnr"], r["street"], r["zip"], r["city"], r["phone"], r["email"], r["ip"], r["lang"]]
        writer.writerow(cells)
        starts.append(line)
        line += 1 + sum(c.count("\n") for c in cells)
    return out.getvalue(), starts


def expected_row(r: dict[str, str], line: int) -> Row:
    town = " ".join(v for v in (r["zip"].strip(), r["city"].strip()) if v)
    address = ", ".join(v for v in (r["street"].strip(), town) if v)
    lang_map = {"sv": "sv", "en": "en", "SV": "sv", "Svenska": "sv", "English": "en"}
    return Row(
        line=line,
        email=r["email"],
        name=r["name"].strip(),
        personnummer=r["pnr"],
        phone=r["phone"],
        postal_address=address,
        lang=lang_map.get(r["lang"]),
    )


@settings(max_examples=300, deadline=None)
@given(
    tables(),
    st.sampled_from(ENCODINGS),
    st.sampled_from(DELIMITERS),
    st.sampled_from(ENDINGS),
    st.integers(1, 64),
)
def test_generated_tables_round_trip(rows, encoding, delimiter, ending, step) -> None:
    text, starts = render(rows, delimiter, ending)
    stream = TrickleStream(text.encode(encoding), step=step)
    got = list(iter_rows(stream, max_bytes=MAX))
    assert got == [expected_row(r, line) for r, line in zip(rows, starts, strict=True)]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("delimiter", DELIMITERS)
@pytest.mark.parametrize("ending", ("\r\n", "\n", "\r"))
def test_every_combination_reads_swedish_letters(encoding: str, delimiter: str, ending: str) -> None:
    d = delimiter
    text = ending.join([f"Namn{d}E-post", f'"Åsa Öberg{d} Jr"{d}asa@exempel.se', f"Émile Ärlig{d}e@x.se", ""])
    rows = list(iter_rows(io.BytesIO(text.encode(encoding)), max_bytes=MAX))
    assert [(r.line, r.name, r.email) for r in rows] == [
        (2, f"Åsa Öberg{d} Jr", "asa@exempel.se"),
        (3, "Émile Ärlig", "e@x.se"),
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-post", "email"),
        ("epost", "email"),
        (" E-POSTADRESS ", "email"),
        ("Mail", "email"),
        ("email", "email"),
        ("E-mail", "email"),
        ("e_mail", "email"),
        ("E-post:", "email"),
        ("\xa0E-post\xa0", "email"),
        ("Namn", "name"),
        ("NAME", "name"),
        ("Personnr", "personnummer"),
        ("PNR", "personnummer"),
        ("National ID", "personnummer"),
        ("Samordningsnummer", "personnummer"),
        ("Telefon", "phone"),
        ("Tel", "phone"),
        ("Mobil", "phone"),
        ("Mobilnummer", "phone"),
        ("Phone", "phone"),
        ("Adress", "postal_address"),
        ("Gatuadress", "postal_address"),
        ("Postadress", "postal_address"),
        ("Språk", "lang"),
        ("language", "lang"),
        ("LANG", "lang"),
    ],
)
def test_header_aliases(header: str, field: str) -> None:
    other = "X-kolumn" if field == "email" else "E-post"
    text = f"{other};{header}\nx@y.se;sv\n" if field != "email" else f"{other};{header}\nz;x@y.se\n"
    if field == "email":
        (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
        assert row.email == "x@y.se"
    else:
        (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
        assert getattr(row, field) == "sv"


def test_first_and_last_name_and_split_address_are_joined() -> None:
    text = (
        "Förnamn;Efternamn;c/o;Gatuadress;Postnummer;Postort;E-post\n"
        "Anna;Berg;Lisa Berg;Storgatan 1;123 45;Växjö;anna@x.se\n"
        "Bo;;;;;;bo@x.se\n"
    )
    rows = list(iter_rows(io.BytesIO(text.encode("cp1252")), max_bytes=MAX))
    assert rows[0].name == "Anna Berg"
    assert rows[0].postal_address == "c/o Lisa Berg, Storgatan 1, 123 45 Växjö"
    assert rows[1].name == "Bo" and rows[1].postal_address == ""


def test_english_headers() -> None:
    text = "First name,Last name,Email,Phone,Address,Zip,City,Language\nJo,Ek,jo@x.se,1,Street 1,111 11,Lund,en\n"
    (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
    assert (row.name, row.email, row.phone, row.postal_address, row.lang) == (
        "Jo Ek",
        "jo@x.se",
        "1",
        "Street 1, 111 11 Lund",
        "en",
    )


def test_messy_excel_output() -> None:
    """Padded headers, trailing empty columns, ';;;' rows, blank lines, NBSP, short rows, quoted line breaks."""
    text = '\r\n  NAMN ; E-Post ;;;\r\nAnna\xa0;\xa0anna@x.se\xa0;;;\r\n;;;;\r\n\r\n"Bo\nBerg";bo@x.se\r\nCia\r\n'
    rows = list(iter_rows(io.BytesIO(text.encode("utf-8-sig")), max_bytes=MAX))
    assert [(r.line, r.name, r.email) for r in rows] == [
        (3, "Anna", "anna@x.se"),
        (6, "Bo\nBerg", "bo@x.se"),
        (8, "Cia", ""),
    ]


def test_ip_address_is_never_read() -> None:
    text = "E-post;IP-adress\nx@y.se;192.0.2.44\n"
    (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
    assert "192.0.2.44" not in repr(row)


def test_hostile_cells_are_plain_values() -> None:
    text = "Namn;E-post\n\"=cmd|' /C calc'!A0\";<script>@x.se\n"
    (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
    assert row.name.startswith("=cmd") and row.email == "<script>@x.se"


def test_ascii_start_then_windows_1252_loses_no_row() -> None:
    """The first non-ASCII byte 200 kB in: decoding switches to Windows-1252 and every row is there."""
    rows = [f"Person {i};p{i}@x.se\r\n" for i in range(10_000)]
    rows.append("Åsa Öberg;asa@x.se\r\n")
    rows += [f"Efter {i};e{i}@x.se\r\n" for i in range(100)]
    data = ("Namn;E-post\r\n" + "".join(rows)).encode("cp1252")
    got = list(iter_rows(io.BytesIO(data), max_bytes=MAX))
    assert len(got) == 10_101
    assert got[10_000].name == "Åsa Öberg" and got[10_000].line == 10_002
    assert got[-1].email == "e99@x.se"


def test_non_ascii_first_row_of_windows_1252_file() -> None:
    data = "Namn;E-post\r\nÖrjan;o@x.se\r\n".encode("cp1252")
    (row,) = iter_rows(io.BytesIO(data), max_bytes=MAX)
    assert row.name == "Örjan"


def test_rows_are_not_read_when_header_is_unusable() -> None:
    with pytest.raises(UnusableFile) as info:
        iter_rows(io.BytesIO(b"Namn;Telefon\nAnna;070\n"), max_bytes=MAX)
    assert info.value.code == "no_email_column"


def test_unknown_columns_after_known_ones_are_ignored() -> None:
    text = "E-post;Kundnummer;Övrigt\nx@y.se;12345;Hemlig anteckning\n"
    (row,) = iter_rows(io.BytesIO(text.encode()), max_bytes=MAX)
    assert row == Row(2, "x@y.se")


def test_several_address_lines_are_joined() -> None:
    text = "E-post;Adress 1;Adress 2;Postnr;Ort\nx@y.se;Lgh 1101;Storgatan 1;111 22;Kiruna\ny@y.se;;;;Kiruna\n"
    rows = list(iter_rows(io.BytesIO(text.encode()), max_bytes=MAX))
    assert [r.postal_address for r in rows] == ["Lgh 1101, Storgatan 1, 111 22 Kiruna", "Kiruna"]


@pytest.mark.parametrize(
    ("above", "header_line"),
    [
        ("Kundlista\r\n", 2),
        ("Export från Kassan 2024-03-01;;;\r\n\r\nUrval: alla kunder\r\n", 4),
        ('"Rapport; kunder";\r\n', 2),
    ],
)
def test_header_below_title_lines_is_found_and_said(above: str, header_line: int) -> None:
    from chalicelib.recipients import read_recipients

    data = (above + "Namn;E-post\r\nAnna;anna@x.se\r\nBo;\r\n").encode("cp1252")
    rows = iter_rows(io.BytesIO(data), max_bytes=MAX)
    assert rows.header_line == header_line
    assert [(r.line, r.name, r.email) for r in rows] == [
        (header_line + 1, "Anna", "anna@x.se"),
        (header_line + 2, "Bo", ""),
    ]
    result = read_recipients(io.BytesIO(data), max_bytes=MAX, hmac_key=b"k")
    (note,) = [w for w in result.warnings if w.column == "header"]
    assert note.line == header_line and f"line {header_line} was taken as the header row" in note.reason
    # the other warning: Bo needs a letter and the file has no address column
    assert [w.column for w in result.warnings] == ["address", "header"]
    assert result.warnings_count == 2 and result.deliverable == 1 and result.letters_count == 1


def test_header_on_line_one_has_no_note_even_after_blank_lines() -> None:
    rows = iter_rows(io.BytesIO(b"\r\n\r\nE-post\r\na@x.se\r\n"), max_bytes=MAX)
    assert rows.header_line == 3 and rows.notes == []
    assert [r.line for r in rows] == [4]


def test_header_is_looked_for_in_the_first_ten_non_blank_lines_only() -> None:
    nine = "Titel\r\n\r\n" * 9
    rows = iter_rows(io.BytesIO((nine + "E-post\r\na@x.se\r\n").encode()), max_bytes=MAX)
    assert rows.header_line == 19 and [r.email for r in rows] == ["a@x.se"]
    with pytest.raises(UnusableFile) as info:
        iter_rows(io.BytesIO((nine + "Titel\r\nE-post\r\na@x.se\r\n").encode()), max_bytes=MAX)
    assert info.value.code == "no_email_column" and info.value.line == 1
    assert "line 1 was read as the header row" in info.value.reason and "up to line 19" in info.value.reason


def test_header_only_is_empty_but_a_row_of_letters_is_not() -> None:
    with pytest.raises(UnusableFile) as info:
        list(iter_rows(io.BytesIO(b"Namn;E-post\r\n;;\r\n"), max_bytes=MAX))
    assert info.value.code == "empty" and info.value.reason.startswith("The file has a header row but no people")
    (row,) = iter_rows(io.BytesIO(b"Namn;E-post\r\nAnna;\r\n"), max_bytes=MAX)
    assert row == Row(2, "", "Anna")
