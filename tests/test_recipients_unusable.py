"""Every unusable file gives its code and a plain reason, with no value from the file in it, and no recipients."""

from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.recipients import UnusableFile, read_recipients

MAX = 10 * 1024 * 1024
SECRET = "anna.hemlig@exempel.se"


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", f"<workbook>{SECRET}</workbook>")
    return out.getvalue()


def big_ascii_then(tail: bytes, rows: int = 20_000) -> bytes:
    body = "".join(f"Person {i};p{i}@x.se\r\n" for i in range(rows)).encode()
    return b"Namn;E-post\r\n" + body + tail


CASES = {
    "xlsx": (xlsx_bytes(), "excel", "Excel workbook (.xlsx)"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "excel", "old Excel workbook (.xls)"),
    "pdf": (b"%PDF-1.7\n" + SECRET.encode(), "not_text", "PDF"),
    "zero bytes": (b"", "empty", "empty"),
    "only a BOM": (b"\xef\xbb\xbf", "empty", "no rows"),
    "only blank lines": (b"\r\n\r\n  \r\n", "empty", "no rows"),
    "utf-16 BOM only": (b"\xff\xfe", "empty", "no rows"),
    "header row only": (b"Namn;E-post;Personnummer\r\n", "empty", "header row but no people in it"),
    "header row and empty rows": (b"\xef\xbb\xbfNamn;E-post\r\n;\r\n\r\n  ;  \r\n", "empty", "no people"),
    "header below a title only": (b"Kundlista\r\n\r\nNamn;E-post\r\n", "empty", "no people"),
    "no e-mail column": (f"Namn;Telefon\r\nAnna;{SECRET}\r\n".encode(), "no_email_column", "E-post"),
    "says which line was the header": (
        f"\r\nNamn;Telefon\r\nAnna;{SECRET}\r\n".encode(),
        "no_email_column",
        "line 2 was read as the header row",
    ),
    "no e-mail column in the first 10 lines": (
        b"Rapport\r\n" + b"x;y\r\n" * 9 + b"Namn;E-post\r\nAnna;a@x.se\r\n",
        "no_email_column",
        "line 1 was read as the header row",
    ),
    "no header row": (f"Anna Hemlig;{SECRET}\r\n".encode(), "no_email_column", "header row"),
    "utf-16 LE without BOM": ("E-post\tNamn\r\nx@y.se\tÅsa\r\n".encode("utf-16-le"), "unknown_encoding",
                              "UTF-16 without a byte-order mark: save as UTF-8 (CSV UTF-8) instead"),
    "utf-16 BE without BOM": ("Namn;E-post\r\nÅsa;x@y.se\r\n".encode("utf-16-be"), "unknown_encoding",
                              "UTF-16 without a byte-order mark"),
    "one huge line": (b"Namn;E-post\r\n" + b"A;" * 600_000 + b"\r\n", "malformed", "Line 2 is longer than"),
    "no line breaks at all": (b"E-post;" * 200_000, "malformed", "Line 1 is longer than"),
    "huge header cell": (b"E-post;" + b"x" * 200_000 + b"\r\na@x.se;1\r\n", "malformed", "Line 1 could not be read"),
    "binary at start": (b"Namn;E-post\r\n\x00\x01\x02" + SECRET.encode(), "not_text", "binary"),
    "binary midway": (big_ascii_then(b"\x00\x00\xff\xfe garbage"), "not_text", "line 20002"),
    "utf-16 with NUL": ("E-post\r\nx@y.se\x00\r\n".encode("utf-16"), "not_text", "binary"),
    "utf-8 then cp1252": (
        "Namn;E-post\r\nÅsa;a@x.se\r\n".encode() + big_ascii_then("Örjan;o@x.se\r\n".encode("cp1252")),
        "mixed_encoding",
        "mixes two character encodings",
    ),
    "utf-8 BOM then cp1252": (
        b"\xef\xbb\xbf" + big_ascii_then("Örjan;o@x.se\r\n".encode("cp1252")),
        "mixed_encoding",
        "near line 20002",
    ),
    "utf-16 cut in half": ("E-post\tNamn\r\nx@y.se\tÅsa\r\n".encode("utf-16")[:-1], "mixed_encoding", "UTF-16"),
    "not cp1252 either": (big_ascii_then("Örjan\x81;o@x.se\r\n".encode("latin-1")), "unknown_encoding", "line 20002"),
    "unclosed quote at end": (f'Namn;E-post\r\n"Anna;{SECRET}\r\nBo;b@x.se\r\n'.encode(), "unclosed_quote", "Line 2"),
    "unclosed quote midway": (
        b'Namn;E-post\r\nAnna;a@x.se\r\n"Bo;b@x.se\r\n' + big_ascii_then(b'"x";y@x.se\r\n', 50)[13:],
        "unclosed_quote",
        "Line 3",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_unusable_file(case: str) -> None:
    data, code, words = CASES[case]
    with pytest.raises(UnusableFile) as info:
        read_recipients(io.BytesIO(data), max_bytes=MAX, hmac_key=b"k")
    assert info.value.code == code
    assert words in info.value.reason
    assert SECRET not in info.value.reason and "anna" not in info.value.reason.lower()
    assert str(info.value) == info.value.reason


def test_too_large_is_noticed_while_streaming() -> None:
    data = big_ascii_then(b"", rows=50_000)
    with pytest.raises(UnusableFile) as info:
        read_recipients(io.BytesIO(data), max_bytes=len(data) - 1, hmac_key=b"k")
    assert info.value.code == "too_large"
    assert "MiB" in info.value.reason
    read_recipients(io.BytesIO(data), max_bytes=len(data), hmac_key=b"k")  # exactly at the limit is fine


def test_excel_recognised_by_content_not_name() -> None:
    """An .xlsx renamed to .csv is still an Excel workbook; the reader never sees a name at all."""
    with pytest.raises(UnusableFile, match="Save As > CSV UTF-8"):
        read_recipients(io.BytesIO(xlsx_bytes()), max_bytes=MAX, hmac_key=b"k")
