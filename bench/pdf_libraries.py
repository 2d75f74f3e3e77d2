"""Compare WeasyPrint and fpdf2 on the same letters: seconds for N letters, pages, file size (docs/letters.md).

WeasyPrint is not a project dependency (it needs pango from the system); install it in the venv to run this:
    .venv/bin/pip install weasyprint && .venv/bin/python bench/pdf_libraries.py --letters 100 --out /tmp/letters
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

from letters import sample_letters  # noqa: E402

from notis_cli.letters.pdf import ADDRESS_X, ADDRESS_Y, BODY_TOP_FIRST, write_letters  # noqa: E402

CSS = f"""
@page {{ size: A4; margin: 20mm 20mm 22mm 20mm;
        @bottom-right {{ content: string(ref) " · sida " counter(page); font-size: 8pt; color: #5a5a5a; }} }}
body {{ font-family: "DejaVu Sans"; font-size: 10.5pt; line-height: 1.45; }}
.letter {{ break-before: page; position: relative; padding-top: {BODY_TOP_FIRST - 20}mm; }}
.ref {{ string-set: ref content(); display: none; }}
.sender {{ position: absolute; top: -5mm; left: 0; font-size: 8.5pt; }}
.sender b {{ font-size: 10pt; }}
.date {{ position: absolute; top: -5mm; right: 0; }}
.to {{ position: absolute; top: {ADDRESS_Y - 20}mm; left: {ADDRESS_X - 20}mm; width: 83mm; font-size: 10pt;
       line-height: 4.6mm; white-space: nowrap; overflow: hidden; }}
h1 {{ font-size: 14pt; }} h2 {{ font-size: 12pt; break-after: avoid; }}
a {{ color: inherit; text-decoration: none; }}
"""


def weasy(letters: list, path: Path) -> None:
    from html import escape

    from weasyprint import HTML

    parts = []
    for letter in letters:
        sender = "<br>".join(f"<b>{escape(v)}</b>" if i == 0 else escape(v) for i, v in enumerate(letter.sender))
        parts.append(
            f'<section class="letter"><span class="ref">{escape(letter.reference)}</span>'
            f'<div class="sender">{sender}</div><div class="date">{escape(letter.date)}</div>'
            f'<div class="to">{"<br>".join(escape(v) for v in letter.recipient)}</div>{letter.html}</section>'
        )
    head = f'<head><meta charset="utf-8"><style>{CSS}</style></head>'
    html = f'<html lang="sv">{head}<body>{"".join(parts)}</body></html>'
    HTML(string=html).write_pdf(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    letters = list(sample_letters(args.letters))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in (("fpdf2", lambda p: write_letters(letters, p)), ("weasyprint", lambda p: weasy(letters, p))):
        path = args.out / f"{name}.pdf"
        started = time.perf_counter()
        try:
            make(path)
        except ImportError:
            print(f"{name:11} not installed")
            continue
        took = time.perf_counter() - started
        from pypdf import PdfReader

        pages = len(PdfReader(str(path)).pages)
        print(f"{name:11} {args.letters} letters in {took:6.2f} s = {args.letters / took:7.1f} letters/s, "
              f"{pages} pages, {path.stat().st_size / 1024:.0f} KiB  ({path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
