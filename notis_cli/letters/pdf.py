"""A4 letters for C5/C65 window envelopes, written with fpdf2 on staff machines (never in a Lambda function).

Layout (millimetres from the page's top-left corner):
- sender (the organisation) at the top left, the date at the top right, both above the window;
- the recipient block inside the address window of a Swedish window envelope (SS 19: window on the left, the
  same place whatever the C format): the page is folded to C5/C65, the window's inner edge is 15-20 mm from the
  left and 44-45 mm from the top, 90-105 mm wide and 35-45 mm tall. The block is set in ADDRESS_AREA, the part
  every such envelope shows (20-105 mm across, 48-80 mm down), at most 6 lines of 10 pt;
- the body from 100 mm down on page one, 20 mm on later pages; a heading is never the last thing on a page
  (it moves to the next page with the first lines of its text); every page says the reference code and its
  page number, so a print house keeps each letter's pages together.

Fonts: DejaVu Sans (Debian's fonts-dejavu-core, which the Makefile installs), embedded as subsets: å ä ö and
every other character of a name print as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from notis_cli.letters.blocks import Block, blocks_of

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 20.0, 20.0, 20.0, 22.0
ADDRESS_AREA = (20.0, 48.0, 105.0, 80.0)  # x0, y0, x1, y1: inside the window of every SS 19 C5/C65 envelope
ADDRESS_X, ADDRESS_Y, ADDRESS_LINE = 22.0, 50.0, 4.6
ADDRESS_MAX_LINES = 6
BODY_TOP_FIRST = 100.0
BODY_SIZE, BODY_LINE = 10.5, 5.2
BULLET_INDENT = 6.0
ITEM_GAP = 1.2  # after a list item
KEEP_WITH_HEADING = 3  # lines of the text after a heading that must fit on the same page
KEEP_LIST_LINES = 10  # a list after a heading this short moves to the next page with it, whole
BATCH = 500  # letters per fpdf2 document before its pages are written out (about 17 MB of memory)


class FontMissing(RuntimeError):
    """DejaVu Sans is not installed (Debian: fonts-dejavu-core)."""


@dataclass(frozen=True)
class Letter:
    """One letter: who it goes to (window lines), from whom, when, and the body's HTML."""

    recipient: tuple[str, ...]  # the names line, then the address lines
    sender: tuple[str, ...]  # organisation name, then a contact line or two
    date: str
    reference: str
    html: str
    lang: str
    page_label: str = "sida"  # "sida" / "page"


class LetterPDF(FPDF):
    """One fpdf2 document of letters; `add_letter` lays out one letter from a new page."""

    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        for style, name in FONT_FILES.items():
            path = FONT_DIR / name
            if not path.exists():
                raise FontMissing(f"{path} is missing: install Debian's fonts-dejavu-core (make does it)")
            self.add_font("DejaVu", style, str(path))
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.set_creator("notis")
        self.set_title("notis letters")
        self.letters = 0
        self._current: Letter | None = None
        self._wrapped: dict[tuple[str, str, float, float], list[str]] = {}
        self._page_of_letter = 0

    def footer(self) -> None:
        if self._current is None:
            return
        self._page_of_letter += 1
        self.set_y(-14)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 4, f"{self._current.reference} · {self._current.page_label} {self._page_of_letter}",
                  align="R")
        self.set_text_color(0, 0, 0)

    def add_letter(self, letter: Letter) -> None:
        self.add_page()  # closes the previous letter's last page (its footer) first
        self._current, self._page_of_letter = letter, 0
        self._head(letter)
        self.set_xy(LEFT, BODY_TOP_FIRST)
        self._body(blocks_of(letter.html))
        self.letters += 1

    def _head(self, letter: Letter) -> None:
        self.set_xy(LEFT, 15)
        for i, line in enumerate(letter.sender):
            self.set_font("DejaVu", "B" if i == 0 else "", 10 if i == 0 else 8.5)
            self.cell(110, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("DejaVu", "", 10)
        self.set_xy(130, 15)
        self.cell(PAGE_W - RIGHT - 130, 4.5, letter.date, align="R")
        self.set_font("DejaVu", "", 10)
        width = ADDRESS_AREA[2] - ADDRESS_X - 1
        for i, line in enumerate(letter.recipient[:ADDRESS_MAX_LINES]):
            self.set_xy(ADDRESS_X, ADDRESS_Y + i * ADDRESS_LINE)
            self.cell(width, ADDRESS_LINE, _fit(self, line, width))

    def _body(self, blocks: list[Block]) -> None:
        width = PAGE_W - LEFT - RIGHT - 2 * self.c_margin  # a cell pads its text by c_margin on each side
        for i, block in enumerate(blocks):
            if block.kind in ("h1", "h2"):
                size = 14.0 if block.kind == "h1" else 12.0
                lines = self._wrap(block.text, "B", size, width)
                needed = len(lines) * size * 0.5 + 3 + self._kept_after(blocks, i + 1, width)
                if self.get_y() + needed > PAGE_H - BOTTOM:
                    self.add_page()  # never a heading alone at the foot of a page
                elif block.kind == "h2" and self.get_y() > TOP + 1:
                    self.ln(2)
                self._lines(lines, "B", size, size * 0.5, LEFT)
                self.ln(1)
                continue
            indent = 5.0 if block.quoted else 0.0
            bullet = block.kind == "li"
            indent += BULLET_INDENT if bullet else 0.0
            lines = self._wrap(block.text, "", BODY_SIZE, width - indent)
            self._lines(lines, "", BODY_SIZE, BODY_LINE, LEFT + indent, bullet=bullet)
            self.ln(ITEM_GAP if bullet else 2.5)

    def _kept_after(self, blocks: list[Block], start: int, width: float) -> float:
        """Millimetres after a heading that must go on its page: the first lines of a paragraph, or a short list
        whole (a contact list split over two pages leaves one way of reaching us alone on the next)."""
        if start >= len(blocks):
            return 0.0
        if blocks[start].kind != "li":
            return min(len(self._wrap(blocks[start].text, "", BODY_SIZE, width)), KEEP_WITH_HEADING) * BODY_LINE
        lines = items = 0
        for block in blocks[start:]:
            if block.kind != "li":
                break
            lines += len(self._wrap(block.text, "", BODY_SIZE, width - BULLET_INDENT))
            items += 1
        if lines > KEEP_LIST_LINES:
            return KEEP_WITH_HEADING * BODY_LINE
        return lines * BODY_LINE + (items - 1) * ITEM_GAP  # the gap after the last item may fall off the page

    def _lines(self, lines: list[str], style: str, size: float, height: float, x: float, *,
               bullet: bool = False) -> None:
        """Each line whole on a page: a line that would cross the bottom margin starts the next page."""
        self.set_font("DejaVu", style, size)
        for i, line in enumerate(lines):
            if self.get_y() + height > PAGE_H - BOTTOM:
                self.add_page()
                self.set_font("DejaVu", style, size)
            if bullet and i == 0:
                self.set_x(x - BULLET_INDENT + 1.5)
                self.cell(BULLET_INDENT - 1.5, height, "•")
            self.set_x(x)
            self.cell(0, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _wrap(self, text: str, style: str, size: float, width: float) -> list[str]:
        """Greedy word wrap with the font's own widths; cached, as every letter repeats the same paragraphs
        (fpdf2's multi_cell measures each line character by character, 20 times slower on these letters)."""
        key = (text, style, size, width)
        found = self._wrapped.get(key)
        if found is None:
            if len(self._wrapped) > 20_000:
                self._wrapped.clear()
            self.set_font("DejaVu", style, size)
            found = self._wrapped[key] = [line for para in text.split("\n") for line in self._wrap_one(para, width)]
        return found

    def _wrap_one(self, text: str, width: float) -> list[str]:
        space = self.get_string_width(" ")
        lines: list[str] = []
        current, used = "", 0.0
        for word in text.split(" "):
            if not word:
                continue
            w = self.get_string_width(word)
            while w > width:  # a long address or link: break it where it reaches the edge
                cut = len(word)
                while cut > 1 and self.get_string_width(word[:cut]) > width:
                    cut -= 1
                if current:
                    lines.append(current)
                    current, used = "", 0.0
                lines.append(word[:cut])
                word = word[cut:]
                w = self.get_string_width(word)
            if current and used + space + w > width:
                lines.append(current)
                current, used = word, w
            else:
                current, used = (f"{current} {word}", used + space + w) if current else (word, w)
        if current:
            lines.append(current)
        return lines


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """A window line never wraps (a second line would fall outside the window): long names end in '…'."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def write_letters(letters: Iterable[Letter], out: Path | BinaryIO, *, batch: int = BATCH) -> int:
    """Write every letter into one PDF (a path or an open binary file); the number of letters written.

    fpdf2 holds a document in memory until its output, so the letters are made `batch` at a time and each
    batch's pages go straight into the file (notis_cli/letters/merge.py): memory follows one batch.
    """
    from notis_cli.letters.merge import StreamingPDF

    if isinstance(out, Path):
        with out.open("wb") as stream:
            return write_letters(letters, stream, batch=batch)
    merger = StreamingPDF(out)
    written = 0
    pdf: LetterPDF | None = None
    for letter in letters:
        pdf = pdf or LetterPDF()
        pdf.add_letter(letter)
        if pdf.letters >= batch:
            written += pdf.letters
            merger.add(bytes(pdf.output()))
            pdf = None
    if pdf is not None:
        written += pdf.letters
        merger.add(bytes(pdf.output()))
    merger.close()
    return written
