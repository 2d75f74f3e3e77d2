"""Pages of several PDFs written one after the other into one PDF file, each part forgotten once written.

fpdf2 keeps a whole document in memory until it is output (about 34 KB per letter here: 340 MB for 10,000),
so the letters are made in batches and each batch's pages are copied into the one output file as soon as the
batch is done. The copy keeps every object as it is (content streams stay compressed) and only renumbers
references; the page tree, catalogue and cross-reference table are written at the end (PDF 1.7, ISO 32000-1,
7.5: body, cross-reference table, trailer). Memory follows one batch, not the file.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

_CATALOG, _PAGES = 1, 2


class _Counting:
    def __init__(self, out: BinaryIO):
        self.out = out
        self.written = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.written += len(data)
        return len(data)


class StreamingPDF:
    """`add(pdf_bytes)` for each part, then `close()`; pages come out in the order they went in."""

    def __init__(self, out: BinaryIO):
        self.out = _Counting(out)
        self.offsets: dict[int, int] = {}
        self.next_id = 3
        self.kids: list[int] = []
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def add(self, data: bytes) -> int:
        """Copy every page of the PDF `data`; the number of pages copied."""
        reader = PdfReader(io.BytesIO(data))
        numbers: dict[int, int] = {}  # the part's object number -> ours
        pending: list[tuple[int, Any]] = []

        def ref(obj: IndirectObject) -> IndirectObject:
            if obj.idnum not in numbers:
                numbers[obj.idnum] = self._new_id()
                pending.append((numbers[obj.idnum], obj.get_object()))
            return IndirectObject(numbers[obj.idnum], 0, None)  # type: ignore[arg-type]

        def copy(obj: Any) -> Any:
            if isinstance(obj, IndirectObject):
                return ref(obj)
            if isinstance(obj, StreamObject):
                new = obj.__class__()
                new._data = obj._data  # as stored: still compressed
                for key, value in obj.items():
                    new[NameObject(key)] = copy(value)
                return new
            if isinstance(obj, DictionaryObject):
                return DictionaryObject({NameObject(k): copy(v) for k, v in obj.items()})
            if isinstance(obj, ArrayObject):
                return ArrayObject(copy(v) for v in obj)
            return obj

        for page in reader.pages:
            page_id = self._new_id()
            body = DictionaryObject({NameObject(k): copy(v) for k, v in page.items() if k != "/Parent"})
            body[NameObject("/Parent")] = IndirectObject(_PAGES, 0, None)  # type: ignore[arg-type]
            self._write(page_id, body)
            self.kids.append(page_id)
            while pending:
                number, obj = pending.pop()
                self._write(number, copy(obj))
        return len(reader.pages)

    def close(self) -> None:
        pages = DictionaryObject({
            NameObject("/Type"): NameObject("/Pages"), NameObject("/Count"): NumberObject(len(self.kids)),
            NameObject("/Kids"): ArrayObject(IndirectObject(k, 0, None) for k in self.kids),  # type: ignore[arg-type]
        })
        self._write(_PAGES, pages)
        self._write(_CATALOG, DictionaryObject({
            NameObject("/Type"): NameObject("/Catalog"),
            NameObject("/Pages"): IndirectObject(_PAGES, 0, None),  # type: ignore[arg-type]
        }))
        start = self.out.written
        size = self.next_id
        lines = [f"xref\n0 {size}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets[i]:010d} 00000 n \n" if i in self.offsets else "0000000000 65535 f \n"
                  for i in range(1, size)]
        lines.append(f"trailer\n<< /Size {size} /Root {_CATALOG} 0 R >>\nstartxref\n{start}\n%%EOF\n")
        self.out.write("".join(lines).encode("ascii"))

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def _write(self, number: int, obj: Any) -> None:
        self.offsets[number] = self.out.written
        self.out.write(f"{number} 0 obj\n".encode("ascii"))
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")
