"""The campaign record in DynamoDB: created once per uploaded object, then moved through its states.

States: importing -> queued | held | failed; held -> approved -> queued; failed -> importing (the same file's
notification again, or `notis retry`); queued -> stopped (the sender, when SES refuses for a reason that is not
about any recipient) -> queued (`notis resume`). The staff views derive sending and done from the ledger.
A redelivered notification finds the record and starts nothing new, unless the import failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

IMPORTING, QUEUED, HELD, APPROVED, FAILED = "importing", "queued", "held", "approved", "failed"
STOPPED = "stopped"  # set by the sender with `stop_reason`; its send messages are dropped, the ledger untouched
TEST = "test"  # `kind` of a `notis test-send` record: one mail to one staff address, never a campaign to list
_SER, _DE = TypeSerializer(), TypeDeserializer()


def campaign_key(campaign_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"campaign#{campaign_id}"}, "sk": {"S": "meta"}}


@dataclass
class CampaignStore:
    client: Any  # boto3 DynamoDB client
    table: str

    def create(self, campaign_id: str, attributes: dict[str, Any]) -> bool:
        """Create the record in state `importing`; False when it exists already (a redelivery or a retry)."""
        item = {**campaign_key(campaign_id), **_attrs({**attributes, "campaign": campaign_id, "state": IMPORTING})}
        try:
            self.client.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, campaign_id: str) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=self.table, Key=campaign_key(campaign_id), ConsistentRead=True)
        item = found.get("Item")
        return {k: _DE.deserialize(v) for k, v in item.items()} if item else None

    def update(self, campaign_id: str, values: dict[str, Any], *, expect_state: str | None = None,
               remove: tuple[str, ...] = (), append: dict[str, list[Any]] | None = None) -> bool:
        """Set `values`, add `append`'s items to the end of those lists (created when absent), drop `remove`;
        with expect_state, only if the record is still in that state."""
        append = append or {}
        names = {f"#k{i}": k for i, k in enumerate(values)}
        names.update({f"#r{i}": k for i, k in enumerate(remove)})
        names.update({f"#a{i}": k for i, k in enumerate(append)})
        sets = [f"#k{i} = :v{i}" for i in range(len(values))]
        sets += [f"#a{i} = list_append(if_not_exists(#a{i}, :empty), :a{i})" for i in range(len(append))]
        expression = "SET " + ", ".join(sets) if sets else ""
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        attr_values = {f":v{i}": _SER.serialize(_plain(v)) for i, v in enumerate(values.values())}
        attr_values.update({f":a{i}": _SER.serialize(_plain(v)) for i, v in enumerate(append.values())})
        if append:
            attr_values[":empty"] = {"L": []}
        params: dict[str, Any] = {
            "TableName": self.table,
            "Key": campaign_key(campaign_id),
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": attr_values,
        }
        if expect_state is not None:
            params["ConditionExpression"] = "#state = :expected"
            params["ExpressionAttributeNames"]["#state"] = "state"
            params["ExpressionAttributeValues"][":expected"] = {"S": expect_state}
        try:
            self.client.update_item(**params)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_staff_action(self, campaign_id: str, action: str, by: str, at: str, *,
                            values: dict[str, Any] | None = None, expect_state: str | None = None) -> bool:
        """Keep who asked for what and when (`staff_actions`: action, by, at), for the evidence the authority
        asks for; `values` are set in the same write (e.g. the approval itself)."""
        return self.update(campaign_id, values or {}, expect_state=expect_state,
                           append={"staff_actions": [{"action": action, "by": by, "at": at}]})

    def list(self, *, include_tests: bool = False) -> list[dict[str, Any]]:
        """Every campaign record (a scan: staff tooling only, never on a hot path).

        Test sends (kind `test`) are left out unless asked for: they are no campaign, so no status line, digest,
        follow-up or retention run may take them for one.
        """
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :meta AND begins_with(pk, :prefix)",
            "ExpressionAttributeValues": {":meta": {"S": "meta"}, ":prefix": {"S": "campaign#"}},
        }
        while True:
            page = self.client.scan(**kwargs)
            items += [{k: _DE.deserialize(v) for k, v in item.items()} for item in page.get("Items", [])
                      if "campaign" in item  # a record, not a stray counter
                      and (include_tests or item.get("kind", {}).get("S") != TEST)]
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: str(i.get("created_at", "")))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        from decimal import Decimal

        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _attrs(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(_plain(v)) for k, v in values.items() if v is not None}
