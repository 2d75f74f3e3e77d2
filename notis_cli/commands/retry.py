"""`notis retry CAMPAIGN`: import a failed campaign's file again, e.g. once its incident has been deployed.

Uploading the same file again does the same. The import starts from scratch; the ledger still mails nobody twice.
"""

from __future__ import annotations

import argparse
import json
import sys

from notis_cli.commands._common import describe_target, now_iso, queue_url, whoami


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retry", help="import a failed campaign's file again (after fixing what made it fail)")
    p.add_argument("campaign", help="the campaign id (see notis status)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.campaigns.store import FAILED, CampaignStore
    from chalicelib.config import load_settings

    settings = load_settings()
    describe_target()
    store = CampaignStore(aws.client("dynamodb"), settings.table)
    campaign = store.get(args.campaign)
    if campaign is None:
        print(f"notis: no campaign {args.campaign!r}", file=sys.stderr)
        return 1
    state = campaign.get("state")
    if state != FAILED:
        print(f"notis: campaign {args.campaign} is {state}, not failed; nothing to retry", file=sys.stderr)
        return 1
    print(f"{args.campaign}: {campaign.get('incident') or '?'} / {campaign.get('audience') or '?'}: the import "
          f"failed: {campaign.get('error', 'no reason recorded')}")
    if not args.yes and input("Import the file again now? Type yes: ").strip().lower() != "yes":
        print("notis: not retried", file=sys.stderr)
        return 1
    store.record_staff_action(args.campaign, "retry", whoami(), now_iso())  # who asked, for the evidence
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url(sqs, settings.import_queue),
                     MessageBody=json.dumps({"notis": "retry", "campaign": args.campaign}))
    print(f"retry requested: {args.campaign} will be imported again; follow it with: notis status {args.campaign}")
    return 0
