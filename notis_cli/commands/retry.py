"""`notis retry CAMPAIGN`: import a failed campaign's file again, e.g. once its incident has been deployed.

Uploading the same file again does the same. The import starts from scratch; the ledger still mails nobody twice.
"""

from __future__ import annotations

import argparse
import sys

from notis_cli.commands._common import CampaignRequest, campaign_arguments, confirmed, now_iso, whoami


def register(sub: argparse._SubParsersAction) -> None:
    campaign_arguments(sub, "retry", "import a failed campaign's file again (after fixing what made it fail)", run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.campaigns.store import FAILED

    request = CampaignRequest.load(args.campaign)
    if request is None:
        return 1
    campaign = request.record
    state = campaign.get("state")
    if state != FAILED:
        print(f"notis: campaign {args.campaign} is {state}, not failed; nothing to retry", file=sys.stderr)
        return 1
    print(f"{args.campaign}: {campaign.get('incident') or '?'} / {campaign.get('audience') or '?'}: the import "
          f"failed: {campaign.get('error', 'no reason recorded')}")
    if not confirmed(args, "Import the file again now?", "not retried"):
        return 1
    request.store.record_staff_action(args.campaign, "retry", whoami(), now_iso())  # who asked, for the evidence
    request.send("retry")
    print(f"retry requested: {args.campaign} will be imported again; follow it with: notis status {args.campaign}")
    return 0
