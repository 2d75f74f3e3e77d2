"""SQS SendMessage / SendMessageBatch: sizes in bytes against the queue's own limit, characters, batch shape.

SQS speaks JSON with query-compatible errors: the error code botocore reports is the query code
(`AWS.SimpleQueueService.BatchEntryIdsNotDistinct`) and the exception class the modeled name
(`client.exceptions.BatchEntryIdsNotDistinct`), as moto and real SQS give them.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from notis_cli.contract import Rule, Violation, utf8_len

# SQS API Reference, SendMessage MessageBody / SendMessageBatch: "The following Unicode characters are allowed:
# #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF ... If a message contains characters
# outside the allowed set, Amazon SQS rejects the message and returns an InvalidMessageContents error."
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# SQS API Reference, SendMessageBatch: "The maximum allowed individual message size and the maximum total payload
# size (the sum of the individual lengths of all of the batched messages) are both 1 MiB 1,048,576 bytes."
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
MAX_BATCH_BYTES = 1_048_576
MAX_ENTRIES = 10  # same page: "send up to 10 messages"; TooManyEntriesInBatchRequest

# SQS API Reference, SendMessageBatchRequestEntry Id: "This identifier can have up to 80 characters. The following
# characters are accepted: alphanumeric characters, hyphens(-), and underscores (_)." InvalidBatchEntryId.
ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")

# The queue's MaximumMessageSize attribute is the authority for one message (SQS API Reference, SetQueueAttributes:
# "MaximumMessageSize – The limit of how many bytes a message can contain before Amazon SQS rejects it"; since
# 2025 up to 1,048,576). Looked up once per client and queue URL.
_sizes: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_sizes_lock = threading.Lock()


def _query(name: str, message: str) -> Violation:
    return Violation(f"AWS.SimpleQueueService.{name}", message, query_code=name)


def max_message_size(client: Any, queue_url: str) -> int | None:
    with _sizes_lock:
        known = _sizes.setdefault(client, {}).get(queue_url)
    if known is not None:
        return known
    try:
        attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["MaximumMessageSize"])
        size = int(attributes["Attributes"]["MaximumMessageSize"])
    except Exception:  # no such queue, no permission: the send itself will say so
        return None
    with _sizes_lock:
        _sizes.setdefault(client, {})[queue_url] = size
    return size


def forget(client: Any, queue_url: str) -> None:
    with _sizes_lock:
        _sizes.get(client, {}).pop(queue_url, None)


def message_size(body: Any, attributes: Any) -> int:
    """Bytes of the body plus each attribute's name, type and value (SQS counts attributes in the size)."""
    size = utf8_len(body)
    if isinstance(attributes, Mapping):
        for name, value in attributes.items():
            size += utf8_len(name)
            if isinstance(value, Mapping):
                size += utf8_len(value.get("DataType", ""))
                for key in ("StringValue", "BinaryValue"):
                    if value.get(key) is not None:
                        size += utf8_len(value[key])
    return size


def _body(body: Any) -> Violation | None:
    if isinstance(body, str) and FORBIDDEN.search(body):
        bad = FORBIDDEN.search(body)
        assert bad is not None
        return Violation("InvalidMessageContents", f"Invalid characters found. Deleted message: character "
                         f"U+{ord(bad.group()):04X} is outside the allowed set")
    return None


def _too_long(size: int, limit: int) -> Violation:
    return Violation("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be "
                     f"shorter than {limit} bytes (this one is {size}).")


def send_message(client: Any, params: Mapping[str, Any]) -> Violation | None:
    body = params.get("MessageBody")
    violation = _body(body)
    if violation or not isinstance(body, str):
        return violation
    url = params.get("QueueUrl")
    limit = max_message_size(client, url) if isinstance(url, str) else None
    size = message_size(body, params.get("MessageAttributes"))
    if limit is not None and size > limit:
        return _too_long(size, limit)
    return None


def send_message_batch(client: Any, params: Mapping[str, Any]) -> Violation | None:
    entries = params.get("Entries")
    if not isinstance(entries, list):
        return None
    if not entries:
        return _query("EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry")
    if len(entries) > MAX_ENTRIES:
        return _query("TooManyEntriesInBatchRequest", f"Maximum number of entries per request are {MAX_ENTRIES}. "
                      f"You have sent {len(entries)}.")
    seen: set[str] = set()
    total = 0
    sizes = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            return None
        entry_id = entry.get("Id")
        if isinstance(entry_id, str):
            if not ENTRY_ID.fullmatch(entry_id):
                return _query("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, "
                              "hyphens and underscores. It can be at most 80 letters long.")
            if entry_id in seen:
                return _query("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
            seen.add(entry_id)
        violation = _body(entry.get("MessageBody"))
        if violation:
            return violation
        size = message_size(entry.get("MessageBody", ""), entry.get("MessageAttributes"))
        sizes.append(size)
        total += size
    if total > MAX_BATCH_BYTES:
        return _query("BatchRequestTooLong", f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. "
                      f"You have sent {total} bytes.")
    url = params.get("QueueUrl")
    limit = max_message_size(client, url) if isinstance(url, str) else None
    if limit is not None and max(sizes) > limit:
        # One entry over the queue's limit: refused as moto refuses it (the whole call, InvalidParameterValue).
        return _too_long(max(sizes), limit)
    return None


def set_queue_attributes(client: Any, params: Mapping[str, Any]) -> Violation | None:
    """Not a check: a queue's MaximumMessageSize may change, so look it up again next time."""
    url = params.get("QueueUrl")
    if isinstance(url, str):
        forget(client, url)
    return None


RULES: dict[str, Rule] = {
    "SendMessage": send_message,
    "SendMessageBatch": send_message_batch,
    "SetQueueAttributes": set_queue_attributes,
}
