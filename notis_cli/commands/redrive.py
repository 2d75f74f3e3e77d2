"""`notis redrive CAMPAIGN`: move one campaign's messages from the send DLQ back to the send queue.

Messages of other campaigns (and unreadable ones) stay in the DLQ untouched. Each message is copied before it
is deleted, so an interruption can at worst leave a copy in both queues; the ledger makes the second one a
no-op. Sending again is safe: recipients already settled are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from notis_cli.commands._common import describe_target, queue_url

WAIT_SECONDS = 2  # long polling asks every SQS server: an empty answer then means the DLQ is really empty
MAX_ROUNDS = 10_000  # bounded: at most 100,000 messages looked at in one run


def redrive(
    sqs: Any,
    dlq_url: str,
    queue_url: str,
    campaign: str,
    *,
    hold_seconds: int = 60,
    wait_seconds: int = WAIT_SECONDS,
    max_rounds: int = MAX_ROUNDS,
) -> tuple[int, int]:
    """Move the campaign's messages; return (moved, others seen). Others are made visible again at the end.

    Short polling (WaitTimeSeconds=0) samples only some SQS servers and may answer empty while messages wait,
    which ended a redrive early; a long poll does not. Messages left alone stay invisible for `hold_seconds`,
    so no message is looked at twice in one run.
    """
    moved = 0
    skipped: list[str] = []  # receipt handles of messages left alone
    try:
        for _ in range(max_rounds):
            out = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=hold_seconds, WaitTimeSeconds=wait_seconds
            )
            messages = out.get("Messages", [])
            if not messages:
                break
            for message in messages:
                if _campaign_of(message.get("Body", "")) != campaign:
                    skipped.append(message["ReceiptHandle"])
                    continue
                sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
    finally:
        for handle in skipped:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved, len(skipped)


def depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or in flight (approximate, as SQS counts)."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))


def _campaign_of(body: str) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    campaign = doc.get("campaign") if isinstance(doc, dict) else None
    return campaign if isinstance(campaign, str) else None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("redrive", help="move a campaign's failed send messages from the DLQ back to the send queue")
    p.add_argument("campaign", help="campaign id (c + 20 hex digits)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.config import load_settings

    settings = load_settings()
    describe_target()
    sqs = aws.client("sqs")
    dlq = queue_url(sqs, settings.send_dlq)
    moved, others = redrive(sqs, dlq, queue_url(sqs, settings.send_queue), args.campaign)
    print(f"moved {moved} message(s) of {args.campaign} back to {settings.send_queue}")
    print(f"{depth(sqs, dlq)} message(s) left in {settings.send_dlq}")
    if others:
        print(f"{others} of them belong to other campaigns or are unreadable: left alone", file=sys.stderr)
    return 0
