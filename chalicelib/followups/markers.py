"""Marker items that make a scheduled start happen once: a follow-up or update notice per campaign, the digest.

Layout (docs/internals.md): pk `followup#<campaign-id>`, sk `f-<follow-up-id>` or `u-<update-id>`; the daily
digest uses pk `digest`, sk `<YYYY-MM-DD>`. States: `starting` (held by `owner` until `lease_until`, epoch
seconds) -> `queued` | `failed`, or `stale` (never started: overdue past its guard). A claim is one conditional
write: it succeeds only when no marker exists, or when a previous start's lease ran out (that start crashed
between claiming and queueing), or, for a start by hand, from the states staff may override.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.followups.schedule import FAILED, QUEUED, STALE, STARTING

SENT = "sent"  # the digest marker once the e-mail went

_SER, _DE = TypeSerializer(), TypeDeserializer()
DIGEST_PK = "digest"


def marker_pk(campaign: str) -> str:
    return f"followup#{campaign}"


def new_owner() -> str:
    return secrets.token_hex(8)


class Markers:
    """Conditional writes on marker items of one table (a low-level DynamoDB client)."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def load(self, campaigns: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """Every marker of these campaigns, keyed (campaign id, marker id)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for campaign in campaigns:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": marker_pk(campaign)}},
                "ConsistentRead": True,
            }
            while True:
                out = self.client.query(**kwargs)
                for item in out.get("Items", []):
                    plain = _plain(item)
                    found[(campaign, plain["sk"])] = plain
                if "LastEvaluatedKey" not in out:
                    break
                kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return found

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        out = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=True)
        return _plain(out["Item"]) if "Item" in out else None

    def claim(
        self, pk: str, sk: str, *, owner: str, now: float, lease: float, also_from: Iterable[str] = (),
        attributes: dict[str, Any] | None = None,
    ) -> bool:
        """Become the one starter: True only for the caller whose conditional write succeeded."""
        values: dict[str, Any] = {":starting": STARTING, ":owner": owner, ":now": now, ":lease": now + lease}
        condition = "attribute_not_exists(pk) OR (#s = :starting AND lease_until < :now)"
        for i, state in enumerate(also_from):
            values[f":from{i}"] = state
            condition += f" OR #s = :from{i}"
        sets = {"started_at": now, **(attributes or {})}
        names = {"#s": "state", "#o": "owner", **{f"#a{i}": k for i, k in enumerate(sets)}}
        values.update({f":a{i}": v for i, v in enumerate(sets.values())})
        assigns = "".join(f", #a{i} = :a{i}" for i in range(len(sets)))
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(pk, sk),
                UpdateExpression="SET #s = :starting, #o = :owner, lease_until = :lease" + assigns
                + " ADD attempts :one",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_attrs({**values, ":one": 1}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(self, pk: str, sk: str, *, owner: str, state: str, attributes: dict[str, Any]) -> bool:
        """starting (ours) -> queued/failed with what happened; False when another starter took over."""
        assert state in (QUEUED, FAILED, SENT)
        return self._set_if(
            pk, sk, "SET #s = :to", "#s = :starting AND #o = :owner", attributes,
            names={"#o": "owner"}, values={":to": state, ":starting": STARTING, ":owner": owner},
        )

    def mark_stale(self, pk: str, sk: str, *, now: float, attributes: dict[str, Any]) -> bool:
        """Record that a mail was not sent because it was overdue past its guard (once; never over a live start)."""
        return self._set_if(
            pk, sk, "SET #s = :stale, stale_at = :at",
            "attribute_not_exists(pk) OR (#s = :starting AND lease_until < :now)",
            attributes, values={":stale": STALE, ":starting": STARTING, ":now": now, ":at": now},
        )

    def _set_if(
        self,
        pk: str,
        sk: str,
        update: str,
        condition: str,
        attributes: dict[str, Any],
        *,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        """`update` plus `attributes`, ending the lease, only when `condition` holds; False when it does not."""
        all_names = {"#s": "state", **(names or {}), **{f"#a{i}": k for i, k in enumerate(attributes)}}
        all_values = {**values, **{f":a{i}": v for i, v in enumerate(attributes.values())}}
        assigns = "".join(f", #a{i} = :a{i}" for i in range(len(attributes)))
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(pk, sk),
                UpdateExpression=update + assigns + " REMOVE lease_until",
                ConditionExpression=condition,
                ExpressionAttributeNames=all_names,
                ExpressionAttributeValues=_attrs(all_values),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _attrs(values: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return Decimal(str(v)) if isinstance(v, float) else v

    return {k: _SER.serialize(conv(v)) for k, v in values.items()}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in item.items():
        value = _DE.deserialize(v)
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        out[k] = value
    return out
