"""`notis resume CAMPAIGN`: send a campaign that was stopped (SES refused for a reason not about any recipient).

Fix what stopped it first (the reason is shown). Everyone not yet mailed is queued again, the first notice and
every follow-up or update notice already started; the ledger mails nobody twice.
"""

from __future__ import annotations

import argparse
import json
import sys

from notis_cli.commands._common import describe_target, now_iso, queue_url, whoami


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resume", help="send a stopped campaign again, after fixing what stopped it")
    p.add_argument("campaign", help="the campaign id (see notis status)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.campaigns.store import QUEUED, STOPPED, CampaignStore
    from chalicelib.config import load_settings

    settings = load_settings()
    describe_target()
    store = CampaignStore(aws.client("dynamodb"), settings.table)
    campaign = store.get(args.campaign)
    if campaign is None:
        print(f"notis: no campaign {args.campaign!r}", file=sys.stderr)
        return 1
    state = campaign.get("state")
    interrupted = state == QUEUED and bool(campaign.get("resume_pending"))  # an earlier resume did not finish
    if state != STOPPED and not interrupted:
        print(f"notis: campaign {args.campaign} is {state}, not stopped; nothing to resume", file=sys.stderr)
        return 1
    reason = campaign.get("stop_reason") or campaign.get("last_stop_reason") or "no reason recorded"
    print(f"{args.campaign}: {campaign.get('incident')} / {campaign.get('audience')}: stopped: {reason}")
    print("Everyone not yet mailed will be queued again (nobody already mailed gets it twice).")
    if not args.yes and input("Resume sending now? Type yes: ").strip().lower() != "yes":
        print("notis: not resumed", file=sys.stderr)
        return 1
    store.record_staff_action(args.campaign, "resume", whoami(), now_iso())  # who asked, for the evidence
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url(sqs, settings.import_queue),
                     MessageBody=json.dumps({"notis": "resume", "campaign": args.campaign}))
    print(f"resume requested: {args.campaign} will be queued again; follow it with: notis status {args.campaign}")
    return 0
