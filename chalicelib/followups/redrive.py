"""Dead letters put back by the tick, never by staff: staff may not write to the send queue (a message there is
mailed as it is), so `notis redrive` only records a request on the campaign record; the tick, which writes to
the send queue anyway, moves that campaign's messages from the send DLQ back, bodies unchanged. SES events that
the events function could not record (the EventBridge target's DLQ, the function's on-failure queue) are fed to
the same handler by the tick: EventBridge refuses `PutEvents` with an `aws.*` source, so they cannot be re-put.

Both are safe to repeat: the ledger makes a second send of a moved message a no-op, and recording an SES event
twice writes the same state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("notis.followups")

WAIT_SECONDS = 2  # long polling asks every SQS server: an empty answer then means the DLQ is really empty
MAX_ROUNDS = 10_000  # bounded: at most 100,000 messages looked at in one run
EVENT_ROUNDS = 50  # at most 500 dead SES events per tick; the rest wait five minutes


def move_campaign(
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
    so no message is looked at twice in one run. Each message is copied before it is deleted: an interruption
    leaves at worst a copy in both queues, which the ledger makes harmless.
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
                if campaign_of(message.get("Body", "")) != campaign:
                    skipped.append(message["ReceiptHandle"])
                    continue
                sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
    finally:
        for handle in skipped:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return moved, len(skipped)


def campaign_of(body: str) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    campaign = doc.get("campaign") if isinstance(doc, dict) else None
    return campaign if isinstance(campaign, str) else None


def ses_event_of(body: str) -> dict[str, Any] | None:
    """The SES event in a dead letter: EventBridge's target DLQ holds the event itself, Lambda's on-failure
    destination an invocation record with the event as `requestPayload`."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("requestPayload"), dict):
        doc = doc["requestPayload"]
    return doc if isinstance(doc, dict) and doc.get("source") == "aws.ses" else None


def replay_ses_events(
    sqs: Any, url: str, handle: Callable[[dict[str, Any]], None], *, max_rounds: int = EVENT_ROUNDS
) -> tuple[int, int]:
    """Hand each dead SES event to `handle`; delete it once handled. Return (replayed, still failing).

    One that fails again stays (visible after the queue's visibility timeout) and keeps the alarm on; one that
    is not an SES event is left for a person to read.
    """
    replayed = failing = 0
    for _ in range(max_rounds):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            event = ses_event_of(message.get("Body", ""))
            try:
                if event is None:
                    raise ValueError("not an SES event")
                handle(event)
            except Exception as exc:  # counted and logged by type: the event names a recipient key, not a person
                failing += 1
                log.warning("dead SES event not recorded; left in its queue", extra={"error": type(exc).__name__})
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            replayed += 1
    return replayed, failing
