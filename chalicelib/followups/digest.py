"""The daily digest to staff (plain text): progress per campaign, bounces, letters, dead letters, what comes next.

Counts only: a digest never holds an address, a name or a recipient key. Sent once a day from the first tick at
or after DIGEST_HOUR (UTC), guarded by a marker item (pk `digest`, sk the date) claimed with a lease, so two
ticks at once send one digest and a crash before sending lets a later tick send it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.followups.schedule import DUE, FAILED, STALE, STARTING, UPCOMING, Scheduled
from chalicelib.sending.status import progress_hint

DIGEST_HOUR = 6  # UTC: 07:00 or 08:00 in Sweden
UPCOMING_DAYS = 7


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str


def compose(
    now: datetime,
    campaigns: Iterable[Mapping[str, Any]],
    scheduled: Iterable[Scheduled],
    dead_letters: Mapping[str, int | None],
    stale_claims: Mapping[str, int] | None = None,
) -> Digest:
    """The digest text from plain values (campaign records, the schedule, DLQ depths, stale claims per send)."""
    campaigns = list(campaigns)
    scheduled = list(scheduled)
    lines = [f"notis daily digest, {now:%Y-%m-%d %H:%M} UTC", ""]
    lines.append("Campaigns")
    if not campaigns:
        lines.append("  none")
    for c in campaigns:
        counts = c.get("counts") or {}
        letters = int(counts.get("letters", 0) or 0) + int(c.get("mail_letters", 0) or 0)
        state = progress_hint(c) + (" (data purged)" if c.get("purged_at") else "")
        lines.append(f"  {c.get('campaign')}  {c.get('incident', '?')} / {c.get('audience', '?')}  {state}")
        lines.append(
            f"    e-mails {int(counts.get('deliverable', 0) or 0)}: sent {_n(c, 'sent')}, delivered "
            f"{_n(c, 'delivered')}, bounced {_n(c, 'bounced')}, complaints {_n(c, 'complained')}, "
            f"failed {_n(c, 'failed')}; letters needed {letters}; rejected rows {int(counts.get('rejected', 0) or 0)}"
        )
        if c.get("state") == "held":
            lines.append(f"    HELD: waiting for approval (notis approve {c.get('campaign')})")
    lines += ["", "Dead-letter queues (messages that failed every retry)"]
    for name, depth in dead_letters.items():
        lines.append(f"  {name}: {'unknown' if depth is None else depth}"
                     + ("  <- look at these, then: notis redrive" if depth else ""))
    if stale_claims:
        lines += ["", "Recipients claimed but not settled (their send-queue message is retrying or in the DLQ)"]
        for send_id, n in sorted(stale_claims.items()):
            lines.append(f"  {send_id}: {n}")
    attention = [s for s in scheduled if s.status in (STALE, FAILED)]
    if attention:
        lines += ["", "Follow-ups NOT sent automatically (start by hand: notis followups run ID --campaign C)"]
        lines += [f"  {_line(s)}" for s in attention]
    horizon = now + timedelta(days=UPCOMING_DAYS)
    coming = [s for s in scheduled if s.status in (UPCOMING, DUE, STARTING) and s.due <= horizon]
    lines += ["", f"Follow-ups and update notices in the next {UPCOMING_DAYS} days"]
    lines += [f"  {_line(s)}" for s in coming] or ["  none"]
    lines += ["", "Details: notis status, notis followups."]
    problems = sum(1 for v in dead_letters.values() if v) + len(attention)
    subject = "notis digest " + now.strftime("%Y-%m-%d") + (f": {problems} need attention" if problems else "")
    return Digest(subject=subject, text="\n".join(lines) + "\n")


def _n(campaign: Mapping[str, Any], name: str) -> int:
    return int(campaign.get(name, 0) or 0)


def _line(s: Scheduled) -> str:
    return (f"{s.marker} ({s.kind}, {s.template}) for {s.campaign} {s.incident}/{s.audience}: {s.status}, "
            f"due {s.due.astimezone(UTC):%Y-%m-%d %H:%M} UTC")


def is_digest_time(now: datetime) -> bool:
    return now.hour >= DIGEST_HOUR


def send(ses: Any, *, sender: str, to: str, digest: Digest) -> str:
    """Send through SES v2 as plain text; returns the message id. From and To as SES takes them: 7-bit ASCII,
    a display name RFC 2047-encoded, an IDN domain in punycode (the same rules as the notices)."""
    from chalicelib.mail.mime import sender_address
    from chalicelib.recipients.email import ses_destination

    out = ses.send_email(
        FromEmailAddress=sender_address(sender),
        Destination={"ToAddresses": [ses_destination(sender_address(to, "staff"))]},
        Content={"Simple": {"Subject": {"Data": digest.subject, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": digest.text, "Charset": "UTF-8"}}}},
    )
    return str(out.get("MessageId", ""))
