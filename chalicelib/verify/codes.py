"""The code record: which message a reference code was printed in, so a reader (and staff) can look it up.

One item per code in the one table: pk `code#<CODE>` (the normalised reference, `K7QX-2M9D-PA4T4`), sk `code`,
with `send_id`, `campaign`, `key` (the recipient's pseudonymous HMAC key, as in the ledger; for the staff lookup
only, never in a public answer), `sent_on` (YYYY-MM-DD, the day of the claim in Europe/Stockholm) and
`expires_at` (the ledger entry's TTL: the incident's retention). Written once, after the claim and before the
send; never given to anyone else (the condition below), so a code is never reused while its record lives. A
letter's record (`channel` letter) is written when its PDF is made; `notis letters --mark-posted` then puts the
posting day in `sent_on`, with `posted` true (mark_posted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.mail.reference import LENGTH, group

SK = "code"
LOCAL_TIME = ZoneInfo("Europe/Stockholm")
# A GetItem for a code that cannot exist (malformed input) still reads this key, so a miss costs what a hit
# costs (chalicelib/verify/handler.py); `#` never occurs in a normalised code, so nothing is ever stored here.
# It has a real code's shape and length, so the key read is as long as a real one.
DUMMY_CODE = group("#" * LENGTH)


class CodeTaken(Exception):
    """The code is already recorded for another message or recipient (a collision: about 1 in 2^58 per pair)."""


@dataclass(frozen=True)
class CodeRecord:
    code: str
    send_id: str
    campaign: str
    key: str
    sent_on: str
    expires_at: int
    channel: str = "email"  # or "letter": printed in a posted letter (notis letters), not in an e-mail
    posted: bool = False  # a letter's: sent_on is the day it was posted (notis letters --mark-posted)

    def expired(self, now: float) -> bool:
        """DynamoDB's TTL deletes lazily (within days): a record past its time counts as gone."""
        return self.expires_at <= now


def code_key(code: str) -> dict[str, Any]:
    return {"pk": {"S": f"code#{code}"}, "sk": {"S": SK}}


def local_day(epoch: float) -> str:
    """The date in Sweden at `epoch` (what a reader in Sweden calls the day the message went)."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(LOCAL_TIME).date().isoformat()


class CodeBook:
    """Read and write code records (injected DynamoDB client; no boto3 import here)."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def record(
        self, code: str, *, send_id: str, campaign: str, key: str, now: float, expires_at: int, channel: str = "email"
    ) -> None:
        """Store the code for this message and recipient; again for the same pair is a no-op (a retried claim).

        Raises CodeTaken when someone else's message holds the code; AWS faults propagate (the caller must not
        send without the record).
        """
        item = {
            **code_key(code),
            "send_id": {"S": send_id},
            "campaign": {"S": campaign},
            "key": {"S": key},
            "sent_on": {"S": local_day(now)},
            "expires_at": {"N": str(int(expires_at))},
            **({"channel": {"S": channel}} if channel != "email" else {}),  # e-mail's records stay as small
        }
        try:
            # `key` is one of DynamoDB's reserved words (Developer Guide, "Reserved words in DynamoDB"): named
            # through #k. A failed condition is ConditionalCheckFailedException (API Reference, PutItem).
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR (send_id = :s AND #k = :k)",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":s": {"S": send_id}, ":k": {"S": key}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise CodeTaken(code) from None

    def mark_posted(self, code: str, *, on: str) -> bool:
        """A letter's record says the day it was posted (YYYY-MM-DD) instead of the day its PDF was made, so the
        public answer names the posting day; True if changed. Only a letter's, only once (the first posting day
        stands), and only the record as it was read: PutItem with a condition on what was read (the staff
        role may PutItem on `code#*` keys only: no UpdateItem there, and none is needed)."""
        item = self.client.get_item(TableName=self.table, Key=code_key(code), ConsistentRead=True).get("Item")
        if not item or item.get("channel", {}).get("S") != "letter" or "posted" in item:
            return False
        try:
            self.client.put_item(
                TableName=self.table, Item={**item, "sent_on": {"S": on}, "posted": {"BOOL": True}},
                ConditionExpression="send_id = :s AND #k = :k AND sent_on = :made AND attribute_not_exists(posted)",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":s": item["send_id"], ":k": item["key"], ":made": item["sent_on"]},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # changed meanwhile (posted by another run): that run's day stands
        return True

    def read(self, code: str | None, *, now: float) -> CodeRecord | None:
        """The live record of a normalised code, else None. Always one GetItem, also for None (a malformed code),
        so that the time of the answer does not tell a malformed, unknown or expired code from a known one."""
        out = self.client.get_item(TableName=self.table, Key=code_key(code or DUMMY_CODE))
        item = out.get("Item")
        if not item or code is None:
            return None
        try:
            found = CodeRecord(
                code=code,
                send_id=item["send_id"]["S"],
                campaign=item.get("campaign", {}).get("S", ""),
                key=item.get("key", {}).get("S", ""),
                sent_on=item["sent_on"]["S"],
                expires_at=int(float(item["expires_at"]["N"])),
                channel=item.get("channel", {}).get("S", "email"),
                posted=bool(item.get("posted", {}).get("BOOL", False)),
            )
        except (KeyError, ValueError):
            return None  # not a record this module wrote
        return None if found.expired(now) else found
