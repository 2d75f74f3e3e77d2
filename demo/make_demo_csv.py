"""Write demo/kunder.csv: fake Swedish customers as a Swedish Excel export (cp1252, `;`, CRLF).

Reproducible (fixed seed), so the file in git is what this script writes. Everything is made up: names from
common Swedish names, personnummer with a valid Luhn check digit, addresses at example.se/.com/.org (reserved
domains that never receive mail), phone numbers from the range PTS keeps for fiction (070-1740605 to 699).

What a new user sees when uploading it: a couple of duplicate rows merged, a family sharing one address
(one e-mail greeting them all), one row with an invalid address (rejected, reported by line) and one without an
address (on the letter list).

    python demo/make_demo_csv.py            # writes demo/kunder.csv
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from chalicelib.recipients.personnummer import luhn_check_digit

OUT = Path(__file__).resolve().parent / "kunder.csv"
HEADER = ["Kundnr", "Förnamn", "Efternamn", "Personnummer", "E-post", "Telefon", "Adress", "Postnummer", "Ort",
          "Språk"]
FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sofia", "Anders", "Elin", "Per", "Åsa", "Mikael",
         "Linnéa", "Björn", "Ida", "Göran", "Maja", "Oskar", "Ebba", "Nils", "Märta", "Axel", "Tove", "Jörgen"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
        "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Ström",
        "Åberg", "Öberg", "Lindqvist", "Sjöberg", "Wallin", "Engström"]
DOMAINS = ["example.se", "example.com", "example.org"]
STREETS = ["Storgatan", "Kyrkogatan", "Drottninggatan", "Skolgatan", "Ängsvägen", "Björkvägen", "Södra vägen"]
CITIES = [("111 22", "Stockholm"), ("411 03", "Göteborg"), ("211 45", "Malmö"), ("753 20", "Uppsala"),
          ("903 26", "Umeå"), ("582 24", "Linköping"), ("972 31", "Luleå")]


def personnummer(rng: random.Random) -> str:
    year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
    nine = f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    return f"{year}{month:02d}{day:02d}-{nine[6:]}{luhn_check_digit(nine)}"


def _ascii(name: str) -> str:
    return name.lower().translate(str.maketrans("åäöé", "aaoe"))


def rows(seed: int = 2024) -> list[list[str]]:
    rng = random.Random(seed)
    phones = iter(rng.sample(range(605, 700), 40))
    out: list[list[str]] = []

    def person(first: str, last: str, email: str, lang: str = "sv", home: list[str] | None = None) -> list[str]:
        postcode, city = rng.choice(CITIES)
        home = home or [f"{rng.choice(STREETS)} {rng.randint(1, 60)}", postcode, city]
        return [str(1000 + len(out)), first, last, personnummer(rng), email, f"070-1740{next(phones)}", *home, lang]

    people = list(zip(FIRST, rng.sample(LAST, len(LAST)), strict=True))
    for i, (first, last) in enumerate(people):
        lang = "en" if i in (5, 17) else "sv"
        out.append(person(first, last, f"{_ascii(first)}.{_ascii(last)}@{DOMAINS[i % 3]}", lang))
    # Duplicates: the same row exported twice, and the same address again in other letter case.
    out.append(list(out[3]))
    twin = list(out[10])
    twin[0], twin[4] = str(1000 + len(out)), twin[4].upper().replace("EXAMPLE", "Example")
    out.append(twin)
    # A family sharing one e-mail and postal address: one e-mail that greets them all.
    for first in ("Lena", "Stefan", "Wilma"):
        out.append(person(first, "Holm", "familjen.holm@example.org", home=["Ängsvägen 4", "753 20", "Uppsala"]))
    out.append(person("Henrik", "Dahl", "henrik.dahl(at)example.se"))  # invalid: rejected with its line number
    out.append(person("Gunnel", "Berg", ""))  # no address: goes on the letter list
    return out


def render(table: list[list[str]]) -> bytes:
    lines = [";".join(HEADER)] + [";".join(row) for row in table]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def main() -> int:
    OUT.write_bytes(render(rows()))
    print(f"wrote {OUT} ({len(rows())} rows)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
