"""Records that a batch of letters was posted (`notis letters --mark-posted`): who, when, how many, which send.

One item per batch in the campaign's partition: pk `campaign#<id>`, sk `posted#<send id>#<recorded at>`, with
send_id, letters (envelopes), people (named in them), posted_on (the date on the envelopes), by (the caller's
AWS principal) and at. Counts only: no name, no address. chalicelib.sending.status.notified_by_letter adds
them up for status and evidence. Since each household's posting is recorded once (chalicelib/campaigns/
lettercodes.py), a batch counts only the households it posted for the first time: the batches of a send add up.

Beside them, sk `letterseen#<send id>#<earlier campaign>`: how many households (and people) on this campaign's
letter list another campaign of the same send had already posted to, and on which day (the latest), written by
`notis letters` when it leaves them out: status and evidence count them as told by letter, as the `seen#`
markers count e-mail another campaign sent.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

PREFIX = "posted#"
EARLIER = "letterseen#"
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

    def record_earlier(self, campaign_id: str, *, send_id: str, earlier: str, households: int, people: int,
                       posted_on: str, at: str) -> None:
        """Say that `households` households (`people` people) on this campaign's letter list for `send_id` were
        posted with the campaign `earlier`; written again on each run (the same file gives the same counts)."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"campaign#{campaign_id}"}, "sk": {"S": f"{EARLIER}{send_id}#{earlier}"}},
            UpdateExpression="SET send_id = :send, earlier = :earlier, households = :h, people = :people, "
                             "posted_on = :on, #at = :at",
            ExpressionAttributeNames={"#at": "at"},
            ExpressionAttributeValues={":send": {"S": send_id}, ":earlier": {"S": earlier},
                                       ":h": {"N": str(households)}, ":people": {"N": str(people)},
                                       ":on": {"S": posted_on}, ":at": {"S": at}},
        )

    def load_earlier(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every `letterseen#` record of the campaign: letters another campaign of the same send posted."""
        return self._load(campaign_id, EARLIER)

    def load(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every posted batch of the campaign, oldest first."""
        return self._load(campaign_id, PREFIX)

    def _load(self, campaign_id: str, prefix: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"campaign#{campaign_id}"}, ":prefix": {"S": prefix}},
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

