"""`notis approve CAMPAIGN`: send a campaign that was held because too many rows were rejected."""

from __future__ import annotations

import argparse
import json
import sys

from notis_cli.commands._common import describe_target, queue_url


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("approve", help="send a held campaign after checking its report")
    p.add_argument("campaign", help="the campaign id (see notis status)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.campaigns.store import APPROVED, HELD, CampaignStore
    from chalicelib.config import load_settings

    settings = load_settings()
    describe_target()
    store = CampaignStore(aws.client("dynamodb"), settings.table)
    campaign = store.get(args.campaign)
    if campaign is None:
        print(f"notis: no campaign {args.campaign!r}", file=sys.stderr)
        return 1
    state = campaign.get("state")
    if state not in (HELD, APPROVED):  # approved: an earlier approve stopped before its message; send it again
        print(f"notis: campaign {args.campaign} is {state}, not held; nothing to approve", file=sys.stderr)
        return 1
    counts = campaign.get("counts", {})
    print(f"{args.campaign}: {campaign.get('incident')} / {campaign.get('audience')}: "
          f"{counts.get('deliverable', 0)} e-mails, {counts.get('rejected', 0)} rejected rows, "
          f"{counts.get('letters', 0)} letters")
    if not args.yes and input("Send it now? Type yes: ").strip().lower() != "yes":
        print("notis: not approved", file=sys.stderr)
        return 1
    if state == HELD and not store.update(args.campaign, {"state": APPROVED}, expect_state=HELD):
        print("notis: the campaign changed meanwhile; check notis status", file=sys.stderr)
        return 1
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url(sqs, settings.import_queue),
                     MessageBody=json.dumps({"notis": "approve", "campaign": args.campaign}))
    print(f"approved: {args.campaign} will be queued for sending; follow it with: notis status {args.campaign}")
    return 0
