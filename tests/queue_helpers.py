"""Reading the moto queues in tests as Lambda's SQS event source would."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalicelib.aws import client


def take_bodies(url: str) -> list[dict[str, Any]]:
    """Every message now on the queue, parsed and deleted."""
    sqs, bodies = client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def deliver(url: str, handler: Callable[[dict], Any]) -> list[tuple[dict, Any]]:
    """Hand the queue's messages to `handler` in SQS events of up to 10 records, then delete them (whatever the
    handler answered: these tests drain, they do not replay); returns each (event, answer)."""
    sqs, results = client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"], "receiptHandle": "x",
                              "attributes": {}, "eventSource": "aws:sqs"} for m in messages]}
        results.append((event, handler(event)))
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return results
