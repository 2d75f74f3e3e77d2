"""Recipients onto the send queue: several per message, ten messages per SendMessageBatch, within SQS's byte limits.

SQS measures a body in UTF-8 bytes and refuses a message over the queue's MaximumMessageSize, and a
SendMessageBatch whose bodies add up to more than its payload limit. Both limits are 256 KiB in the API reference
(AWS raised the queue default to 1 MiB in 2025; .chalice/resources.json sets no MaximumMessageSize, so the
deployed queue has at least 256 KiB). Chunks are cut by count and by encoded bytes, so no input can make a body
SQS refuses (which used to leave an import stuck in `importing`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

RECIPIENTS_PER_MESSAGE = 50
ENTRIES_PER_BATCH = 10
QUEUE_MAX_MESSAGE_BYTES = 262_144  # the send queue's MaximumMessageSize (the lowest default; see the docstring)
MAX_BATCH_BYTES = 262_144  # SendMessageBatch: the bodies of one call together
MAX_NAMES = 10  # the greeting names up to six people; a shared mailbox listed for hundreds gets a plain one
MAX_ATTEMPTS = 5
# SQS accepts only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. json.dumps escapes control characters
# itself; these it would keep raw (ensure_ascii=False), so they are written as \uXXXX escapes (same JSON value).
_NOT_FOR_SQS = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def encoded_size(body: str) -> int:
    """A body's size as SQS counts it: UTF-8 bytes."""
    return len(body.encode("utf-8", "surrogatepass"))


def messages(
    header: dict[str, Any],
    recipients: Iterable[dict[str, Any]],
    *,
    max_bytes: int = QUEUE_MAX_MESSAGE_BYTES,
    refused: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[str]:
    """Send-queue bodies (docs/internals.md): at most RECIPIENTS_PER_MESSAGE recipients and `max_bytes` each.

    A recipient too large for a message even alone is left out and handed to `refused` (the import's caps make
    that impossible; it must still never loop, raise or stall the rest).
    """
    head = json.dumps({"v": 1, **header, "recipients": []}, ensure_ascii=False)
    assert head.endswith("[]}")
    head, tail = head[:-2], "]}"
    base = encoded_size(head) + encoded_size(tail)
    chunk: list[str] = []
    size = base
    for recipient in recipients:
        names = recipient.get("names") or []
        if len(names) > MAX_NAMES:
            recipient = {**recipient, "names": names[:MAX_NAMES], "more_names": len(names) - MAX_NAMES}
        part = json.dumps(recipient, ensure_ascii=False)
        if _NOT_FOR_SQS.search(part):
            part = _NOT_FOR_SQS.sub(_escape, part)
        length = encoded_size(part)
        if base + length > max_bytes:
            if refused is not None:
                refused(recipient)
            continue
        if chunk and (len(chunk) == RECIPIENTS_PER_MESSAGE or size + 2 + length > max_bytes):
            yield head + ", ".join(chunk) + tail
            chunk, size = [], base
        size += length + (2 if chunk else 0)  # ", " between recipients
        chunk.append(part)
    if chunk:
        yield head + ", ".join(chunk) + tail


def send_all(sqs: Any, queue_url: str, bodies: Iterable[str], *, sleep=time.sleep) -> int:
    """Queue every body; entries SQS refuses are retried, and what still fails raises (nothing is dropped)."""
    sent = 0
    batch: list[str] = []
    size = 0
    for body in bodies:
        length = encoded_size(body)
        if length > MAX_BATCH_BYTES:
            raise ValueError(f"a send-queue body of {length} bytes is over SQS's {MAX_BATCH_BYTES} byte limit")
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
