"""Reading a campaign and its ledger for the staff commands (status, letters, evidence)."""

from __future__ import annotations

import sys
from typing import Any

from notis_cli.commands._common import describe_target


def register(sub: Any) -> None:
    """Not a command (the CLI discovers every module here)."""


class Context:
    """Settings, clients and the ledger for one command run; says on stderr which AWS it talks to."""

    def __init__(self) -> None:
        from chalicelib import aws
        from chalicelib.campaigns.store import CampaignStore
        from chalicelib.config import load_settings
        from chalicelib.sending.ledger import Ledger

        self.settings = load_settings()
        describe_target()
        self.ddb = aws.client("dynamodb")
        self.campaigns = CampaignStore(self.ddb, self.settings.table)
        self.ledger = Ledger(self.ddb, self.settings.table)

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        item = self.campaigns.get(campaign_id)
        if item is None:
            print(f"notis: no campaign {campaign_id!r} (see notis status)", file=sys.stderr)
        return item

    def entries(self, campaign_item: dict[str, Any], send_id: str | None = None) -> list[dict[str, Any]]:
        """The ledger entries this campaign settled. The ledger is per notice (`send_id`, the first notice unless
        given), shared by every campaign of the incident and audience; an entry names the campaign that claimed
        it."""
        campaign_id = str(campaign_item.get("campaign", ""))
        send_id = send_id or str(campaign_item.get("send_id") or campaign_id)
        return [e for e in self.ledger.entries(send_id) if e.get("campaign", campaign_id) == campaign_id]

    def earlier(self, campaign_item: dict[str, Any], send_id: str | None = None) -> list[dict[str, Any]]:
        """Recipients of this campaign that an earlier campaign had already settled (its `seen#` markers)."""
        campaign_id = str(campaign_item.get("campaign", ""))
        return self.ledger.seen(campaign_id, send_id or str(campaign_item.get("send_id") or campaign_id))

    def scheduled(self, campaign_item: dict[str, Any], now: float) -> list[Any]:
        """Progress of each follow-up and update notice started for this campaign (from its markers)."""
        from chalicelib.followups.markers import Markers
        from chalicelib.sending.status import scheduled_progress

        campaign_id = str(campaign_item.get("campaign", ""))
        markers = Markers(self.ddb, self.settings.table).load([campaign_id]).values()
        found = []
        for marker in sorted(markers, key=lambda m: str(m.get("sk", ""))):
            send_id = str(marker.get("send_id", ""))
            if marker.get("state") not in ("queued", "starting") or not send_id:
                continue
            found.append(scheduled_progress(marker, self.entries(campaign_item, send_id),
                                            self.earlier(campaign_item, send_id), now=now))
        return found

    def sends(self, campaign_item: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]],
                                                              list[dict[str, Any]]]]:
        """Every follow-up and update notice started for this campaign: (marker, its ledger entries of this
        campaign, its seen markers), for the evidence."""
        from chalicelib.followups.markers import Markers

        campaign_id = str(campaign_item.get("campaign", ""))
        markers = Markers(self.ddb, self.settings.table).load([campaign_id]).values()
        return [(m, self.entries(campaign_item, str(m["send_id"])), self.earlier(campaign_item, str(m["send_id"])))
                for m in sorted(markers, key=lambda m: str(m.get("sk", ""))) if m.get("send_id")]

    def purge(self, campaign_id: str) -> dict[str, Any] | None:
        """The retention purge's evidence item (`evidence#<campaign>`, `purge`), when the file was deleted."""
        from boto3.dynamodb.types import TypeDeserializer

        found = self.ddb.get_item(TableName=self.settings.table,
                                  Key={"pk": {"S": f"evidence#{campaign_id}"}, "sk": {"S": "purge"}}).get("Item")
        return {k: TypeDeserializer().deserialize(v) for k, v in found.items()} if found else None

    def dlq_depth(self) -> int | None:
        from chalicelib import aws

        try:
            sqs = aws.client("sqs")
            url = sqs.get_queue_url(QueueName=self.settings.send_dlq)["QueueUrl"]
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
        except Exception:
            return None
