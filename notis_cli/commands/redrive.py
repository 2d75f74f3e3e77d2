"""`notis redrive CAMPAIGN`: ask for one campaign's failed send messages to go back to the send queue.

Staff may not write to the send queue (whatever is there is mailed as it is), so this command only records the
request on the campaign record (`redrive_requested`, an update staff may make on campaign records) and puts it on
the import queue for the audit trail (the importer records who asked, by the message's SQS SenderId); the tick,
within five minutes, moves that campaign's messages from the send DLQ back, bodies unchanged, and drops the
request (chalicelib/followups/redrive.py). SQS's `StartMessageMoveTask` would not help: it needs
`sqs:SendMessage` on the destination from the caller, and cannot pick one campaign's messages.
Messages of other campaigns (and unreadable ones) stay in the DLQ untouched. Sending again is safe: recipients
already settled are skipped.

`notis redrive` without a campaign lists every dead-letter queue and its depth, the SES-events ones included
(the tick feeds those to the events handler again on every run; they only need a person when they stay).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from chalicelib.followups.redrive import MAX_ROUNDS, WAIT_SECONDS, move_campaign
from notis_cli.commands._common import ask_importer, describe_target, queue_url

__all__ = ["MAX_ROUNDS", "WAIT_SECONDS", "depth", "redrive", "register", "request", "run"]


def redrive(sqs: Any, dlq_url: str, queue_url: str, campaign: str, **kwargs: Any) -> tuple[int, int]:
    """What the tick does for a request (kept here for the tests and the local stack, which act as the tick)."""
    return move_campaign(sqs, dlq_url, queue_url, campaign, **kwargs)


def request(dynamodb: Any, table: str, campaign: str, *, now: float | None = None) -> bool:
    """Record the request; False when there is no such campaign."""
    from chalicelib.campaigns.store import campaign_key

    try:
        dynamodb.update_item(
            TableName=table, Key=campaign_key(campaign), UpdateExpression="SET redrive_requested = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": {"N": str(int(now if now is not None else time.time()))}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or in flight (approximate, as SQS counts)."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))


def dead_letter_queues(settings: Any) -> list[tuple[str, str]]:
    """(queue name, what its messages are and who puts them back)."""
    return [
        (settings.send_dlq, "send messages: `notis redrive CAMPAIGN`, the tick moves them back"),
        (settings.import_dlq, "upload notifications: fix the file or the cause, then upload again"),
        (settings.events_dlq, "SES events EventBridge could not deliver: the tick records them again"),
        (settings.events_failed_queue, "SES events the events function failed on: the tick records them again"),
    ]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("redrive", help="ask for a campaign's failed send messages to go back to the send queue; "
                                       "without a campaign, list the dead-letter queues")
    p.add_argument("campaign", nargs="?", help="campaign id (c + 20 hex digits, or its first 5 or more)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.config import load_settings

    settings = load_settings()
    describe_target()
    sqs = aws.client("sqs")
    if args.campaign:
        from chalicelib.campaigns.store import CampaignStore
        from chalicelib.campaigns.uploads import CAMPAIGN_ID

        if not CAMPAIGN_ID.match(args.campaign) or CampaignStore(aws.client("dynamodb"), settings.table).get(
                args.campaign) is None:
            print(f"no campaign {args.campaign}", file=sys.stderr)
            return 1
        ask_importer(settings, {"notis": "redrive", "campaign": args.campaign})  # for the audit trail
        if not request(aws.client("dynamodb"), settings.table, args.campaign):
            print(f"no campaign {args.campaign}", file=sys.stderr)
            return 1
        print(f"asked: the next tick (within 5 minutes) moves {args.campaign}'s messages from {settings.send_dlq} "
              f"back to {settings.send_queue}")
    for name, what in dead_letter_queues(settings):
        try:
            count: int | str = depth(sqs, queue_url(sqs, name))
        except Exception as exc:  # one queue out of reach must not hide the others
            count = f"unknown ({type(exc).__name__})"
        print(f"{name}: {count} message(s) — {what}")
    return 0
