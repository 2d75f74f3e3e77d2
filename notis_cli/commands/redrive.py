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


def redrive(sqs: Any, dlq_url: str, queue_url: str, campaign: str, *, hold_seconds: int = 60) -> tuple[int, int]:
    """Move the campaign's messages; return (moved, left in the DLQ). Others are made visible again at once."""
    moved = 0
    skipped: list[str] = []  # receipt handles of messages left alone
    while True:
        out = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=hold_seconds, WaitTimeSeconds=0
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
    for handle in skipped:
        sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved, len(skipped)


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
    moved, left = redrive(sqs, queue_url(sqs, settings.send_dlq), queue_url(sqs, settings.send_queue), args.campaign)
    print(f"moved {moved} message(s) of {args.campaign} back to {settings.send_queue}")
    if left:
        print(f"{left} message(s) of other campaigns or unreadable left in {settings.send_dlq}", file=sys.stderr)
    return 0
