"""`notis letters CAMPAIGN [-o FILE]`: CSV of everyone who needs a letter, with name and postal address.

The ledger knows people only by pseudonym, so names and addresses are re-read from the uploaded file (still in
the bucket until the retention period ends). Every cell is safe against spreadsheet formula injection.
This is the one staff output that contains personal data: write it to a file (-o) on an encrypted disk.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from chalicelib.campaigns.cells import safe_cell
from notis_cli.commands._sendview import Context

HEADER = ["line", "name", "postal_address", "email", "reason"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("letters", help="CSV of everyone who needs a letter (no address, bounced, refused)")
    p.add_argument("campaign", help="campaign id")
    p.add_argument("-o", "--output", type=Path, help="write the CSV here (default: standard output)")
    p.set_defaults(run=run)


def write_csv(rows: Iterable[Any], out: TextIO) -> int:
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")  # Swedish Excel opens ';' directly
    writer.writerow(HEADER)
    n = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in (row.line, row.name, row.postal_address, row.email, row.reason)])
        n += 1
    return n


def letter_list(ctx: Context, campaign_id: str, item: dict[str, Any]) -> Iterable[Any]:
    from chalicelib import aws
    from chalicelib.campaigns.objects import open_upload
    from chalicelib.recipients import InvalidEmail, iter_rows, normalise_email, recipient_key
    from chalicelib.sending.status import letter_rows, needs_letter

    letter_keys = {e["key"]: reason for e in ctx.entries(item) if (reason := needs_letter(e))}
    body = open_upload(aws.client("s3"), item["bucket"], item["key"], version=item.get("version", ""),
                       etag=item.get("etag", ""))
    hmac_key = ctx.settings.hmac_key

    def key_of(raw: str) -> str | None:
        try:
            return recipient_key(normalise_email(raw), hmac_key)
        except InvalidEmail:
            return None

    return letter_rows(iter_rows(body, max_bytes=ctx.settings.max_upload_bytes), letter_keys, key_of)


def run(args: argparse.Namespace) -> int:
    ctx = Context()
    item = ctx.campaign(args.campaign)
    if item is None:
        return 1
    if not item.get("bucket") or not item.get("key"):
        print("notis: the campaign does not name its uploaded file", file=sys.stderr)
        return 1
    rows = letter_list(ctx, args.campaign, item)
    if args.output:
        with args.output.open("w", encoding="utf-8-sig", newline="") as out:
            n = write_csv(rows, out)
        print(f"{n} letter(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write("\ufeff")  # Swedish Excel reads å ä ö right only with the BOM, also from `> brev.csv`
        n = write_csv(rows, sys.stdout)
        print(f"{n} letter(s)", file=sys.stderr)
    return 0
