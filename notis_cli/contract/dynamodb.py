"""DynamoDB: the batch, expression and key limits moto does not enforce.

Found by experiment (moto 5.2.5), moto already refuses with ValidationException, so the layer leaves to it:
PutItem items over 400 KB, UpdateItem values over 400 KB, more than 100 keys for one table in BatchGetItem,
more than 100 TransactWriteItems actions. It accepts 26 requests in
one BatchWriteItem, and counts BatchGetItem keys per table, not per call. It refuses oversized keys when an item
is written (PutItem, UpdateItem) but reads GetItem and DeleteItem keys of any size, and an expression string over
4 KB makes it fail with a RecursionError (HTTP 500) rather than AWS's ValidationException.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notis_cli.contract import Rule, Violation, utf8_len

# DynamoDB API Reference, BatchWriteItem: "A single call to BatchWriteItem can transmit up to 16MB of data over
# the network, consisting of up to 25 item put or delete operations."
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
MAX_BATCH_WRITE = 25
# DynamoDB API Reference, BatchGetItem: "A single operation can retrieve up to 16 MB of data, which can contain
# as many as 100 items." https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
MAX_BATCH_GET = 100


# Developer Guide, Constraints, "Expression parameters": "The maximum length of any expression string is 4 KB."
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-expression-parameters
MAX_EXPRESSION_BYTES = 4096
EXPRESSIONS = ("UpdateExpression", "ConditionExpression", "ProjectionExpression", "KeyConditionExpression",
               "FilterExpression")
# Developer Guide, Constraints, "Partition keys and sort keys": a partition key value is at most 2,048 bytes, a sort
# key value at most 1,024. Without the table's schema the layer holds every key attribute to the larger limit.
MAX_KEY_BYTES = 2048


def _key_and_expressions(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    for name in EXPRESSIONS:
        size = utf8_len(params.get(name) or "")
        if size > MAX_EXPRESSION_BYTES:
            return Violation("ValidationException", f"Invalid {name}: Expression size has exceeded the maximum "
                             f"allowed size; expression size: {size} (at most {MAX_EXPRESSION_BYTES} bytes)")
    key = params.get("Key")
    for attribute, value in (key.items() if isinstance(key, Mapping) else ()):
        size = max((utf8_len(v) for v in value.values()), default=0) if isinstance(value, Mapping) else 0
        if size > MAX_KEY_BYTES:
            return Violation("ValidationException", "One or more parameter values were invalid: Size of key "
                             f"{attribute} has exceeded the maximum size limit of {MAX_KEY_BYTES} bytes ({size})")
    return None


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
    **dict.fromkeys(("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"), _key_and_expressions),
}
