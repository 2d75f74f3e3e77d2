"""The staff view of a send, computed from the campaign item and the ledger entries: plain values in and out.

Nothing here returns an address, a name or a personnummer: the ledger holds only recipient keys (keyed HMAC
pseudonyms), and the letter list, which must name people, is joined to the uploaded file by the CLI through
`letter_rows`. The ledger is the truth; the campaign item's atomic counters are only a fast progress hint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

ACCEPTED = ("sent", "delivered", "bounced", "complained")  # SES took the message
RATE_WINDOW = 60.0


@dataclass(frozen=True)
class SendStatus:
    campaign: str
    incident: str
    audience: str
    state: str
    recipients: int  # deliverable addresses from the import
    queued: int  # not settled yet
    sent: int  # accepted by SES (includes delivered, bounced, complained)
    delivered: int
    bounced: int
    complained: int
    failed: int
    suppressed: int
    letters: int  # import letters + failed + bounced + suppressed after a bounce
    in_flight: int  # claimed right now
    rate: float  # e-mails per second over the last minute
    time_left: float | None  # seconds, at the current rate (or the configured one when idle)
    started_at: float | None
    finished_at: float | None

    @property
    def done(self) -> bool:
        return self.queued == 0 and self.in_flight == 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"done": self.done}


def _num(item: dict[str, Any], name: str) -> int:
    value = _epoch(item.get(name, 0))
    return int(value) if value is not None else 0


def _epoch(value: Any) -> float | None:
    """A number (int, float, Decimal from DynamoDB) or an ISO 8601 string -> float; anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def needs_letter(entry: dict[str, Any]) -> str | None:
    """Why this ledger entry's person needs a letter, or None."""
    state = entry.get("state")
    if state == "failed":
        return "e-mail refused: " + str(entry.get("reason") or "permanent error")
    if state == "bounced":
        return "e-mail bounced (" + str(entry.get("bounce_type") or "unknown") + ")"
    if state == "suppressed" and entry.get("reason") == "bounce":
        return "address bounced earlier"
    return None


def send_status(
    campaign_item: dict[str, Any],
    entries: Iterable[dict[str, Any]],
    *,
    now: float,
    configured_rate: float,
) -> SendStatus:
    """Counts from the ledger; the rate from the last minute's sent_at stamps; time left from both."""
    states: Counter[str] = Counter()
    letters = 0
    recent = 0
    first: float | None = None
    last: float | None = None
    for entry in entries:
        state = str(entry.get("state", ""))
        states[state] += 1
        if needs_letter(entry):
            letters += 1
        claimed = _epoch(entry.get("claimed_at"))
        if claimed is not None:
            first = claimed if first is None else min(first, claimed)
        done_at = _epoch(entry.get("sent_at") or entry.get("failed_at"))
        if done_at is not None:
            last = done_at if last is None else max(last, done_at)
            if state in ACCEPTED and now - RATE_WINDOW <= done_at <= now:
                recent += 1
    counts = campaign_item.get("counts") if isinstance(campaign_item.get("counts"), dict) else {}
    settled = sum(states[s] for s in (*ACCEPTED, "failed", "suppressed"))
    recipients = _num(counts, "deliverable") or settled + states["claimed"]
    queued = max(0, recipients - settled - states["claimed"])
    rate = recent / RATE_WINDOW
    remaining = queued + states["claimed"]
    speed = rate or configured_rate
    started = _epoch(campaign_item.get("started_at"))
    started = first if started is None or (first is not None and first < started) else started
    return SendStatus(
        campaign=str(campaign_item.get("pk", "")).removeprefix("campaign#"),
        incident=str(campaign_item.get("incident", "")),
        audience=str(campaign_item.get("audience", "")),
        state=str(campaign_item.get("state", "")),
        recipients=recipients,
        queued=queued,
        sent=sum(states[s] for s in ACCEPTED),
        delivered=states["delivered"],
        bounced=states["bounced"],
        complained=states["complained"],
        failed=states["failed"],
        suppressed=states["suppressed"],
        letters=_num(counts, "letters") + letters,
        in_flight=states["claimed"],
        rate=round(rate, 2),
        time_left=(remaining / speed) if remaining and speed > 0 else (0.0 if not remaining else None),
        started_at=float(started) if started is not None else None,
        finished_at=last if remaining == 0 and last is not None else None,
    )


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None


def evidence(campaign_item: dict[str, Any], entries: Iterable[dict[str, Any]], *, now: float) -> dict[str, Any]:
    """What the supervisory authority asks for, without personal data: times, counts, message ids by pseudonym."""
    entries = list(entries)
    status = send_status(campaign_item, entries, now=now, configured_rate=0.0)
    log = sorted(
        (
            {
                "pseudonym": str(e.get("key", "")),
                "state": str(e.get("state", "")),
                "message_id": str(e.get("message_id", "")),
                "reference": str(e.get("reference", "")),
                "sent_at": _iso(_epoch(e.get("sent_at"))),
                "attempts": _num(e, "attempts"),
            }
            for e in entries
            if e.get("state") in (*ACCEPTED, "failed")
        ),
        key=lambda row: (row["sent_at"] or "", row["pseudonym"]),
    )
    return {
        "campaign": status.campaign,
        "incident": status.incident,
        "audience": status.audience,
        "sending_started": _iso(status.started_at),
        "sending_ended": _iso(status.finished_at),
        "complete": status.done,
        "recipients_with_address": status.recipients,
        "notified_by_email": status.sent,
        "delivered": status.delivered,
        "bounced": status.bounced,
        "complained": status.complained,
        "failed": status.failed,
        "not_mailed_suppressed": status.suppressed,
        "letters": status.letters,
        "sent_more_than_once_possible": sum(1 for e in entries if _num(e, "attempts") > 1),
        "message_log": log,
        "pseudonym": "HMAC-SHA256 of the normalised e-mail address under the deployment's secret key",
    }


def evidence_text(doc: dict[str, Any]) -> str:
    """The evidence as plain text for a report: the summary, then the message-id log."""
    lines = [
        f"Campaign {doc['campaign']} ({doc['incident']}, {doc['audience']})",
        f"Sending started:       {doc['sending_started'] or '-'}",
        f"Sending ended:         {doc['sending_ended'] or ('-' if doc['complete'] else 'still sending')}",
        f"Recipients with address: {doc['recipients_with_address']}",
        f"Notified by e-mail:    {doc['notified_by_email']}",
        f"Delivered:             {doc['delivered']}",
        f"Bounced:               {doc['bounced']}",
        f"Complaints:            {doc['complained']}",
        f"Refused (permanent):   {doc['failed']}",
        f"Suppressed, not mailed: {doc['not_mailed_suppressed']}",
        f"Letters needed:        {doc['letters']}",
        f"Pseudonym:             {doc['pseudonym']}",
        "",
        "sent_at\tstate\tmessage_id\treference\tattempts\tpseudonym",
    ]
    for row in doc["message_log"]:
        lines.append(
            f"{row['sent_at'] or '-'}\t{row['state']}\t{row['message_id'] or '-'}\t{row['reference'] or '-'}"
            f"\t{row['attempts']}\t{row['pseudonym']}"
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class LetterRow:
    line: int
    name: str
    postal_address: str
    email: str
    reason: str


def letter_rows(
    rows: Iterable[Any], letter_keys: dict[str, str], key_of: Callable[[str], str | None]
) -> Iterator[LetterRow]:
    """Rows of the uploaded file whose person needs a letter: no usable address, or a key on the letter list.

    `rows` are chalicelib.recipients Rows; `key_of(raw_email)` is the recipient key, None when unusable.
    """
    for row in rows:
        raw = (row.email or "").strip()
        key = key_of(raw) if raw else None
        if key is None:
            reason = "no e-mail address" if not raw else "unusable e-mail address"
        elif key in letter_keys:
            reason = letter_keys[key]
        else:
            continue
        yield LetterRow(row.line, row.name or "", getattr(row, "postal_address", "") or "", raw, reason)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
