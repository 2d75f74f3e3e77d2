"""`notis audit [CAMPAIGN] [--json]`: who changed what is sent, and when (the audit trail, no personal data).

Lists the append-only records (chalicelib/audit.py) of one campaign, or of every campaign oldest first: uploads
(by the S3 event's principal), approve, retry, resume, redrive, follow-up runs and letters posted (by the caller's
SQS sender id), and what
the scheduled handler did (follow-ups and update notices started, messages redriven, purges: by its name).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="who uploaded, approved, retried, resumed, redrove, started follow-ups, "
                                     "posted letters or purged, and when (one campaign or all)")
    p.add_argument("campaign", nargs="?",
                   help="campaign id, or its first 5 or more characters (default: every campaign)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import audit as trail
    from chalicelib import aws
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.config import load_settings
    from notis_cli.commands._common import describe_target

    settings = load_settings()
    describe_target()
    ddb = aws.client("dynamodb")
    if args.campaign:
        campaigns = [args.campaign]
        if CampaignStore(ddb, settings.table).get(args.campaign) is None and not trail.records(
                ddb, settings.table, args.campaign):
            print(f"notis: no campaign {args.campaign!r} (see notis status)", file=sys.stderr)
            return 1
    else:
        campaigns = [str(c["campaign"]) for c in CampaignStore(ddb, settings.table).list()]
    rows = sorted((row for c in campaigns for row in trail.records(ddb, settings.table, c)), key=lambda r: r["sk"])
    if args.json:
        print(json.dumps([{k: r[k] for k in ("at", "action", "campaign", "by", "details")} for r in rows],
                         ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("No staff actions recorded" + (f" for {args.campaign}." if args.campaign else "."))
        return 0
    for row in rows:
        line = trail.describe(row)
        print(line if args.campaign else f"{row['campaign']}  {line}")
    return 0
