"""EventBridge PutEvents: entry size as EventBridge computes it (moto checks only the number of entries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notis_cli.contract import Rule, Violation, utf8_len

# EventBridge User Guide, Calculating PutEvents event entry size: "The total entry size must be less than 256KB
# ... If specified, the Time parameter is 14 bytes. The Source and DetailType parameters are the number of bytes
# for their UTF-8 encoded forms. If specified, the Detail parameter is the number of bytes for its UTF-8 encoded
# form. If specified, each entry of the Resources parameter is the number of bytes for its UTF-8 encoded forms."
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
# EventBridge API Reference, PutEvents: "The maximum size for a PutEvents event entry is 256 KB."
MAX_BYTES = 256 * 1024
MAX_ENTRIES = 10  # PutEvents Entries: 1 to 10 items (moto enforces this one)


def entry_size(entry: Mapping[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        if entry.get(field) is not None:
            size += utf8_len(entry[field])
    for resource in entry.get("Resources") or ():
        if resource is not None:
            size += utf8_len(resource)
    return size


def put_events(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    entries = params.get("Entries")
    if not isinstance(entries, list):
        return None
    if len(entries) > MAX_ENTRIES:
        return Violation("ValidationException", f"1 validation error detected: Value at 'entries' failed to "
                         f"satisfy constraint: Member must have length less than or equal to {MAX_ENTRIES}")
    total = sum(entry_size(e) for e in entries if isinstance(e, Mapping))
    if total >= MAX_BYTES:
        return Violation("ValidationException", f"Total size of the entries in the request is over the limit "
                         f"({total} bytes; must be less than {MAX_BYTES})")
    return None


RULES: dict[str, Rule] = {"PutEvents": put_events}
