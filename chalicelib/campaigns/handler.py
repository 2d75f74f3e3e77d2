"""The import queue handler: each record names an upload (S3 notification) or a staff approval."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from chalicelib.config import Settings

log = logging.getLogger("notis.import")


def handle_import(event: dict, settings: Settings, importer: Any = None) -> dict:
    """Import every upload the batch names; failed records come back through the queue (then its DLQ)."""
    from chalicelib import aws
    from chalicelib.campaigns.importer import Importer
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.campaigns.uploads import parse_message
    from chalicelib.content.published import published_incidents

    importer = importer or Importer(
        s3=aws.client("s3"), sqs=aws.client("sqs"), store=CampaignStore(aws.client("dynamodb"), settings.table),
        settings=settings, incidents=published_incidents(),  # shared with the page: parsed once per process
    )
    failures = []
    for record in event.get("Records") or []:
        try:
            attributes = record.get("attributes") or {}
            for item in parse_message(record.get("body", "")):
                importer.handle(item, sender=str(attributes.get("SenderId") or ""),  # who sent it: set by SQS
                                message_id=str(record.get("messageId") or ""), sent_at=_sent_at(attributes))
        except Exception as exc:  # any failure: the record is retried, then lands in the DLQ
            # The type only: an exception's text could quote a cell of the file.
            log.error("import failed; the message will be retried",
                      extra={"sqs_message_id": record.get("messageId"), "error": type(exc).__name__})
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


def _sent_at(attributes: dict) -> datetime | None:
    """The message's SentTimestamp (epoch milliseconds, set by SQS), else None."""
    try:
        return datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
