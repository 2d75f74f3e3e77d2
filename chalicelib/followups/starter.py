"""Start one follow-up or update notice for one campaign, exactly once, and never lose it to a crash.

1. Claim the marker (conditional write): of several ticks running at once, one goes on, the others stop.
2. Re-read the campaign's uploaded file (the exact version) from S3: addresses live only there.
3. Leave out suppressed keys (bounced, complained) and, for `only_undelivered`, the keys whose first notice
   the ledger records as delivered.
4. Queue the rest through the normal send path (same message format, same exactly-once ledger, keyed by
   this mail's send id), then mark the marker `queued` with the counts. Every message carries `not_after`
   (send_not_after): the sender mails nobody from a message that arrives later than that (one redriven from
   the DLQ days later, a queue that stood still): it records them `expired` instead.

A crash between 1 and 4 leaves the marker `starting`; once its lease runs out the next tick starts it again.
Some recipients may then be queued twice: the ledger claim per (send id, recipient) still sends each one
e-mail. A file that no longer exists (replaced and expired, or purged) or cannot be read marks the marker
`failed` with a reason staff understand: retrying cannot fix it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.campaigns.objects import UploadGone, open_upload
from chalicelib.campaigns.queueing import messages, send_all
from chalicelib.config import Settings
from chalicelib.followups.markers import Markers, marker_pk, new_owner
from chalicelib.followups.schedule import FAILED, QUEUED, STALE, Scheduled, first_notice_send_id
from chalicelib.recipients import UnusableFile, read_recipients
from chalicelib.sending.ledger import DELIVERED, Ledger

log = logging.getLogger("notis.followups")

SEND_MARGIN_SECONDS = 3600.0  # on top of the time the queue needs at the SES rate (retries, a short outage)
LEASE_SECONDS = 15 * 60.0  # longer than the tick function's 300 s timeout: a live start is never taken over


@dataclass(frozen=True)
class Started:
    """What one start did: `started` is False when another invocation holds or finished it."""

    started: bool
    state: str = ""
    recipients: int = 0
    skipped_suppressed: int = 0
    skipped_delivered: int = 0
    messages: int = 0
    reason: str = ""


@dataclass
class Starter:
    s3: Any
    sqs: Any
    dynamodb: Any
    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lease_seconds: float = LEASE_SECONDS

    def start(self, item: Scheduled, campaign: dict[str, Any], *, by_hand: bool = False,
              resume: bool = False) -> Started:
        """Start `item` for `campaign` unless someone else has; `by_hand` may also start a stale or failed one,
        `resume` (a stopped campaign resumed: its queued messages were dropped) a queued one."""
        markers = Markers(self.dynamodb, self.settings.table)
        owner, now = new_owner(), self.clock().timestamp()
        also = ((STALE, FAILED) if by_hand else ()) + ((QUEUED,) if resume else ())
        extra = {"send_id": item.send_id, "due": item.due.isoformat(), "by_hand": by_hand}
        if resume:
            extra["resumed"] = True
        if not markers.claim(marker_pk(item.campaign), item.marker, owner=owner, now=now,
                             lease=self.lease_seconds, also_from=also, attributes=extra):
            return Started(False)
        try:
            result = self._read(campaign)
        except _Gone as exc:
            markers.finish(marker_pk(item.campaign), item.marker, owner=owner, state=FAILED,
                           attributes={"reason": str(exc), "failed_at": self.clock().timestamp()})
            log.warning("scheduled mail failed", extra={"campaign": item.campaign, "marker": item.marker,
                                                        "code": exc.code})
            return Started(True, FAILED, reason=str(exc))
        recipients = list(result.recipients.values())
        ledger = Ledger(self.dynamodb, self.settings.table)
        suppressed = set(ledger.suppressed([r.key for r in recipients])) if recipients else set()
        delivered: set[str] = set()
        if item.only_undelivered:
            notice = str(campaign.get("send_id") or first_notice_send_id(item.incident, item.audience))
            delivered = {e["key"] for e in ledger.entries(notice) if e.get("state") == DELIVERED}
        chosen = [r for r in recipients if r.key not in suppressed and r.key not in delivered]
        header: dict[str, Any] = {"send_id": item.send_id, "campaign": item.campaign, "incident": item.incident,
                                  "audience": item.audience, "template": item.template}
        if item.update_id:
            header["update_id"] = item.update_id
        header["not_after"] = send_not_after(item, now, len(chosen), self.settings.max_send_rate,
                                             by_hand=by_hand or resume)  # staff chose to go on: width from now
        url = self.sqs.get_queue_url(QueueName=self.settings.send_queue)["QueueUrl"]
        queued = send_all(self.sqs, url, messages(header, (r.to_message() for r in chosen)))
        counts = {
            "recipients": len(chosen),
            "skipped_suppressed": sum(1 for r in recipients if r.key in suppressed),
            "skipped_delivered": sum(1 for r in recipients if r.key not in suppressed and r.key in delivered),
            "messages": queued,
        }
        markers.finish(marker_pk(item.campaign), item.marker, owner=owner, state=QUEUED,
                       attributes={**counts, "queued_at": self.clock().timestamp()})
        log.info("scheduled mail queued", extra={"campaign": item.campaign, "marker": item.marker, **counts})
        return Started(True, QUEUED, counts["recipients"], counts["skipped_suppressed"],
                       counts["skipped_delivered"], queued)

    def _read(self, campaign: dict[str, Any]):
        if campaign.get("purged_at"):
            raise _Gone("purged", "The uploaded file was deleted after the retention period.")
        try:  # access or throttling errors propagate: retried on the next tick once the lease runs out
            body = open_upload(self.s3, campaign.get("bucket") or self.settings.bucket, campaign.get("key", ""),
                               version=campaign.get("version", ""), etag=campaign.get("etag", ""))
        except UploadGone:
            raise _Gone("gone", "The uploaded file no longer exists (replaced by a newer upload and expired, "
                                "or deleted). Upload the list again to reach these people.") from None
        try:
            return read_recipients(body, max_bytes=self.settings.max_upload_bytes, hmac_key=self.settings.hmac_key)
        except UnusableFile as exc:
            raise _Gone(exc.code, f"The uploaded file cannot be read any more: {exc.reason}") from None
        finally:
            body.close()


def send_not_after(item: Scheduled, started: float, recipients: int, rate: float, *, by_hand: bool) -> int:
    """The latest instant (epoch seconds) a queued message of `item` may still be mailed.

    The follow-up's guard (`not_after`; an update's UPDATE_NOT_AFTER_HOURS), but never less than the time the
    queue needs at the SES rate plus a margin, so that a large send started just inside the guard is not cut
    off half-way. Started by hand (staff chose to send a stale one), the guard's width counts from the start.
    """
    window = (item.not_after - item.due).total_seconds()
    guard = started + window if by_hand else item.not_after.timestamp()
    needed = started + recipients / max(rate, 0.1) + SEND_MARGIN_SECONDS
    return int(max(guard, needed))


class _Gone(Exception):
    """The recipients cannot be read again: retrying will not help."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
