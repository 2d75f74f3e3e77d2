"""Which reference code a household's letter carries, so a second `notis letters --pdf` prints the same code.

A letter's code is drawn at random and recorded like an e-mail's (`code#<CODE>`, chalicelib/verify/codes.py);
that record is found by the code only. This index finds it by the letter: one item per (campaign, send,
household) in the campaign's partition, pk `campaign#<id>`, sk `lettercode#<send id>#<household key>`, with
`code` and `expires_at` (the code record's, so both go together). The household key is the keyed HMAC of the
postal address as the letters group it (lines compared without case and spacing): a pseudonym, like a recipient
key, never the address. Written by UpdateItem under the staff role's existing grant on `campaign#`
keys, only when no item is there yet (or when it names a code whose record has expired), so two runs at once
end with one code.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

PREFIX = "lettercode#"


def household_key(address_lines: Iterable[str], hmac_key: bytes) -> str:
    """The household's pseudonym: HMAC-SHA256 of its address lines, case and spacing ignored."""
    text = "\n".join(" ".join(line.split()).casefold() for line in address_lines)
    return hmac.digest(hmac_key, f"letter-household\n{text}".encode(), "sha256").hex()


def _key(campaign: str, send_id: str, household: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"campaign#{campaign}"}, "sk": {"S": f"{PREFIX}{send_id}#{household}"}}


class LetterCodes:
    """Read and write the index (injected DynamoDB client)."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def of_send(self, campaign: str, send_id: str, *, now: float) -> dict[str, str]:
        """household key -> code for every live letter code of this send (one Query, paged)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"campaign#{campaign}"},
                                          ":prefix": {"S": f"{PREFIX}{send_id}#"}},
        }
        found: dict[str, str] = {}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                if float(item.get("expires_at", {}).get("N", "0")) > now and "code" in item:
                    found[item["sk"]["S"].rsplit("#", 1)[-1]] = item["code"]["S"]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(self, campaign: str, send_id: str, household: str, code: str, *, expires_at: int, now: float) -> str:
        """Name `code` as this household's letter code unless a live one is named already; the code in force.

        A failed condition is ConditionalCheckFailedException (DynamoDB API Reference, UpdateItem); the item is
        then read back (ReturnValuesOnConditionCheckFailure) and its code kept.
        """
        try:
            self.client.update_item(
                TableName=self.table, Key=_key(campaign, send_id, household),
                UpdateExpression="SET code = :code, expires_at = :exp",
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":code": {"S": code}, ":exp": {"N": str(int(expires_at))},
                                           ":now": {"N": str(int(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            item = getattr(exc, "response", {}).get("Item") or self.client.get_item(
                TableName=self.table, Key=_key(campaign, send_id, household), ConsistentRead=True).get("Item", {})
            return str(item["code"]["S"])
        return code
