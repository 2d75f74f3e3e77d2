"""Letters per second and peak memory for `notis letters --pdf` on N people (default 10,000).

The people are made up (Swedish names with å ä ö, street, c/o and box addresses, 3 % sharing an address, 10 %
in English); the content is the packaged incident. Baseline in the same run: composing the letters' text only
(Jinja2, no PDF). Each pass runs in a fresh subprocess; peak RSS is that subprocess's ru_maxrss.

    .venv/bin/python bench/letters.py                 # 10,000 people
    .venv/bin/python bench/letters.py --people 500    # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Åsa", "Örjan", "Märta", "Anna", "Erik", "Björn", "Ingrid", "Göran", "Lena", "Sven", "Karin", "Jörgen"]
LAST = ["Öberg", "Åkesson", "Ängström", "Andersson", "Lindqvist", "Nyström", "Håkansson", "Sjöberg", "Ek"]
STREETS = ["Storgatan", "Ågatan", "Kyrkvägen", "Skolgränd", "Östra Långgatan", "Björkvägen"]
TOWNS = ["Stockholm", "Göteborg", "Malmö", "Umeå", "Luleå", "Västerås", "Örebro", "Jönköping"]


def sample_rows(people: int, seed: int = 17) -> list[SimpleNamespace]:
    rnd = random.Random(seed)
    rows = []
    for i in range(people):
        if rows and rnd.random() < 0.03:
            address = rows[-1].postal_address  # someone at the same address as the row before
        else:
            street = f"{rnd.choice(STREETS)} {rnd.randint(1, 120)}"
            if rnd.random() < 0.05:
                street = f"Box {rnd.randint(1, 9999)}"
            town = f"{rnd.randint(100, 989)} {rnd.randint(10, 99)} {rnd.choice(TOWNS)}"
            address = f"c/o {rnd.choice(LAST)}, {street}, {town}" if rnd.random() < 0.05 else f"{street}, {town}"
        rows.append(SimpleNamespace(line=i + 2, name=f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                                    postal_address=address, lang="en" if rnd.random() < 0.1 else "sv"))
    return rows


def _incident():
    from chalicelib.content.loader import load_incidents

    return load_incidents(ROOT / "chalicelib" / "incidents")[0]


def sample_letters(people: int):
    """Letters for `people` made-up people of the packaged incident's first audience (first notice)."""
    from chalicelib.mail.render import MailSpec
    from notis_cli.letters.build import households, letters_for

    incident = _incident()
    spec = MailSpec("notice", incident.audiences[0].name)
    found = households(sample_rows(people))
    return letters_for(incident, spec, found.found, on=date(2026, 12, 4))


def _pass(kind: str, people: int) -> dict:
    """One measured pass, in this process (run as a subprocess by main)."""
    from notis_cli.letters.pdf import write_letters

    started, cpu = time.perf_counter(), time.process_time()
    if kind == "text":
        letters = sum(1 for _ in sample_letters(people))
        size = 0
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "brev.pdf"
            letters = write_letters(sample_letters(people), path)
            size = path.stat().st_size
    return {"letters": letters, "wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "bytes": size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--pass", dest="one", choices=("text", "pdf"), help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, metavar="FILE",
                        help="only write a PDF of --people made-up letters here (for docs/screenshots)")
    args = parser.parse_args()
    if args.sample:
        from notis_cli.letters.pdf import write_letters

        print(f"{write_letters(sample_letters(args.people), args.sample)} letter(s) written to {args.sample}")
        return 0
    if args.one:
        print(json.dumps(_pass(args.one, args.people)))
        return 0
    print(f"{args.people:,} people, load average {os.getloadavg()[0]:.1f}")
    results = {}
    for kind, label in (("text", "compose only (baseline)"), ("pdf", "compose + PDF (fpdf2)")):
        out = subprocess.run([sys.executable, __file__, "--people", str(args.people), "--pass", kind],
                             capture_output=True, text=True, check=True).stdout
        r = results[kind] = json.loads(out.strip().splitlines()[-1])
        extra = f"  {r['bytes'] / 1e6:.1f} MB PDF" if r["bytes"] else ""
        print(f"{label:26} {r['letters']:>6,} letters  {r['letters'] / r['cpu']:8.1f} letters/s of CPU "
              f"({r['cpu']:6.2f} s)  {r['letters'] / r['wall']:8.1f} letters/s wall  peak RSS {r['peak_mb']:.0f} MB"
              + extra)
    ratio = results["pdf"]["cpu"] / results["text"]["cpu"] if results["text"]["cpu"] else float("inf")
    print(f"PDF costs {ratio:.1f}x composing the text alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
