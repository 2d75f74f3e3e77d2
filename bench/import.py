"""Benchmark the recipient import: read + validate + deduplicate a Swedish-Excel-style CSV, against csv.reader.

    .venv/bin/python bench/import.py                 # 1,000,000 rows
    .venv/bin/python bench/import.py --rows 100000   # a quick run
    .venv/bin/python bench/import.py --bad           # every row bad: memory must stay flat

Generates the file (Windows-1252, ';', Namn;Personnummer;Adress;Postnummer;Ort;Telefon;E-post;IP-adress, about
5 % duplicate rows and families sharing an address, a few international and broken addresses) in a temporary
directory, then measures each pass in a fresh subprocess: CPU time (the machine is shared, so rows per second
of CPU is the "one core" figure), wall time and peak RSS (ru_maxrss, which includes the interpreter).
Goal: at least 30,000 rows/s on one core and peak RSS under 400 MB.

With --bad every row is a problem row (same columns): a wrong personnummer check digit at one of 100 addresses,
no e-mail address, or a broken address (rejected). The report keeps only the first MAX_ISSUES_KEPT issues of
each kind and counts the rest, so peak RSS must stay near the baseline's, whatever the number of rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chalicelib.recipients.personnummer import luhn_check_digit

ROOT = Path(__file__).resolve().parent.parent
GOAL_ROWS_PER_S = 30_000
GOAL_RSS_MB = 400

FIRST = "Anna Eva Maria Karin Sara Lena Ingrid Åsa Märta Björn Lars Mikael Johan Per Örjan Jöns Émile Zoë".split()
LAST = "Andersson Johansson Karlsson Nilsson Eriksson Larsson Öberg Åström Ekström Lindqvist Hägg Berg".split()
STREETS = "Storgatan Drottninggatan Kungsvägen Skolgatan Ängsvägen Björkvägen Hamngatan Järnvägsgatan".split()
TOWNS = "Stockholm Göteborg Malmö Uppsala Västerås Örebro Linköping Växjö Luleå Jönköping Umeå Gävle".split()
DOMAINS = "gmail.com hotmail.com outlook.com telia.com live.se yahoo.se bredband.net spray.se icloud.com".split()


def personnummer(rng: random.Random) -> str:
    year = rng.randint(1930, 2008)
    nine = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return f"{year // 100}{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


def generate(path: Path, rows: int, seed: int = 3) -> dict[str, int]:
    """Write the file; return how many rows of each kind it holds."""
    rng = random.Random(seed)
    kinds = {"rows": rows, "duplicate": 0, "family": 0, "no_email": 0, "bad_email": 0, "bad_pnr": 0, "idn": 0}
    recent: list[tuple[str, str]] = []
    with path.open("w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Namn", "Personnummer", "Adress", "Postnummer", "Ort", "Telefon", "E-post", "IP-adress"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f"{first} {last}"
            email = f"{first}.{last}{i}@{rng.choice(DOMAINS)}".lower()
            email = email.encode("ascii", "ignore").decode() if rng.random() < 0.99 else email
            pnr = personnummer(rng)
            roll = rng.random()
            if roll < 0.03 and recent:  # the same person exported twice (different case)
                name, email = rng.choice(recent)
                email = email.upper() if rng.random() < 0.5 else email
                kinds["duplicate"] += 1
            elif roll < 0.05 and recent:  # a child at a parent's address
                email = rng.choice(recent)[1]
                name = f"{rng.choice(FIRST)} {name.split()[1]}"
                kinds["family"] += 1
            elif roll < 0.052:
                email = ""
                kinds["no_email"] += 1
            elif roll < 0.053:
                email = email.replace("@", " at ")
                kinds["bad_email"] += 1
            elif roll < 0.055:
                pnr = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)
                kinds["bad_pnr"] += 1
            if "@" in email and not email.isascii():
                kinds["idn"] += 1
            recent.append((name, email))
            if len(recent) > 50:
                recent.pop(0)
            writer.writerow(export_row(rng, name, pnr, email))
    return kinds


def export_row(rng: random.Random, name: str, pnr: str, email: str) -> list[str]:
    """One row as the shop exports it: name, personnummer, street, postcode, town, phone, e-mail, IP address."""
    return [
        name,
        pnr,
        f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        f"{rng.randint(100, 999)} {rng.randint(10, 99)}",
        rng.choice(TOWNS),
        f"07{rng.randint(0, 9)}-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        email,
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    ]


def generate_bad(path: Path, rows: int, seed: int = 3) -> dict[str, int]:
    """Write a file in which no row is clean: bad personnummer (100 shared addresses), no e-mail, broken e-mail."""
    rng = random.Random(seed)
    kinds = {"rows": rows, "bad_pnr": 0, "no_email": 0, "bad_email": 0}
    with path.open("w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Namn", "Personnummer", "Adress", "Postnummer", "Ort", "Telefon", "E-post", "IP-adress"])
        for _ in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            pnr = personnummer(rng)
            roll = rng.random()
            if roll < 0.45:
                pnr = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)
                email = f"familj{rng.randrange(100)}@{rng.choice(DOMAINS)}"
                kinds["bad_pnr"] += 1
            elif roll < 0.9:
                email = ""
                kinds["no_email"] += 1
            else:
                email = f"{first}.{last} at {rng.choice(DOMAINS)}".lower()
                kinds["bad_email"] += 1
            writer.writerow(export_row(rng, f"{first} {last}", pnr, email))
    return kinds


def measure(mode: str, path: Path) -> dict[str, object]:
    """Runs inside the subprocess: one pass over the file, timing only the pass (imports done first)."""
    sys.path.insert(0, str(ROOT))
    if mode == "import":
        from chalicelib.recipients import read_recipients

        start, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as f:
            result = read_recipients(f, max_bytes=1 << 31, hmac_key=b"bench-key")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        extra = {
            "deliverable": result.deliverable,
            "duplicates": result.duplicates_merged,
            "rejected": result.rejected_count,
            "warnings": result.warnings_count,
            "letters": result.letters_count,
            "issues_kept": len(result.rejected) + len(result.warnings) + len(result.letters),
        }
        rows = result.rows
    else:
        start, cpu = time.perf_counter(), time.process_time()
        with path.open(encoding="cp1252", newline="") as f:
            rows = sum(1 for _ in csv.reader(f, delimiter=";")) - 1
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        extra = {}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "rows": rows, "seconds": seconds, "cpu": cpu, "rss_mb": rss_mb, **extra}


def run(mode: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", mode, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", action="store_true", help="every row is a problem row (memory must stay flat)")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], Path(args.measure[1]))))
        return 0

    with tempfile.TemporaryDirectory(prefix="notis-bench-") as tmp:
        path = Path(tmp) / "kunder.csv"
        start = time.perf_counter()
        kinds = (generate_bad if args.bad else generate)(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows, {size_mb:.1f} MB in {time.perf_counter() - start:.1f} s: {kinds}")
        load = os.getloadavg()[0]
        base = run("csv", path)
        ours = run("import", path)
    print(f"load average before the passes: {load:.1f} on {os.cpu_count()} cores (wall time suffers when others run)")
    for label, r in (("csv.reader (baseline)", base), ("import (read+validate+dedupe)", ours)):
        print(
            f"{label:30} {r['rows'] / r['cpu']:>9,.0f} rows/s of CPU ({r['cpu']:5.2f} s)  "
            f"{r['rows'] / r['seconds']:>9,.0f} rows/s wall ({r['seconds']:5.2f} s)  peak RSS {r['rss_mb']:.0f} MB"
        )
    counts = ("rows", "deliverable", "duplicates", "rejected", "warnings", "letters")
    print("  counts: " + ", ".join(f"{k} {ours[k]:,}" for k in counts) + f"; issues kept {ours['issues_kept']:,}")
    print(f"ratio import / csv.reader: {ours['cpu'] / base['cpu']:.1f}x the CPU time, "
          f"{ours['rss_mb'] / base['rss_mb']:.1f}x the peak RSS")
    rate = ours["rows"] / ours["cpu"]
    ok = rate >= GOAL_ROWS_PER_S and ours["rss_mb"] < GOAL_RSS_MB
    print(
        f"goal >= {GOAL_ROWS_PER_S:,} rows/s on one core and < {GOAL_RSS_MB} MB peak RSS: {'met' if ok else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
