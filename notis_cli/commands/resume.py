"""`notis resume CAMPAIGN`: send a campaign that was stopped (SES refused for a reason not about any recipient).

Fix what stopped it first (the reason is shown). Everyone not yet mailed is queued again, the first notice and
every follow-up or update notice already started; the ledger mails nobody twice.
"""

from __future__ import annotations

import argparse
import sys

from notis_cli.commands._common import CampaignRequest, campaign_arguments, confirmed, now_iso, whoami


def register(sub: argparse._SubParsersAction) -> None:
    campaign_arguments(sub, "resume", "send a stopped campaign again, after fixing what stopped it", run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.campaigns.store import QUEUED, STOPPED

    request = CampaignRequest.load(args.campaign)
    if request is None:
        return 1
    campaign = request.record
    state = campaign.get("state")
    interrupted = state == QUEUED and bool(campaign.get("resume_pending"))  # an earlier resume did not finish
    if state != STOPPED and not interrupted:
        print(f"notis: campaign {args.campaign} is {state}, not stopped; nothing to resume", file=sys.stderr)
        return 1
    reason = campaign.get("stop_reason") or campaign.get("last_stop_reason") or "no reason recorded"
    print(f"{args.campaign}: {campaign.get('incident')} / {campaign.get('audience')}: stopped: {reason}")
    print("Everyone not yet mailed will be queued again (nobody already mailed gets it twice).")
    if not confirmed(args, "Resume sending now?", "not resumed"):
        return 1
    request.store.record_staff_action(args.campaign, "resume", whoami(), now_iso())  # who asked, for the evidence
    request.send("resume")
    print(f"resume requested: {args.campaign} will be queued again; follow it with: notis status {args.campaign}")
    return 0
