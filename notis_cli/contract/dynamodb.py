"""DynamoDB: the batch limits moto does not enforce.

Found by experiment (moto 5.2.5), moto already refuses with ValidationException, so the layer leaves to it:
PutItem items over 400 KB, UpdateItem values over 400 KB, more than 100 keys for one table in BatchGetItem,
more than 100 TransactWriteItems actions. It accepts 26 requests in
one BatchWriteItem, and counts BatchGetItem keys per table, not per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notis_cli.contract import Rule, Violation

# DynamoDB API Reference, BatchWriteItem: "A single call to BatchWriteItem can transmit up to 16MB of data over
# the network, consisting of up to 25 item put or delete operations."
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
MAX_BATCH_WRITE = 25
# DynamoDB API Reference, BatchGetItem: "A single operation can retrieve up to 16 MB of data, which can contain
# as many as 100 items." https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
MAX_BATCH_GET = 100


def _count(request_items: Any, member: str | None) -> int:
    if not isinstance(request_items, Mapping):
        return 0
    total = 0
    for value in request_items.values():
        items = value.get(member) if member and isinstance(value, Mapping) else value
        if isinstance(items, list):
            total += len(items)
    return total


def batch_write_item(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    n = _count(params.get("RequestItems"), None)
    if n > MAX_BATCH_WRITE:
        return Violation("ValidationException", "Too many items requested for the BatchWriteItem call "
                         f"({n}; at most {MAX_BATCH_WRITE})")
    return None


def batch_get_item(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    n = _count(params.get("RequestItems"), "Keys")
    if n > MAX_BATCH_GET:
        return Violation("ValidationException", "Too many items requested for the BatchGetItem call "
                         f"({n}; at most {MAX_BATCH_GET})")
    return None


RULES: dict[str, Rule] = {
    "BatchWriteItem": batch_write_item,
    "BatchGetItem": batch_get_item,
}
