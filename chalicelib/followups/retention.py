"""Delete a campaign's personal data after the incident's retention period, and keep counts as evidence.

What is deleted, per campaign whose `created_at` is more than the incident's `retention_days` ago:
- the uploaded object: the campaign's own version (or, in an unversioned bucket, the object whose ETag the
  campaign recorded), with the delete markers of that key once no version is left; other versions of the same
  key belong to other campaigns (a corrected file uploaded again) and wait for their own retention;
- every object version under `reports/<campaign-id>/`.
Then an evidence item records the counts (no names, keys or addresses) and the campaign gets `purged_at`. The
campaign record, the markers and the ledger stay: they are pseudonymous, and the ledger entries expire through
DynamoDB TTL (`expires_at`, set by the sender). The bucket's lifecycle rules are the backstop.

Idempotent: a purge interrupted half-way runs again on the next tick; the evidence counts are added up
(ADD), so a re-run adds what it deleted then.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.campaigns.store import CampaignStore
from chalicelib.content.model import Incident
from chalicelib.followups.schedule import parse_time

log = logging.getLogger("notis.followups")

DEFAULT_RETENTION_DAYS = 90


def evidence_key(campaign: str) -> dict[str, Any]:
    return {"pk": {"S": f"evidence#{campaign}"}, "sk": {"S": "purge"}}


def purge_after(campaign: Mapping[str, Any], incidents: Mapping[str, Incident]) -> datetime | None:
    """When this campaign's data may be deleted; None if it already was or its creation time is unknown."""
    created = parse_time(campaign.get("created_at"))
    if created is None or campaign.get("purged_at"):
        return None
    incident = incidents.get(str(campaign.get("incident", "")))
    days = incident.retention_days if incident else DEFAULT_RETENTION_DAYS
    return created + timedelta(days=days)


def due_for_purge(
    campaigns: list[dict[str, Any]], incidents: Mapping[str, Incident], now: datetime
) -> list[dict[str, Any]]:
    return [c for c in campaigns if (when := purge_after(c, incidents)) is not None and when <= now]


@dataclass
class Purger:
    s3: Any
    dynamodb: Any
    table: str

    def purge(self, campaign: dict[str, Any], now: datetime) -> dict[str, int]:
        cid = str(campaign["campaign"])
        bucket, key = str(campaign.get("bucket", "")), str(campaign.get("key", ""))
        counts = {"upload_versions": 0, "delete_markers": 0, "report_objects": 0}
        if bucket and key.startswith("uploads/"):
            versions, markers = self._versions(bucket, key, exact=True)
            own = [v for v in versions if _is_own(v, campaign)]
            counts["upload_versions"] = self._delete(bucket, [(key, v["VersionId"]) for v in own])
            if len(own) == len(versions):  # nothing of any other upload left under this key
                counts["delete_markers"] = self._delete(bucket, [(key, m["VersionId"]) for m in markers])
        if bucket:
            versions, markers = self._versions(bucket, f"reports/{cid}/", exact=False)
            counts["report_objects"] = self._delete(bucket, [(v["Key"], v["VersionId"]) for v in versions])
            counts["delete_markers"] += self._delete(bucket, [(m["Key"], m["VersionId"]) for m in markers])
        at = now.isoformat(timespec="seconds")
        self.dynamodb.update_item(
            TableName=self.table,
            Key=evidence_key(cid),
            UpdateExpression="SET kind = :kind, campaign = :c, incident = :i, audience = :a, purged_at = :at "
                             "ADD upload_versions :u, delete_markers :d, report_objects :r",
            ExpressionAttributeValues={
                ":kind": {"S": "purge"}, ":c": {"S": cid}, ":at": {"S": at},
                ":i": {"S": str(campaign.get("incident", ""))}, ":a": {"S": str(campaign.get("audience", ""))},
                ":u": {"N": str(counts["upload_versions"])}, ":d": {"N": str(counts["delete_markers"])},
                ":r": {"N": str(counts["report_objects"])},
            },
        )
        CampaignStore(self.dynamodb, self.table).update(cid, {"purged_at": at})
        log.info("campaign data purged", extra={"campaign": cid, **counts})
        return counts

    def _versions(self, bucket: str, prefix: str, *, exact: bool) -> tuple[list[dict], list[dict]]:
        versions: list[dict] = []
        markers: list[dict] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = self.s3.list_object_versions(**kwargs)
            versions += [v for v in page.get("Versions", []) if not exact or v["Key"] == prefix]
            markers += [m for m in page.get("DeleteMarkers", []) if not exact or m["Key"] == prefix]
            if not page.get("IsTruncated"):
                return versions, markers
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")

    def _delete(self, bucket: str, objects: list[tuple[str, str]]) -> int:
        """Delete these exact versions (one call each: DeleteObjects needs a Content-MD5 and is no faster here)."""
        for key, version in objects:
            self.s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
        return len(objects)


def _is_own(version: Mapping[str, Any], campaign: Mapping[str, Any]) -> bool:
    """The object version this campaign was imported from: by version id, else (unversioned) by ETag."""
    if campaign.get("version"):
        return str(version.get("VersionId")) == str(campaign["version"])
    etag = str(campaign.get("etag", "")).strip('"')
    return bool(etag) and str(version.get("ETag", "")).strip('"') == etag
