"""`notis approve CAMPAIGN`: send a campaign that was held because too many rows were rejected."""

from __future__ import annotations

import argparse
import sys

from notis_cli.commands._common import CampaignRequest, campaign_arguments, confirmed, now_iso, whoami


def register(sub: argparse._SubParsersAction) -> None:
    campaign_arguments(sub, "approve", "send a held campaign after checking its report", run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.campaigns.store import APPROVED, HELD

    request = CampaignRequest.load(args.campaign)
    if request is None:
        return 1
    campaign, store = request.record, request.store
    state = campaign.get("state")
    if state not in (HELD, APPROVED):  # approved: an earlier approve stopped before its message; send it again
        print(f"notis: {not_held(campaign, store)}; nothing to approve", file=sys.stderr)
        return 1
    counts = campaign.get("counts", {})
    print(f"{args.campaign}: {campaign.get('incident')} / {campaign.get('audience')}: "
          f"{counts.get('deliverable', 0)} e-mails, {counts.get('rejected', 0)} rejected rows, "
          f"{counts.get('letters', 0)} letters")
    if not confirmed(args, "Send it now?", "not approved"):
        return 1
    by, at = whoami(), now_iso()
    values = {"approved_by": by, "approved_at": at} | ({"state": APPROVED} if state == HELD else {})
    if not store.record_staff_action(args.campaign, "approve", by, at, values=values, expect_state=state):
        print("notis: the campaign changed meanwhile; check notis status", file=sys.stderr)
        return 1
    request.send("approve")
    print(f"approved: {args.campaign} will be queued for sending; follow it with: notis status {args.campaign}")
    return 0


def not_held(campaign: dict, store) -> str:
    """Why there is nothing to approve, in the words staff look for: already approved, sending or done."""
    from chalicelib.sending.ledger import Ledger
    from chalicelib.sending.status import send_status

    cid, state = str(campaign.get("campaign", "")), str(campaign.get("state", ""))
    approved = " (approved by {} at {})".format(campaign["approved_by"], campaign.get("approved_at", "?")) if (
        campaign.get("approved_by")) else ""
    first = "already approved" + approved if approved else "not held: it was queued when imported"
    if state == "queued":
        ledger, send_id = Ledger(store.client, store.table), str(campaign.get("send_id") or "")
        entries = [e for e in ledger.entries(send_id) if e.get("campaign", cid) == cid] if send_id else []
        s = send_status(campaign, entries, now=0.0, configured_rate=0.0, earlier=ledger.seen(cid, send_id or cid))
        if s.done:
            return f"campaign {cid} is {first} and done: all {s.recipients} recipient(s) settled"
        return f"campaign {cid} is {first} and {s.progress}: {s.settled} of {s.recipients} settled"
    if state == "stopped":
        return (f"campaign {cid} is {first}, and sending stopped: {campaign.get('stop_reason', '?')}; "
                f"fix the cause, then: notis resume {cid}")
    if state == "failed":
        return f"campaign {cid}: its import failed; fix the cause, then: notis retry {cid}"
    return f"campaign {cid} is {state or 'in an unknown state'}, not held"
