"""Records that a batch of letters was posted (`notis letters --mark-posted`): who, when, how many, which send.

One item per batch in the campaign's partition: pk `campaign#<id>`, sk `posted#<send id>#<recorded at>`, with
send_id, letters (envelopes), people (named in them), posted_on (the date on the envelopes), by (the caller's
AWS principal) and at. Counts only: no name, no address. chalicelib.sending.status.notified_by_letter adds
them up for status and evidence.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

PREFIX = "posted#"
_DE = TypeDeserializer()


def posted_key(campaign_id: str, send_id: str, at: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"campaign#{campaign_id}"}, "sk": {"S": f"{PREFIX}{send_id}#{at}"}}


class PostedLetters:
    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def record(self, campaign_id: str, *, send_id: str, letters: int, people: int, posted_on: str, by: str,
               at: str) -> bool:
        """Write one batch record; False when the same batch (same send, same second) was recorded already.

        UpdateItem creates the item (the DynamoDB API reference: "Edits an existing item's attributes, or adds
        a new item to the table if it does not already exist"), under the staff role's existing grant on
        `campaign#` keys; the condition keeps a repeated command from rewriting a record.
        """
        try:
            self.client.update_item(
                TableName=self.table,
                Key=posted_key(campaign_id, send_id, at),
                UpdateExpression="SET send_id = :send, letters = :letters, people = :people, posted_on = :on, "
                                 "#by = :by, #at = :at",
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeNames={"#by": "by", "#at": "at"},
                ExpressionAttributeValues={":send": {"S": send_id}, ":letters": {"N": str(letters)},
                                           ":people": {"N": str(people)}, ":on": {"S": posted_on},
                                           ":by": {"S": by}, ":at": {"S": at}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def load(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every posted batch of the campaign, oldest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"campaign#{campaign_id}"}, ":prefix": {"S": PREFIX}},
        }
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**kwargs)
            found += [{k: _plain(_DE.deserialize(v)) for k, v in item.items()} for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda r: str(r.get("at", "")))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return int(value) if isinstance(value, Decimal) else value

