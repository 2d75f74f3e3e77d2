"""`notis followups [INCIDENT]`: what is scheduled, when, for how many, and where it stands.
`notis followups run ID [--campaign C]`: start one by hand (a stale or failed one too) after a confirmation; the
campaign may be left out when only one campaign has that follow-up or update notice.

By default `run` asks the scheduled handler to start it (within five minutes): staff need no right to queue
mail or read the uploaded file themselves, only to update the campaign record. `--here` starts it from this
process instead (operators, and the local stack where schedules never fire).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from notis_cli.commands._common import ask_importer, describe_target, local_warning


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("followups", help="list scheduled follow-ups and update notices; `run ID` starts one")
    p.add_argument("words", nargs="*", metavar="INCIDENT | run ID",
                   help="an incident to list (default: all), or `run` and a follow-up or update id")
    p.add_argument("--campaign", help="with run: the campaign to start it for (needed only when several have it; "
                                      "its id or first 5 or more characters)")
    p.add_argument("--yes", action="store_true", help="with run: do not ask for confirmation")
    p.add_argument("--here", action="store_true", help="with run: start it from this process now")
    p.add_argument("--at", help="list as of this time (ISO 8601 with offset), e.g. to see what a date brings")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] == "run":
        if len(words) != 2:
            print("notis: usage: notis followups run ID [--campaign CAMPAIGN] [--yes] [--here]", file=sys.stderr)
            return 2
        return _run_one(words[1], args)
    if len(words) > 1:
        print("notis: give at most one incident", file=sys.stderr)
        return 2
    return _list(words[0] if words else None, args)


@dataclass
class _View:
    settings: Any
    incidents: dict[str, Any]
    campaigns: list[dict[str, Any]]
    markers: dict[tuple[str, str], dict[str, Any]]
    scheduled: list[Any]
    now: datetime


def _context(at: str | None) -> _View:
    from chalicelib import aws
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.config import load_settings
    from chalicelib.content.loader import load_incidents
    from chalicelib.content.published import content_dir
    from chalicelib.followups.markers import Markers
    from chalicelib.followups.schedule import first_sent_at, parse_time, plan

    now = parse_time(at) if at else datetime.now(UTC)
    if now is None:
        raise SystemExit(f"notis: --at {at!r} is not a date and time with an offset, e.g. 2024-03-01T09:00+01:00")
    settings = load_settings()
    describe_target()
    incidents = {i.slug: i for i in load_incidents(content_dir())}
    campaigns = CampaignStore(aws.client("dynamodb"), settings.table).list()
    markers = Markers(aws.client("dynamodb"), settings.table).load(
        c["campaign"] for c in campaigns if first_sent_at(c))
    return _View(settings, incidents, campaigns, markers, plan(incidents, campaigns, markers, now), now)


def _list(incident: str | None, args: argparse.Namespace) -> int:
    view = _context(args.at)
    incidents, campaigns, markers, scheduled, now = (view.incidents, view.campaigns, view.markers,
                                                     view.scheduled, view.now)
    if incident and incident not in incidents:
        print(f"notis: no incident {incident!r} (known: {', '.join(sorted(incidents)) or 'none'})", file=sys.stderr)
        return 1
    by_id = {c["campaign"]: c for c in campaigns}
    shown = [s for s in scheduled if incident in (None, s.incident)]
    declared = [i for i in incidents.values() if incident in (None, i.slug)]
    if not any(i.followups or any(u.notify for u in i.updates) for i in declared):
        print("No follow-ups or update notices are declared in the incident content.")
        return 0
    if not shown:
        print("Follow-ups are declared, but no campaign has sent its first notice yet.")
        return 0
    progress = _progress(view, shown)
    print(f"as of {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    current = None
    for s in shown:
        if s.campaign != current:
            current = s.campaign
            print(f"\n{s.campaign}  {s.incident} / {s.audience}")
        marker = markers.get((s.campaign, s.marker), {})
        print(f"  {s.marker:<28} {s.kind:<9} {s.template:<10} due {_t(s.due)}  not after {_t(s.not_after)}  "
              f"{s.status:<14} {_how_many(s, marker, by_id[s.campaign], progress.get((s.campaign, s.marker)))}")
        for why in (s.reason, marker.get("reason")):
            if why:
                print(f"      {why}")
    if any(s.status in ("stale", "failed") for s in shown):
        print("\nstale/failed ones are not sent automatically: notis followups run ID [--campaign CAMPAIGN]")
    warning = local_warning()
    if warning:
        print(f"\nnote: {warning}")
    return 0


def _progress(view: _View, shown: list[Any]) -> dict[tuple[str, str], Any]:
    """Ledger progress of each started one (the marker says how many were queued; the ledger says how many
    were sent since)."""
    from chalicelib import aws
    from chalicelib.sending.ledger import Ledger
    from chalicelib.sending.status import scheduled_progress

    ledger = Ledger(aws.client("dynamodb"), view.settings.table)
    found = {}
    for s in shown:
        marker = view.markers.get((s.campaign, s.marker))
        if not marker or marker.get("state") not in ("queued", "starting") or not marker.get("send_id"):
            continue
        send_id = str(marker["send_id"])
        entries = [e for e in ledger.entries(send_id) if e.get("campaign", s.campaign) == s.campaign]
        found[(s.campaign, s.marker)] = scheduled_progress(marker, entries, ledger.seen(s.campaign, send_id),
                                                           now=view.now.timestamp())
    return found


def _run_one(ident: str, args: argparse.Namespace) -> int:
    view = _context(args.at)
    settings, campaigns, markers, scheduled = view.settings, view.campaigns, view.markers, view.scheduled
    wanted = [ident] if ident.startswith(("f-", "u-")) else [f"f-{ident}", f"u-{ident}"]
    if args.campaign and not any(c["campaign"] == args.campaign for c in campaigns):
        print(f"notis: no campaign {args.campaign!r} (see notis status)", file=sys.stderr)
        return 1
    if not args.campaign:
        having = sorted({s.campaign for s in scheduled if s.marker in wanted})
        if len(having) != 1:
            print(f"notis: {len(having) or 'no'} campaign(s) have {ident!r}"
                  + (f": {', '.join(having)}; choose one with --campaign CAMPAIGN" if having else
                     " (see notis followups)"), file=sys.stderr)
            return 1
        args.campaign = having[0]
    mine = [s for s in scheduled if s.campaign == args.campaign]
    item = next((s for s in mine if s.marker in wanted), None)
    if item is None:
        known = ", ".join(s.marker for s in mine) or "none"
        print(f"notis: campaign {args.campaign!r} has no follow-up or update notice {ident!r} (it has: {known})",
              file=sys.stderr)
        return 1
    if item.status in ("queued", "starting"):
        print(f"notis: {item.marker} for {item.campaign} is {item.status} already; nothing to do", file=sys.stderr)
        return 1
    campaign = next(c for c in campaigns if c["campaign"] == item.campaign)
    print(f"{item.marker} ({item.kind}, template {item.template}) for {item.campaign} "
          f"({item.incident} / {item.audience}): {item.status}, due {_t(item.due)}; "
          f"{_how_many(item, markers.get((item.campaign, item.marker), {}), campaign)}")
    if item.status == "stale":
        print("It is overdue past its guard: make sure the e-mail still says the right thing.")
    if not args.yes and input("Send it now? Type yes: ").strip().lower() != "yes":
        print("notis: not started", file=sys.stderr)
        return 1
    from chalicelib import aws

    ask_importer(settings, {"notis": "followup-run", "campaign": item.campaign, "marker": item.marker})  # audit
    if args.here:
        from chalicelib.followups.starter import Starter

        result = Starter(aws.client("s3"), aws.client("sqs"), aws.client("dynamodb"), settings).start(
            item, campaign, by_hand=True)
        if not result.started:
            print("notis: another start holds it; check notis followups", file=sys.stderr)
            return 1
        if result.state == "failed":
            print(f"notis: not sent: {result.reason}", file=sys.stderr)
            return 1
        print(f"queued: {result.recipients} recipient(s); left out {result.skipped_suppressed} bounced/complained, "
              f"{result.skipped_delivered} already delivered")
        return 0
    from chalicelib.campaigns.store import campaign_key

    aws.client("dynamodb").update_item(
        TableName=settings.table, Key=campaign_key(item.campaign), UpdateExpression="ADD run_requests :m",
        ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":m": {"SS": [item.marker]}})
    print(f"requested: the scheduled handler starts {item.marker} within five minutes; "
          f"follow it with: notis followups {item.incident}")
    return 0


def _t(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _how_many(s: Any, marker: dict, campaign: dict, progress: Any = None) -> str:
    """How many, and where it stands: from the ledger once started (the marker only knows what was queued)."""
    left_out = int(marker.get("skipped_suppressed", 0)) + int(marker.get("skipped_delivered", 0))
    if progress is not None:
        return progress.summary() + (f", {left_out} left out" if left_out else "")
    if s.status == "queued":
        return f"{marker.get('recipients', 0)} queued" + (f", {left_out} left out" if left_out else "")
    deliverable = int((campaign.get("counts") or {}).get("deliverable", 0) or 0)
    return f"up to {deliverable} recipient(s)"
