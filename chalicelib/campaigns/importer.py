"""An uploaded recipient file becomes a campaign: read, checked, reported, held or queued, exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.campaigns import report
from chalicelib.campaigns.objects import open_upload
from chalicelib.campaigns.queueing import messages, send_all
from chalicelib.campaigns.store import APPROVED, FAILED, HELD, IMPORTING, QUEUED, CampaignStore
from chalicelib.campaigns.uploads import Approval, BadKey, Upload, parse_key
from chalicelib.config import Settings
from chalicelib.content.model import Incident
from chalicelib.recipients import ImportResult, UnusableFile, read_recipients

log = logging.getLogger("notis.import")


@dataclass
class Importer:
    s3: Any
    sqs: Any
    store: CampaignStore
    settings: Settings
    incidents: dict[str, Incident]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, item: Upload | Approval) -> dict[str, Any]:
        if isinstance(item, Approval):
            return self.approved(item.campaign_id)
        return self.upload(item)

    def upload(self, upload: Upload) -> dict[str, Any]:
        campaign_id = upload.campaign_id
        created = self.store.create(campaign_id, {
            "bucket": upload.bucket, "key": upload.key, "version": upload.version, "etag": upload.etag,
            "size": upload.size, "created_at": self._now(),
        })
        if not created:
            existing = self.store.get(campaign_id) or {}
            if existing.get("state") != IMPORTING:
                log.info("upload already imported", extra={"campaign": campaign_id, "state": existing.get("state")})
                return existing
            log.warning("resuming an interrupted import", extra={"campaign": campaign_id})
        try:
            slug, audience = self._target(upload.key)
            result = self._read(upload)
        except (BadKey, UnusableFile, LookupError) as exc:  # UploadGone is a LookupError
            return self._fail(campaign_id, exc)
        return self._checked(campaign_id, slug, audience, upload, result)

    def approved(self, campaign_id: str) -> dict[str, Any]:
        campaign = self.store.get(campaign_id)
        if not campaign or campaign.get("state") != APPROVED:
            log.info("approval ignored", extra={"campaign": campaign_id, "state": (campaign or {}).get("state")})
            return campaign or {}
        upload = Upload(campaign["bucket"], campaign["key"], campaign.get("version", ""), campaign.get("etag", ""))
        result = self._read(upload)
        return self._queue(campaign_id, campaign["incident"], campaign["audience"], result, expect=APPROVED)

    # -- steps -------------------------------------------------------------------------------------------------
    def _target(self, key: str) -> tuple[str, str]:
        slug, audience = parse_key(key)
        incident = self.incidents.get(slug)
        if incident is None:
            known = ", ".join(sorted(self.incidents)) or "none"
            raise LookupError(f"There is no published incident called {slug[:80]!r} (published: {known}).")
        if incident.audience(audience) is None:
            declared = ", ".join(a.name for a in incident.audiences) or "none"
            raise LookupError(
                f"The incident {slug!r} declares no audience {audience[:80]!r} (declared: {declared})."
            )
        return slug, audience

    def _read(self, upload: Upload) -> ImportResult:
        body = open_upload(self.s3, upload.bucket, upload.key, version=upload.version, etag=upload.etag)
        try:
            return read_recipients(body, max_bytes=self.settings.max_upload_bytes, hmac_key=self.settings.hmac_key)
        finally:
            body.close()

    def _checked(self, campaign_id: str, slug: str, audience: str, upload: Upload,
                 result: ImportResult) -> dict[str, Any]:
        counts = report.counts(result)
        self._write_report(campaign_id, result)
        self.store.update(campaign_id, {"incident": slug, "audience": audience, "counts": counts,
                                        "first_problems": report.first_problems(result)})
        share = counts["rejected"] / counts["rows"] if counts["rows"] else 0.0
        if share > self.settings.hold_threshold:
            self.store.update(campaign_id, {"state": HELD, "held_at": self._now(), "error": (
                f"{counts['rejected']} of {counts['rows']} rows ({share:.0%}) were rejected, more than the "
                f"{self.settings.hold_threshold:.0%} allowed. Nothing has been sent. Check the report, then "
                f"fix the file and upload it again, or approve with: notis approve {campaign_id}"
            )})
            log.warning("campaign held", extra={"campaign": campaign_id, **counts})
            return self.store.get(campaign_id) or {}
        return self._queue(campaign_id, slug, audience, result, expect=IMPORTING)

    def _queue(self, campaign_id: str, slug: str, audience: str, result: ImportResult, *,
               expect: str) -> dict[str, Any]:
        header = {"send_id": f"{slug}.{audience}.notice", "campaign": campaign_id, "incident": slug,
                  "audience": audience, "template": "notice"}
        queue_url = self.sqs.get_queue_url(QueueName=self.settings.send_queue)["QueueUrl"]
        bodies = messages(header, (r.to_message() for r in result.recipients.values()))
        queued = send_all(self.sqs, queue_url, bodies)
        self.store.update(campaign_id, {"state": QUEUED, "queued_at": self._now(), "queued_messages": queued,
                                        "send_id": header["send_id"]}, expect_state=expect)
        log.info("campaign queued", extra={"campaign": campaign_id, "messages": queued,
                                           "recipients": len(result.recipients)})
        return self.store.get(campaign_id) or {}

    def _fail(self, campaign_id: str, exc: Exception) -> dict[str, Any]:
        reason = exc.reason if isinstance(exc, UnusableFile) else str(exc)
        code = exc.code if isinstance(exc, UnusableFile) else type(exc).__name__
        self.store.update(campaign_id, {"state": FAILED, "error": reason, "error_code": code,
                                        "failed_at": self._now()})
        campaign = self.store.get(campaign_id) or {}
        self._put(f"reports/{campaign_id}/summary.json", report.summary_json(campaign))
        log.warning("upload refused", extra={"campaign": campaign_id, "code": code})
        return campaign

    def _write_report(self, campaign_id: str, result: ImportResult) -> None:
        self._put(f"reports/{campaign_id}/rows.csv", report.rows_csv(result), "text/csv; charset=utf-8")

    def _put(self, key: str, text: str, content_type: str = "application/json") -> None:
        # No encryption header: the bucket's default (the stack's own KMS key) applies. Sending "aws:kms"
        # without a key id would pick the account's aws/s3 key instead.
        self.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")
