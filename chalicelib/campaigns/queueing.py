"""Recipients onto the send queue: several per message, ten messages per SendMessageBatch."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

RECIPIENTS_PER_MESSAGE = 50
ENTRIES_PER_BATCH = 10
MAX_BATCH_BYTES = 200_000  # SQS allows 256 KiB per batch in all; keep a margin
MAX_NAMES = 10  # the greeting names up to six people; a shared mailbox listed for hundreds gets a plain one
MAX_ATTEMPTS = 5


def messages(header: dict[str, Any], recipients: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Send-queue bodies (docs/internals.md), at most RECIPIENTS_PER_MESSAGE recipients each."""
    chunk: list[dict[str, Any]] = []
    for recipient in recipients:
        names = recipient.get("names") or []
        if len(names) > MAX_NAMES:
            recipient = {**recipient, "names": names[:MAX_NAMES], "more_names": len(names) - MAX_NAMES}
        chunk.append(recipient)
        if len(chunk) == RECIPIENTS_PER_MESSAGE:
            yield json.dumps({"v": 1, **header, "recipients": chunk}, ensure_ascii=False)
            chunk = []
    if chunk:
        yield json.dumps({"v": 1, **header, "recipients": chunk}, ensure_ascii=False)


def send_all(sqs: Any, queue_url: str, bodies: Iterable[str], *, sleep=time.sleep) -> int:
    """Queue every body; entries SQS refuses are retried, and what still fails raises (nothing is dropped)."""
    sent = 0
    batch: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if batch and (len(batch) == ENTRIES_PER_BATCH or size + length > MAX_BATCH_BYTES):
            sent += _send_batch(sqs, queue_url, batch, sleep)
            batch, size = [], 0
        batch.append(body)
        size += length
    if batch:
        sent += _send_batch(sqs, queue_url, batch, sleep)
    return sent


def _send_batch(sqs: Any, queue_url: str, bodies: list[str], sleep) -> int:
    pending = {str(i): body for i, body in enumerate(bodies)}
    for attempt in range(MAX_ATTEMPTS):
        entries = [{"Id": i, "MessageBody": body} for i, body in pending.items()]
        result = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        for ok in result.get("Successful", []):
            pending.pop(ok["Id"], None)
        if not pending:
            return len(bodies)
        sleep(min(2.0, 0.1 * 2**attempt))
    raise RuntimeError(f"the send queue refused {len(pending)} message(s) after {MAX_ATTEMPTS} attempts")
