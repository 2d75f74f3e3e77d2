"""The letter body's HTML (chalicelib.mail.letter) as a list of blocks the PDF writer lays out.

The HTML comes from the project's own templates, so only their tags appear: h1, h2, p, ul/li, blockquote, a,
br, div/span (a section left in the other language). Text is unescaped; a link shows its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from chalicelib.mail.render import DIGITS_APART


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "h1", "h2", "p", "li"
    text: str
    quoted: bool = False  # inside a blockquote (an update notice's text)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.kind: str | None = None
        self.parts: list[str] = []
        self.quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3", "p", "li"):
            self._flush()
            self.kind = {"h3": "h2"}.get(tag, tag)
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "blockquote":
            self._flush()
            self.quote += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "p", "li"):
            self._flush()
        elif tag == "blockquote":
            self._flush()
            self.quote = max(0, self.quote - 1)

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", " "))  # a line break in the source is a space; <br> breaks

    def _flush(self) -> None:
        text = "".join(self.parts)
        lines = [DIGITS_APART.sub("\u00a0", " ".join(line.split())) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append(Block(self.kind or "p", text, self.quote > 0))
        self.kind, self.parts = None, []


def blocks_of(html: str) -> list[Block]:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.blocks
