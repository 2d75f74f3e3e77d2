"""The sender's view of the campaign record: may a send message go out, and stopping a campaign.

Only the importer and the follow-up starter put messages on the send queue. A message whose campaign record
does not exist (written by hand onto the queue, or forged) is refused, so nobody can mail arbitrary text or
addresses through the queue. A stopped campaign's messages are dropped without touching their recipients'
ledger entries: every unsent person stays claimable, and `notis resume` queues them again from the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STOPPED = "stopped"
# The importer queues before it writes `queued`; older records may say `sending` or `done` (read as queued).
SENDABLE = frozenset({"importing", "approved", "queued", "sending", "done"})


def _key(campaign: str) -> dict[str, Any]:
    return {"pk": {"S": f"campaign#{campaign}"}, "sk": {"S": "meta"}}


class CampaignGate:
    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def states(self, campaigns: Iterable[str]) -> dict[str, str]:
        """The stored state of each campaign that has a record (BatchGetItem: at most 100 keys a call)."""
        unique = list(dict.fromkeys(campaigns))
        found: dict[str, str] = {}
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [_key(c) for c in unique[start : start + 100]],
                    "ProjectionExpression": "campaign, #s",
                    "ExpressionAttributeNames": {"#s": "state"},
                    "ConsistentRead": True,
                }
            }
            while request:
                out = self.client.batch_get_item(RequestItems=request)
                for item in out.get("Responses", {}).get(self.table, []):
                    found[item["campaign"]["S"]] = item.get("state", {}).get("S", "")
                request = out.get("UnprocessedKeys") or {}
        return found

    def stop(self, campaign: str, *, reason: str, code: str, now: str) -> bool:
        """Record the campaign as stopped with the reason; False when it was not sending (already stopped)."""
        names = [f":s{i}" for i in range(len(SENDABLE))]
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(campaign),
                UpdateExpression="SET #s = :stopped, stop_reason = :reason, stop_code = :code, stopped_at = :now",
                ConditionExpression=f"#s IN ({', '.join(names)})",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":stopped": {"S": STOPPED},
                    ":reason": {"S": reason[:300]},
                    ":code": {"S": code[:80]},
                    ":now": {"S": now},
                    **{name: {"S": state} for name, state in zip(names, sorted(SENDABLE), strict=True)},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
