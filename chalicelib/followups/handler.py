"""The scheduled handler (EventBridge, every five minutes): follow-ups, update notices, retention, daily digest,
and the dead letters only it may put back (send messages staff asked to redrive, dead SES events).

Every step is safe to run twice or at the same time as another tick: starts and the digest go through
conditional marker writes, purges are idempotent. One failing campaign does not stop the others: its error
is logged (type only: an exception's text could quote a file name or a cell) and counted, and the next tick
tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib import audit
from chalicelib.config import Settings
from chalicelib.content.model import Incident
from chalicelib.followups import digest as D
from chalicelib.followups.schedule import (
    Scheduled,
    due_now,
    first_notice_send_id,
    first_sent_at,
    newly_stale,
    plan,
)

log = logging.getLogger("notis.followups")

SUMMARY_KEYS = ("followups_started", "updates_started", "recipients_queued", "failed", "stale", "by_hand",
                "purged", "digest_sent", "redriven", "events_replayed", "events_failing", "errors")


def handle_tick(
    settings: Settings,
    *,
    now: datetime | Callable[[], datetime] | None = None,
    dynamodb: Any = None,
    s3: Any = None,
    sqs: Any = None,
    ses: Any = None,
    incidents: Mapping[str, Incident] | None = None,
    lease_seconds: float | None = None,
) -> dict[str, int]:
    """Do what is due at `now`; return counts of what this invocation did (no personal data)."""
    from chalicelib import aws
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.followups.markers import Markers
    from chalicelib.followups.retention import Purger, due_for_purge
    from chalicelib.followups.starter import LEASE_SECONDS, Starter

    at = (now() if callable(now) else now) or datetime.now(UTC)
    if incidents is None:
        from chalicelib.content.published import published_incidents

        incidents = published_incidents()
    dynamodb = dynamodb or aws.client("dynamodb")
    s3 = s3 or aws.client("s3")
    sqs = sqs or aws.client("sqs")
    summary = dict.fromkeys(SUMMARY_KEYS, 0)

    campaigns = CampaignStore(dynamodb, settings.table).list()
    markers = Markers(dynamodb, settings.table)
    scheduled = plan(incidents, campaigns, markers.load(c["campaign"] for c in campaigns if first_sent_at(c)), at)
    by_campaign = {str(c["campaign"]): c for c in campaigns}
    starter = Starter(s3, sqs, dynamodb, settings, clock=lambda: at, lease_seconds=lease_seconds or LEASE_SECONDS)

    def start(item: Scheduled, by_hand: bool = False) -> None:
        result = starter.start(item, by_campaign[item.campaign], by_hand=by_hand)
        if not result.started:
            return
        _step(summary, "audit", item.campaign, lambda: _audit(
            dynamodb, settings, incidents, audit.FOLLOWUP_START, item.campaign, item.incident, at, {
                "marker": item.marker, "send_id": item.send_id, "by_hand": by_hand, "state": result.state,
                "recipients": result.recipients, "left_out_suppressed": result.skipped_suppressed,
                "left_out_delivered": result.skipped_delivered}))
        if result.state == "failed":
            summary["failed"] += 1
            return
        summary["updates_started" if item.update_id else "followups_started"] += 1
        summary["recipients_queued"] += result.recipients
        summary["by_hand"] += int(by_hand)

    done: set[tuple[str, str]] = set()
    for campaign in campaigns:  # starts staff asked for (notis followups run): before the schedule
        for marker in sorted(campaign.get("run_requests") or ()):
            item = next((s for s in scheduled if (s.campaign, s.marker) == (campaign["campaign"], marker)), None)
            _step(summary, "by-hand start", campaign["campaign"], lambda i=item: i and start(i, by_hand=True))
            done.add((campaign["campaign"], marker))
            _step(summary, "by-hand request", campaign["campaign"],
                  lambda c=campaign["campaign"], m=marker: _drop_request(dynamodb, settings.table, c, m))
    for item in due_now(scheduled):
        if (item.campaign, item.marker) not in done:
            _step(summary, "start", item.campaign, lambda i=item: start(i))
    for item in newly_stale(scheduled):
        _step(summary, "stale", item.campaign, lambda i=item: _mark_stale(markers, i, at, summary))

    for campaign in campaigns:  # redrives staff asked for (notis redrive): the tick writes the send queue, staff don't
        if campaign.get("redrive_requested") is not None:
            _step(summary, "redrive", campaign["campaign"],
                  lambda c=campaign: _redrive(dynamodb, sqs, settings, c, summary, incidents=incidents, at=at))
    _step(summary, "dead SES events", "-", lambda: _replay_ses_events(sqs, settings, summary))

    purger = Purger(s3, dynamodb, settings.table)
    for campaign in due_for_purge(campaigns, incidents, at):
        counts: dict[str, int] = {}
        _step(summary, "purge", campaign["campaign"], lambda c=campaign, n=counts: n.update(_purge(purger, c, at,
                                                                                                  summary)))
        if counts:
            _step(summary, "audit", campaign["campaign"], lambda c=campaign, n=counts: _audit(
                dynamodb, settings, incidents, audit.PURGE, c["campaign"], c.get("incident"), at, n))
    if settings.staff_email and D.is_digest_time(at):
        _step(summary, "digest", "-", lambda: _digest(settings, at, dynamodb, sqs, ses, markers, incidents,
                                                       summary))
    log.info("tick", extra=summary)
    return summary


def _step(summary: dict[str, int], what: str, campaign: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # one campaign's trouble must not stop the rest
        summary["errors"] += 1
        log.error("tick step failed; retried on the next tick",
                  extra={"step": what, "campaign": campaign, "error": type(exc).__name__})


def _purge(purger: Any, campaign: dict[str, Any], at: datetime, summary: dict[str, int]) -> dict[str, int]:
    counts = purger.purge(campaign, at)
    summary["purged"] += 1
    return counts


def _audit(dynamodb: Any, settings: Settings, incidents: Mapping[str, Incident], action: str, campaign: str,
           incident: Any, at: datetime, details: Mapping[str, Any]) -> None:
    """Record what this scheduled run did to what is sent, in the audit trail (who: this function's name)."""
    audit.record(dynamodb, settings.table, action=action, campaign=campaign, by=audit.scheduled_actor(), at=at,
                 keep=audit.keep_days(incidents.get(str(incident or ""))), details=details)


def _mark_stale(markers: Any, item: Scheduled, at: datetime, summary: dict[str, int]) -> None:
    from chalicelib.followups.markers import marker_pk

    if markers.mark_stale(marker_pk(item.campaign), item.marker, now=at.timestamp(),
                          attributes={"send_id": item.send_id, "due": item.due.isoformat(),
                                      "not_after": item.not_after.isoformat()}):
        summary["stale"] += 1
        log.warning("scheduled mail overdue past its guard: not sent, staff told",
                    extra={"campaign": item.campaign, "marker": item.marker})


def _redrive(dynamodb: Any, sqs: Any, settings: Settings, campaign: dict[str, Any], summary: dict[str, int], *,
             incidents: Mapping[str, Incident], at: datetime) -> None:
    from chalicelib.campaigns.store import campaign_key
    from chalicelib.followups.redrive import move_campaign

    dlq = sqs.get_queue_url(QueueName=settings.send_dlq)["QueueUrl"]
    queue = sqs.get_queue_url(QueueName=settings.send_queue)["QueueUrl"]
    moved, _others = move_campaign(sqs, dlq, queue, str(campaign["campaign"]))
    summary["redriven"] += moved
    _step(summary, "audit", str(campaign["campaign"]), lambda: _audit(
        dynamodb, settings, incidents, audit.REDRIVEN, str(campaign["campaign"]), campaign.get("incident"),
        at, {"messages_moved": moved}))
    try:  # done: drop the request, unless staff asked again meanwhile (then the next tick looks again)
        dynamodb.update_item(TableName=settings.table, Key=campaign_key(str(campaign["campaign"])),
                             UpdateExpression="REMOVE redrive_requested",
                             ConditionExpression="redrive_requested = :asked",
                             ExpressionAttributeValues={":asked": {"N": str(campaign["redrive_requested"])}})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass
    log.info("redriven", extra={"campaign": campaign["campaign"], "moved": moved})


def _replay_ses_events(sqs: Any, settings: Settings, summary: dict[str, int]) -> None:
    from chalicelib.followups.redrive import replay_ses_events
    from chalicelib.handlers import handle_ses_event

    for name in (settings.events_dlq, settings.events_failed_queue):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        replayed, failing = replay_ses_events(sqs, url, lambda event: handle_ses_event(event, settings))
        summary["events_replayed"] += replayed
        summary["events_failing"] += failing


def _drop_request(dynamodb: Any, table: str, campaign: str, marker: str) -> None:
    from chalicelib.campaigns.store import campaign_key

    dynamodb.update_item(TableName=table, Key=campaign_key(campaign), UpdateExpression="DELETE run_requests :m",
                         ExpressionAttributeValues={":m": {"SS": [marker]}})


def _digest(settings: Settings, at: datetime, dynamodb: Any, sqs: Any, ses: Any, markers: Any,
            incidents: Mapping[str, Incident], summary: dict[str, int]) -> None:
    from chalicelib import aws
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.followups.claims import count_stale
    from chalicelib.followups.markers import DIGEST_PK, SENT, new_owner

    owner, day = new_owner(), at.strftime("%Y-%m-%d")
    if not markers.claim(DIGEST_PK, day, owner=owner, now=at.timestamp(), lease=15 * 60.0):
        return
    campaigns = CampaignStore(dynamodb, settings.table).list()  # fresh: after this tick's starts and purges
    scheduled = plan(incidents, campaigns, markers.load(c["campaign"] for c in campaigns if first_sent_at(c)), at)
    send_ids = [str(c.get("send_id") or first_notice_send_id(c.get("incident", ""), c.get("audience", "")))
                for c in campaigns if first_sent_at(c)]
    send_ids += [s.send_id for s in scheduled if s.marker_state in ("queued", "starting")]
    text = D.compose(at, campaigns, scheduled, _dead_letters(sqs, settings),
                     count_stale(dynamodb, settings.table, send_ids, at.timestamp()))
    message_id = D.send(ses or aws.client("sesv2"), sender=settings.sender, to=settings.staff_email, digest=text)
    markers.finish(DIGEST_PK, day, owner=owner, state=SENT, attributes={"message_id": message_id})
    summary["digest_sent"] += 1


def _dead_letters(sqs: Any, settings: Settings) -> dict[str, int | None]:
    depths: dict[str, int | None] = {}
    for label, name in (("send", settings.send_dlq), ("import", settings.import_dlq)):
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            depths[f"{label} ({name})"] = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
        except Exception:  # say "unknown" in the digest rather than send none
            depths[f"{label} ({name})"] = None
    return depths
