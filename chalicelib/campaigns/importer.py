"""An uploaded recipient file becomes a campaign: read, checked, reported, held or queued, exactly once.

Staff requests on the same queue: approve a held campaign, retry a failed import (the same file's notification
arriving again does the same), resume a campaign the sender stopped. Every one is safe to receive twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.campaigns import report
from chalicelib.campaigns.objects import open_upload
from chalicelib.campaigns.queueing import messages, send_all
from chalicelib.campaigns.store import APPROVED, FAILED, HELD, IMPORTING, QUEUED, STOPPED, TEST, CampaignStore
from chalicelib.campaigns.uploads import (
    Approval,
    BadKey,
    FollowupRun,
    LettersPosted,
    Redrive,
    Resume,
    Retry,
    StaffRequest,
    TestSend,
    Upload,
    parse_key,
)
from chalicelib.config import Settings
from chalicelib.content.model import Incident
from chalicelib.recipients import ImportResult, UnusableFile, read_recipients

log = logging.getLogger("notis.import")
MAX_TEST_SENDS_PER_HOUR = 5  # `notis test-send` is for checking the mail, never a way to mail a list


@dataclass
class Importer:
    s3: Any
    sqs: Any
    store: CampaignStore
    settings: Settings
    incidents: dict[str, Incident]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, item: Upload | StaffRequest, *, sender: str = "", message_id: str = "",
               sent_at: datetime | None = None) -> dict[str, Any]:
        """Act on one upload or staff request. `sender` is the SQS message's SenderId (set by SQS: who sent a
        staff request), `message_id` its SQS message id and `sent_at` its SentTimestamp (both the same on a
        redelivery)."""
        if isinstance(item, TestSend):
            return self.test_send(item)
        if isinstance(item, Approval | Retry | Resume | Redrive | FollowupRun | LettersPosted):
            campaign = self.store.get(item.campaign_id) or {}
            if campaign.get("kind") == TEST:
                log.info("staff request for a test send ignored", extra={"campaign": item.campaign_id})
                return {}
            self._audit_request(item, campaign, sender, message_id, sent_at)
        if isinstance(item, Redrive | FollowupRun | LettersPosted):
            return {}  # the command itself asked the tick, or recorded the batch; here only the audit trail
        if isinstance(item, Approval):
            return self.approved(item.campaign_id)
        if isinstance(item, Retry):
            return self.retry(item.campaign_id)
        if isinstance(item, Resume):
            return self.resume(item.campaign_id)
        return self.upload(item, message_id=message_id, sent_at=sent_at)

    def upload(self, upload: Upload, *, message_id: str = "", sent_at: datetime | None = None) -> dict[str, Any]:
        campaign_id = upload.campaign_id
        created_at = self._now()
        created = self.store.create(campaign_id, {
            "bucket": upload.bucket, "key": upload.key, "version": upload.version, "etag": upload.etag,
            "size": upload.size, "created_at": created_at,
        })
        # One audit record per notification, however often it is delivered: keyed by the SQS message (its id
        # and SentTimestamp stay the same on a redelivery), else by the campaign's creation time.
        delivered = (sent_at.isoformat(), f"upload-{message_id}") if sent_at and message_id else None
        if not created:
            existing = self.store.get(campaign_id) or {}
            state = existing.get("state")
            if state == FAILED:  # e.g. the incident was not deployed yet: the same file uploaded again imports
                if not self._restart(campaign_id, existing):
                    return self.store.get(campaign_id) or {}
                self._audit_upload(campaign_id, upload, *(delivered or (self._now(), None)))
            elif state != IMPORTING:
                log.info("upload already imported", extra={"campaign": campaign_id, "state": state})
                return existing
            else:
                log.warning("resuming an interrupted import", extra={"campaign": campaign_id})
                self._audit_upload(campaign_id, upload,
                                   *(delivered or (str(existing.get("created_at") or created_at), "upload")))
        else:
            self._audit_upload(campaign_id, upload, *(delivered or (created_at, "upload")))
        return self._import(campaign_id, upload)

    def _audit_request(self, item: Approval | Retry | Resume | Redrive | FollowupRun | LettersPosted,
                       campaign: dict[str, Any],
                       sender: str, message_id: str, sent_at: datetime | None) -> None:
        """The audit record of a staff request: who is the SQS SenderId (the IAM user's or role's unique id and
        session name, SQS API Reference, ReceiveMessage: not something the sender can choose), when it arrived,
        and the campaign's state then; one record per SQS message (its id and SentTimestamp make the sort key),
        however often it is delivered."""
        from chalicelib import audit

        action = {Approval: audit.APPROVE, Retry: audit.RETRY, Resume: audit.RESUME, Redrive: audit.REDRIVE,
                  FollowupRun: audit.FOLLOWUP_RUN, LettersPosted: audit.LETTERS_POSTED}[type(item)]
        details: dict[str, audit.Detail] = {"state": str(campaign.get("state") or "none")}
        if isinstance(item, FollowupRun):
            details["marker"] = item.marker
        if isinstance(item, LettersPosted):
            details |= {"send_id": item.send_id, "letters": item.letters, "people": item.people,
                        "posted_on": item.posted_on}
        if isinstance(item, Approval):
            counts = campaign.get("counts") if isinstance(campaign.get("counts"), dict) else {}
            details |= {name: int(counts.get(name) or 0) for name in ("rows", "deliverable", "rejected", "letters")}
        once = message_id if sent_at and message_id and audit.SAFE_NAME.match(message_id) else None
        audit.record(self.store.client, self.settings.table, action=action, campaign=item.campaign_id,
                     by=sender or "unknown (the message names no sender)", at=sent_at or self.clock(),
                     keep=audit.keep_days(self.incidents.get(str(campaign.get("incident") or ""))), details=details,
                     once=once)

    def _audit_upload(self, campaign_id: str, upload: Upload, at: str, once: str | None) -> None:
        """The audit record of an upload: who (the S3 event's principal), when, how big, for which incident and
        audience (when the key names them plainly); `once` keeps a redelivered notification to one record."""
        from chalicelib import audit

        details: dict[str, audit.Detail] = {"bytes": upload.size}
        try:
            slug, audience = parse_key(upload.key)
        except BadKey:
            slug = audience = ""
        details |= {name: value for name, value in (("incident", slug), ("audience", audience))
                    if value and audit.SAFE_NAME.match(value)}
        audit.record(self.store.client, self.settings.table, action=audit.UPLOAD, campaign=campaign_id,
                     by=upload.principal or "unknown (the S3 event names no principal)",
                     at=datetime.fromisoformat(at), keep=audit.keep_days(self.incidents.get(slug)),
                     details=details, once=once if once and audit.SAFE_NAME.match(once) else None)

    def retry(self, campaign_id: str) -> dict[str, Any]:
        """`notis retry`: import a failed campaign's file again from scratch; any other state: nothing."""
        campaign = self.store.get(campaign_id)
        if not campaign or campaign.get("state") != FAILED:
            log.info("retry ignored: the campaign is not failed",
                     extra={"campaign": campaign_id, "state": (campaign or {}).get("state")})
            return campaign or {}
        if not self._restart(campaign_id, campaign):
            return self.store.get(campaign_id) or {}
        return self._import(campaign_id, _upload_of(campaign))

    def _restart(self, campaign_id: str, campaign: dict[str, Any]) -> bool:
        """failed -> importing, the old outcome cleared; False when another delivery restarted it first."""
        restarted = self.store.update(
            campaign_id, {"state": IMPORTING, "retried_at": self._now(),
                          "previous_error_code": str(campaign.get("error_code") or "")},
            expect_state=FAILED, remove=("error", "error_code", "failed_at", "counts", "first_problems"),
        )
        log.info("re-importing a failed upload" if restarted else "failed upload already restarted",
                 extra={"campaign": campaign_id})
        return restarted

    def _import(self, campaign_id: str, upload: Upload) -> dict[str, Any]:
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
        result = self._read(_upload_of(campaign))
        return self._queue(campaign_id, campaign["incident"], campaign["audience"], result, expect=APPROVED)

    def resume(self, campaign_id: str) -> dict[str, Any]:
        """`notis resume`: a stopped campaign goes back to queued and its unsent mail is queued again.

        The first notice is queued again whole, and so is every follow-up or update notice that had been queued:
        the ledger claim per (send id, recipient) keeps everyone already mailed from a second e-mail. The record
        says `resume_pending` until everything is queued, so a crash half-way is finished by the retried message.
        """
        campaign = self.store.get(campaign_id)
        state = (campaign or {}).get("state")
        if campaign and state == STOPPED:
            if not self.store.update(campaign_id, {
                "state": QUEUED, "resumed_at": self._now(), "resume_pending": True,
                "last_stop_reason": str(campaign.get("stop_reason") or ""),
            }, expect_state=STOPPED, remove=("stop_reason",)):
                log.info("resume ignored: the campaign changed meanwhile", extra={"campaign": campaign_id})
                return self.store.get(campaign_id) or {}
        elif not (campaign and state == QUEUED and campaign.get("resume_pending")):
            log.info("resume ignored: the campaign is not stopped", extra={"campaign": campaign_id, "state": state})
            return campaign or {}
        try:
            result = self._read(_upload_of(campaign))
        except (UnusableFile, LookupError) as exc:  # the file is gone or changed: say so, stay stopped
            code = exc.code if isinstance(exc, UnusableFile) else type(exc).__name__
            self.store.update(campaign_id, {"state": STOPPED, "stop_reason": (
                "The campaign cannot be resumed: its uploaded file can no longer be read. Upload the list again "
                "to reach the people not yet mailed (nobody already mailed is mailed twice).")},
                remove=("resume_pending",))
            log.warning("resume failed: the file cannot be read", extra={"campaign": campaign_id, "code": code})
            return self.store.get(campaign_id) or {}
        queued, too_large = self._send_notice(campaign_id, campaign["incident"], campaign["audience"], result)
        followups = self._resume_followups(campaign_id)
        self.store.update(campaign_id, {"resumed_messages": queued}, remove=("resume_pending",))
        log.info("campaign resumed", extra={"campaign": campaign_id, "messages": queued, "too_large": too_large,
                                            "recipients": len(result.recipients), "followups": followups})
        return self.store.get(campaign_id) or {}

    def test_send(self, request: TestSend) -> dict[str, Any]:
        """`notis test-send`: one notice to one address, as its own record of kind `test` (never a campaign).

        Checked here, where staff cannot go around it: a published incident and audience, one valid address,
        at most MAX_TEST_SENDS_PER_HOUR a clock hour. A refusal is recorded on the record (state failed, the
        reason in words) and sends nothing. The record and the ledger keep the recipient key, never the address.
        """
        campaign_id = request.campaign_id
        created = self.store.create(campaign_id, {
            "kind": TEST, "incident": request.incident, "audience": request.audience, "send_id": request.send_id,
            "lang": request.lang, "created_at": self._now(),
        })
        if not created:
            existing = self.store.get(campaign_id) or {}
            if existing.get("kind") != TEST or existing.get("state") != IMPORTING:
                log.info("test send already handled", extra={"campaign": campaign_id, "state": existing.get("state")})
                return existing
        from chalicelib.recipients import InvalidEmail, normalise_email, recipient_key

        try:
            self._target(f"uploads/{request.incident}/{request.audience}/test-send")
            email = normalise_email(request.email)
        except (LookupError, InvalidEmail) as exc:
            return self._refuse_test(campaign_id, str(exc), type(exc).__name__)
        if created and not self._count_test_send():
            return self._refuse_test(campaign_id, (
                f"More than {MAX_TEST_SENDS_PER_HOUR} test sends this hour; nothing was sent. Try again next hour."),
                "TooManyTestSends")
        header = {"send_id": request.send_id, "campaign": campaign_id, "incident": request.incident,
                  "audience": request.audience, "template": "notice"}
        recipient = {"key": recipient_key(email, self.settings.hmac_key), "email": email, "names": [],
                     "lang": request.lang}
        queue_url = self.sqs.get_queue_url(QueueName=self.settings.send_queue)["QueueUrl"]
        queued = send_all(self.sqs, queue_url, messages(header, [recipient]))
        self.store.update(campaign_id, {"state": QUEUED, "queued_at": self._now(), "queued_messages": queued,
                                        "recipient": recipient["key"]}, expect_state=IMPORTING)
        log.info("test send queued", extra={"campaign": campaign_id, "send_id": request.send_id})
        return self.store.get(campaign_id) or {}

    def _refuse_test(self, campaign_id: str, reason: str, code: str) -> dict[str, Any]:
        self.store.update(campaign_id, {"state": FAILED, "error": reason, "error_code": code,
                                        "failed_at": self._now()}, expect_state=IMPORTING)
        log.warning("test send refused", extra={"campaign": campaign_id, "code": code})
        return self.store.get(campaign_id) or {}

    def _count_test_send(self) -> bool:
        """Count one test send in this clock hour; False when the hour's allowance is used up."""
        now = self.clock()
        client = self.store.client
        try:
            client.update_item(
                TableName=self.settings.table,
                Key={"pk": {"S": "testsends"}, "sk": {"S": now.strftime("%Y-%m-%dT%H")}},
                UpdateExpression="ADD sends :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(sends) OR sends < :max",
                ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": str(MAX_TEST_SENDS_PER_HOUR)},
                                           ":expires": {"N": str(int(now.timestamp()) + 2 * 86400)}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _resume_followups(self, campaign_id: str) -> int:
        """Start again every follow-up and update notice of the campaign whose marker says queued."""
        from chalicelib.followups.markers import Markers
        from chalicelib.followups.schedule import QUEUED as MARKER_QUEUED
        from chalicelib.followups.schedule import plan
        from chalicelib.followups.starter import Starter

        campaign = self.store.get(campaign_id) or {}
        markers = Markers(self.store.client, self.settings.table).load([campaign_id])
        items = [s for s in plan(self.incidents, [campaign], markers, self.clock()) if s.marker_state == MARKER_QUEUED]
        starter = Starter(self.s3, self.sqs, self.store.client, self.settings, clock=self.clock)
        return sum(1 for item in items if starter.start(item, campaign, resume=True).started)

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
        queued, too_large = self._send_notice(campaign_id, slug, audience, result)
        values: dict[str, Any] = {"state": QUEUED, "queued_at": self._now(), "queued_messages": queued,
                                  "send_id": first_notice_send_id(slug, audience)}
        if too_large:
            values["too_large"] = too_large
        self.store.update(campaign_id, values, expect_state=expect)
        log.info("campaign queued", extra={"campaign": campaign_id, "messages": queued,
                                           "recipients": len(result.recipients), "too_large": too_large})
        return self.store.get(campaign_id) or {}

    def _send_notice(self, campaign_id: str, slug: str, audience: str, result: ImportResult) -> tuple[int, int]:
        """Queue the first notice to every recipient: (messages queued, recipients too large for any message).

        The import's caps make the second number 0; if it is not, those people are named by key in the log
        (never by address) and left off, rather than stall the import on a message SQS refuses.
        """
        header = {"send_id": first_notice_send_id(slug, audience), "campaign": campaign_id, "incident": slug,
                  "audience": audience, "template": "notice"}
        queue_url = self.sqs.get_queue_url(QueueName=self.settings.send_queue)["QueueUrl"]
        too_large: list[str] = []
        bodies = messages(header, (r.to_message() for r in result.recipients.values()),
                          refused=lambda recipient: too_large.append(str(recipient.get("key", ""))))
        queued = send_all(self.sqs, queue_url, bodies)
        for key in too_large:
            log.error("recipient too large for a send message; not queued", extra={"campaign": campaign_id,
                                                                                  "recipient": key})
        return queued, len(too_large)

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


def _upload_of(campaign: dict[str, Any]) -> Upload:
    """The exact object a campaign was made from."""
    return Upload(campaign["bucket"], campaign["key"], campaign.get("version", ""), campaign.get("etag", ""),
                  int(campaign.get("size") or 0))


def first_notice_send_id(slug: str, audience: str) -> str:
    """docs/internals.md: `<incident>.<audience>.notice`."""
    return f"{slug}.{audience}.notice"
