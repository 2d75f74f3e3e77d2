"""The safe Markdown subset for incident texts: paragraphs, emphasis, lists and http(s)/mailto/tel links.

Raw HTML, images, headings and code are switched off: staff write prose, never markup that executes or
breaks the page's heading order. Output is HTML for the page and the e-mail, or plain text for the e-mail.
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_LINK = re.compile(r"^(https://|http://|mailto:|tel:)", re.IGNORECASE)
_DISABLED = ["image", "heading", "lheading", "code", "fence", "html_block", "html_inline", "table", "hr", "reference"]


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(_DISABLED, ignoreInvalid=True)
    md.validateLink = lambda url: bool(SAFE_LINK.match(url.strip()))
    return md


def to_html(source: str) -> Markup:
    """Markdown to HTML; anything outside the subset comes out as escaped text."""
    return Markup(_parser().render(source).strip())  # noqa: S704 (markdown-it escapes text; raw HTML is off)


def to_plain(source: str) -> str:
    """Markdown to readable plain text: links written out as `text (address)`, list items with a dash."""
    tokens = _parser().parse(source)
    out: list[str] = []
    for token in tokens:
        if token.type == "paragraph_close" and not token.hidden:
            out.append("\n\n")
        elif token.type == "list_item_open":
            out.append("- ")
        elif token.type in ("list_item_close",):
            if out and not out[-1].endswith("\n"):
                out.append("\n")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            out.append("\n")
        elif token.type == "inline":
            out.append(_inline_plain(token.children or []))
    text = "".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _inline_plain(children: list) -> str:
    parts: list[str] = []
    href = ""
    label_start = 0
    for child in children:
        if child.type == "text" or child.type == "code_inline":
            parts.append(child.content)
        elif child.type in ("softbreak",):
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            label_start = len(parts)
        elif child.type == "link_close":
            label = "".join(parts[label_start:])
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if shown and shown.rstrip("/") not in label and label not in shown:
                parts.append(f" ({shown})")
            href = ""
    return "".join(parts)
