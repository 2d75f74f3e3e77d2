"""Turn a byte stream into text chunks, choosing the encoding from the first bytes and never reading it all.

Swedish offices produce UTF-8 (with or without BOM), Windows-1252 (Excel's plain "CSV") and UTF-16 with a BOM
(Excel's "Unicode text"). Without a BOM the file is read as UTF-8 until a byte proves it is not; if everything
before that byte was ASCII, the two encodings agree on it and decoding switches to Windows-1252 with nothing
lost. If real UTF-8 characters came first, the file mixes encodings and is refused rather than half-garbled.
UTF-16 without a BOM (every other byte NUL) is recognised and refused with its own reason: guessing its byte
order is possible, but it is rare and a clear "save as UTF-8" beats a file read wrongly.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from chalicelib.recipients.errors import UnusableFile

CHUNK_BYTES = 64 * 1024

_XLSX = b"PK\x03\x04"
_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF = b"%PDF-"

SAVE_AS = "In Excel choose File > Save As > CSV UTF-8 (comma delimited) (*.csv) and upload that file."


def sniff_container(head: bytes) -> None:
    """Refuse well-known non-text formats by content, whatever the file is called."""
    if head.startswith(_XLSX):
        raise UnusableFile(
            "excel",
            "This is an Excel workbook (.xlsx) or another zipped file, not a CSV file. " + SAVE_AS,
        )
    if head.startswith(_XLS):
        raise UnusableFile("excel", "This is an old Excel workbook (.xls), not a CSV file. " + SAVE_AS)
    if head.startswith(_PDF):
        raise UnusableFile("not_text", "This is a PDF document, not a CSV file. Upload the CSV export instead.")


def sniff_utf16_without_bom(head: bytes) -> None:
    """UTF-16 text of Latin letters without a BOM: NUL bytes at one byte parity, hardly any at the other."""
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    if max(even, odd) >= 0.7 * pairs and min(even, odd) <= 0.05 * pairs:
        raise UnusableFile(
            "unknown_encoding",
            "The file is UTF-16 without a byte-order mark: save as UTF-8 (CSV UTF-8) instead. " + SAVE_AS,
        )


def _not_text(line: int) -> UnusableFile:
    return UnusableFile(
        "not_text",
        f"The file contains binary data (a NUL byte near line {line}), so it is not a CSV text file. " + SAVE_AS,
        line=line,
    )


def _too_large(max_bytes: int) -> UnusableFile:
    mib = max_bytes / (1024 * 1024)
    return UnusableFile(
        "too_large",
        f"The file is larger than the limit of {mib:.0f} MiB. Split it into smaller files and upload each.",
    )


class _Reader:
    """Counts bytes so the size limit holds for streams that do not know their own length."""

    def __init__(self, stream: BinaryIO, max_bytes: int, chunk_bytes: int):
        self.stream = stream
        self.max_bytes = max_bytes
        self.chunk_bytes = chunk_bytes
        self.total = 0

    def read(self) -> bytes:
        data = self.stream.read(self.chunk_bytes)
        if not data:
            return b""
        self.total += len(data)
        if self.total > self.max_bytes:
            raise _too_large(self.max_bytes)
        return bytes(data)


def iter_text(stream: BinaryIO, *, max_bytes: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """Yield decoded text chunks; raise UnusableFile up front (format) or midway (size, binary, encoding)."""
    reader = _Reader(stream, max_bytes, chunk_bytes)
    head = reader.read()
    while head and len(head) < 8:  # a stream may hand out tiny reads; the magic numbers need 8 bytes
        more = reader.read()
        if not more:
            break
        head += more
    if not head:
        raise UnusableFile("empty", "The file is empty. Export the recipient list again and upload that file.")
    sniff_container(head)

    if head.startswith(codecs.BOM_UTF8):
        yield from _decode_fixed(reader, head, "utf-8-sig")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        yield from _decode_fixed(reader, head, "utf-16")
    else:
        sniff_utf16_without_bom(head)
        yield from _decode_guess(reader, head)


def _decode_fixed(reader: _Reader, data: bytes, encoding: str) -> Iterator[str]:
    """A BOM names the encoding: any byte that does not fit is a damaged file, not a different encoding."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    while True:
        final = not data
        try:
            text = decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            line = lines + exc.object[: exc.start].count(b"\n") + 1
            name = "UTF-8" if encoding.startswith("utf-8") else "UTF-16"
            raise UnusableFile(
                "mixed_encoding",
                f"The file says it is {name} but near line {line} it contains bytes that are not {name}. "
                "Parts of it may come from another file. " + SAVE_AS,
                line=line,
            ) from None
        if "\x00" in text:
            raise _not_text(lines + text[: text.index("\x00")].count("\n") + 1)
        if text:
            lines += text.count("\n")
            yield text
        if final:
            return
        data = reader.read()


def _decode_guess(reader: _Reader, data: bytes) -> Iterator[str]:
    """UTF-8 until proven otherwise, then Windows-1252 if nothing decoded so far depended on the choice."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    ascii_so_far = True
    cp1252 = False
    lines = 0
    while True:
        final = not data
        if b"\x00" in data:
            raise _not_text(lines + data[: data.index(b"\x00")].count(b"\n") + 1)
        if cp1252:
            text = _cp1252(data, lines)
        else:
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                buffered = pending + data
                before = buffered[: exc.start]
                if not (ascii_so_far and before.isascii()):
                    line = lines + before.count(b"\n") + 1
                    raise UnusableFile(
                        "mixed_encoding",
                        "The file mixes two character encodings: it starts as UTF-8 (with letters such as "
                        f"å, ä, ö) but near line {line} the text is in another encoding. Parts of it may "
                        "come from another file. " + SAVE_AS,
                        line=line,
                    ) from None
                cp1252 = True
                text = _cp1252(buffered, lines)
            else:
                if ascii_so_far and not text.isascii():
                    ascii_so_far = False
        lines += data.count(b"\n")  # a newline is one byte in both encodings, never inside a sequence
        if text:
            yield text
        if final:
            return
        data = reader.read()


def _cp1252(data: bytes, lines: int) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = lines + data[: exc.start].count(b"\n") + 1
        raise UnusableFile(
            "unknown_encoding",
            f"The file is neither UTF-8 nor Windows-1252 text (an unknown byte near line {line}). " + SAVE_AS,
            line=line,
        ) from None
