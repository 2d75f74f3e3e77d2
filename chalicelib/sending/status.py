"""The staff view of a send, computed from the campaign item and the ledger entries: plain values in and out.

Nothing here returns an address, a name or a personnummer: the ledger holds only recipient keys (keyed HMAC
pseudonyms), and the letter list, which must name people, is joined to the uploaded file by the CLI through
`letter_rows`. The ledger is the truth; the campaign item's atomic counters are only a fast progress hint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCEPTED = ("sent", "delivered", "bounced", "complained")  # SES took the message
RATE_WINDOW = 60.0
# The measured rate is trusted only after this many sends over this many seconds: at the start of a campaign one
# send in a 60-second window read as 1/60 per second and promised 1h22m for what took 100 s.
RATE_MIN_SENDS = 10
RATE_MIN_SECONDS = 10.0
# stored states with nothing on the send queue (a stopped campaign's messages are dropped until `notis resume`)
NOT_QUEUED = frozenset({"importing", "held", "approved", "failed", "stopped"})

_RESULT_STATES = (*ACCEPTED, "failed", "suppressed", "expired")


@dataclass(frozen=True)
class SendStatus:
    campaign: str
    incident: str
    audience: str
    state: str  # as stored: importing, queued, held, approved, failed
    progress: str  # derived: the stored state until queued, then queued -> sending -> done
    recipients: int  # deliverable addresses from the import
    queued: int  # on the send queue, not settled yet (0 unless the campaign was queued)
    sent: int  # accepted by SES (includes delivered, bounced, complained)
    delivered: int
    bounced: int
    complained: int
    failed: int
    suppressed: int  # not mailed: bounced or complained before (also when an earlier campaign found it so)
    already_notified: int  # settled by an earlier campaign of the same incident and audience
    expired: int  # not mailed: the message came after its not_after
    letters: int  # import letters + failed + bounced + suppressed after a bounce or a complaint
    in_flight: int  # claimed right now
    rate: float  # e-mails per second over the last minute (since sending started, when that is less)
    time_left: float | None  # seconds, an estimate: at the measured rate, or the configured one until measured
    started_at: float | None
    finished_at: float | None
    by_earlier: dict[str, int] = field(default_factory=dict)  # earlier campaign -> recipients it settled
    rate_source: str = "configured"  # what time_left assumes: "measured" or "configured"

    @property
    def done(self) -> bool:
        return self.progress == "done"

    @property
    def settled(self) -> int:
        return self.sent + self.failed + self.suppressed + self.already_notified + self.expired

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"done": self.done, "settled": self.settled}


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
    if state == "suppressed" and entry.get("reason") == "complaint":
        return "marked an earlier notice as spam: no more e-mail to this address"
    return None


@dataclass
class Tally:
    """Ledger entries of one send (and the campaign's `seen#` markers for it) added up."""

    states: Counter[str] = field(default_factory=Counter)
    letters: int = 0
    recent: int = 0
    first: float | None = None
    last: float | None = None
    by_earlier: Counter[str] = field(default_factory=Counter)

    def stamp(self, at: float | None, *, done: bool) -> None:
        if at is None:
            return
        self.first = at if self.first is None else min(self.first, at)
        if done:
            self.last = at if self.last is None else max(self.last, at)

    @property
    def settled(self) -> int:
        return sum(self.states[s] for s in (*_RESULT_STATES, "already_notified"))


def tally(entries: Iterable[dict[str, Any]], earlier: Iterable[dict[str, Any]] = (), *, now: float) -> Tally:
    """Count states; `earlier` are `seen#` markers (state = what the earlier campaign's entry said)."""
    t = Tally()
    for entry in entries:
        state = str(entry.get("state", ""))
        t.states[state] += 1
        if needs_letter(entry):
            t.letters += 1
        t.stamp(_epoch(entry.get("claimed_at")), done=False)
        done_at = _epoch(entry.get("sent_at") or entry.get("failed_at") or entry.get("at"))
        t.stamp(done_at, done=state != "claimed")
        if done_at is not None and state in ACCEPTED and now - RATE_WINDOW <= done_at <= now:
            t.recent += 1
    for marker in earlier:
        state = str(marker.get("state", ""))
        t.states[state if state in ("suppressed", "expired") else "already_notified"] += 1
        t.by_earlier[str(marker.get("by") or "unknown")] += 1
        t.stamp(_epoch(marker.get("at")), done=True)
    return t


def send_status(
    campaign_item: dict[str, Any],
    entries: Iterable[dict[str, Any]],
    *,
    now: float,
    configured_rate: float,
    earlier: Iterable[dict[str, Any]] = (),
) -> SendStatus:
    """Counts from the ledger and the campaign's `seen#` markers; rate from the last minute; time left from both.

    A recipient an earlier campaign of the same incident and audience already settled is settled here too
    (`already_notified`, or `suppressed`/`expired` as the earlier entry says): the ledger sends nobody twice.
    """
    t = tally(entries, earlier, now=now)
    states = t.states
    counts = campaign_item.get("counts") if isinstance(campaign_item.get("counts"), dict) else {}
    stored = str(campaign_item.get("state", ""))
    recipients = _num(counts, "deliverable") or t.settled + states["claimed"]
    if stored in NOT_QUEUED:
        queued, progress = 0, stored
    else:
        queued = max(0, recipients - t.settled - states["claimed"])
        remaining = queued + states["claimed"]
        progress = "done" if remaining == 0 else ("sending" if t.settled or states["claimed"] else "queued")
    rate, measured = measured_rate(t, now)
    remaining = queued + states["claimed"]
    speed = rate if measured else configured_rate
    started = _epoch(campaign_item.get("started_at"))
    started = t.first if started is None or (t.first is not None and t.first < started) else started
    if stored in NOT_QUEUED:
        time_left = None
    else:
        time_left = (remaining / speed) if remaining and speed > 0 else (0.0 if not remaining else None)
    return SendStatus(
        campaign=str(campaign_item.get("pk", "")).removeprefix("campaign#") or str(campaign_item.get("campaign", "")),
        incident=str(campaign_item.get("incident", "")),
        audience=str(campaign_item.get("audience", "")),
        state=stored,
        progress=progress,
        recipients=recipients,
        queued=queued,
        sent=sum(states[s] for s in ACCEPTED),
        delivered=states["delivered"],
        bounced=states["bounced"],
        complained=states["complained"],
        failed=states["failed"],
        suppressed=states["suppressed"],
        already_notified=states["already_notified"],
        expired=states["expired"],
        letters=_num(counts, "letters") + t.letters,
        in_flight=states["claimed"],
        rate=round(rate, 2),
        time_left=time_left,
        started_at=float(started) if started is not None else None,
        finished_at=t.last if progress == "done" else None,
        by_earlier=dict(t.by_earlier),
        rate_source="measured" if measured else "configured",
    )


def measured_rate(t: Tally, now: float) -> tuple[float, bool]:
    """E-mails per second over the last minute, or since the first claim when that is more recent; and whether
    enough sends were seen to estimate from it (else the configured rate is the better guess)."""
    since = now - RATE_WINDOW if t.first is None else max(now - RATE_WINDOW, min(t.first, now))
    elapsed = now - since
    if elapsed <= 0:
        return 0.0, False
    rate = t.recent / elapsed
    return rate, t.recent >= RATE_MIN_SENDS and elapsed >= RATE_MIN_SECONDS


def progress_hint(campaign_item: dict[str, Any]) -> str:
    """The derived progress from the campaign item's counters alone (the campaign list: no ledger read)."""
    stored = str(campaign_item.get("state", ""))
    if stored in NOT_QUEUED:
        return stored
    deliverable = _num(campaign_item.get("counts") or {}, "deliverable")
    settled = sum(_num(campaign_item, c) for c in ("sent", "failed", "suppressed", "already_notified", "expired"))
    if settled >= deliverable:
        return "done"
    return "sending" if settled else "queued"


@dataclass(frozen=True)
class ScheduledProgress:
    """One follow-up or update notice of a campaign, counted from its ledger entries (no personal data)."""

    marker: str
    send_id: str
    marker_state: str
    recipients: int
    sent: int
    failed: int
    suppressed: int
    already_notified: int
    expired: int
    in_flight: int

    @property
    def settled(self) -> int:
        return self.sent + self.failed + self.suppressed + self.already_notified + self.expired

    @property
    def queued(self) -> int:
        return max(0, self.recipients - self.settled - self.in_flight) if self.marker_state == "queued" else 0

    @property
    def done(self) -> bool:
        """Every recipient it was queued for is settled (the marker's count is what was queued)."""
        return self.marker_state == "queued" and self.in_flight == 0 and self.settled >= self.recipients

    def summary(self) -> str:
        """One plain line for staff: where it stands, from the ledger."""
        parts = [f"{self.sent} sent"]
        parts += [f"{n} {label}" for n, label in (
            (self.failed, "failed"), (self.suppressed, "suppressed"), (self.already_notified, "already notified"),
            (self.expired, "too late"), (self.in_flight, "in flight"), (self.queued, "queued")) if n]
        head = "done" if self.done else ("sending" if self.settled or self.in_flight else "queued")
        return f"{head}: {self.settled}/{self.recipients} settled ({', '.join(parts)})"


def scheduled_progress(
    marker: dict[str, Any], entries: Iterable[dict[str, Any]], earlier: Iterable[dict[str, Any]] = (), *, now: float
) -> ScheduledProgress:
    t = tally(entries, earlier, now=now)
    return ScheduledProgress(
        marker=str(marker.get("sk", "")),
        send_id=str(marker.get("send_id", "")),
        marker_state=str(marker.get("state", "")),
        recipients=_num(marker, "recipients"),
        sent=sum(t.states[s] for s in ACCEPTED),
        failed=t.states["failed"],
        suppressed=t.states["suppressed"],
        already_notified=t.states["already_notified"],
        expired=t.states["expired"],
        in_flight=t.states["claimed"],
    )


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None


NO_DELIVERY_EVENTS = (
    "This is the local stack: no SES delivery events are simulated, so 'delivered' stays 0 and a follow-up "
    "with only_undelivered would go to everyone."
)
PSEUDONYM = "HMAC-SHA256 of the normalised e-mail address under the deployment's secret key"


def _message_log(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message ids by pseudonym and time: what SES accepted (or refused), never an address."""
    return sorted(
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


def _file(item: dict[str, Any]) -> dict[str, Any]:
    """The uploaded file: where it was, when, and what the import found in it (counts only)."""
    counts = item.get("counts") if isinstance(item.get("counts"), dict) else {}
    key = str(item.get("key", ""))
    return {
        "bucket": str(item.get("bucket", "")),
        "key": key,
        "name": key.rsplit("/", 1)[-1],
        "version": str(item.get("version", "")),
        "size_bytes": _num(item, "size"),
        "uploaded_at": item.get("created_at"),
        "rows": _num(counts, "rows"),
        "e_mail_recipients": _num(counts, "deliverable"),
        "duplicates_merged": _num(counts, "duplicates"),
        "rejected": _num(counts, "rejected"),
        "warnings": _num(counts, "warnings"),
        "without_usable_address": _num(counts, "letters"),
    }


def history(item: dict[str, Any]) -> list[dict[str, Any]]:
    """What happened to the campaign and when, with who did it for staff actions (their AWS principal)."""
    found: list[dict[str, Any]] = []

    def add(at: Any, what: str, by: str, detail: str = "") -> None:
        if at:
            found.append({"at": str(at), "event": what, "by": by, "detail": detail})

    add(item.get("created_at"), "uploaded", "staff (the upload)")
    add(item.get("retried_at"), "import started again", "the import", str(item.get("previous_error_code") or ""))
    add(item.get("failed_at"), "import failed", "the import", str(item.get("error_code") or ""))
    if item.get("held_at"):
        add(item["held_at"], "held: too many rejected rows", "the import")
    add(item.get("queued_at"), "queued for sending", "the import")
    add(item.get("stopped_at"), "stopped", "the sender",
        str(item.get("stop_reason") or item.get("last_stop_reason") or ""))
    add(item.get("resumed_at"), "resumed", "the import")
    add(item.get("purged_at"), "file and reports deleted (retention)", "the scheduled handler")
    actions = item.get("staff_actions") if isinstance(item.get("staff_actions"), list) else []
    for action in actions:
        if isinstance(action, dict):
            add(action.get("at"), f"staff: {action.get('action', '?')}", str(action.get("by") or "unknown"))
    if not actions and item.get("approved_at"):
        add(item["approved_at"], "staff: approve", str(item.get("approved_by") or "unknown"))
    return sorted(found, key=lambda e: e["at"])


def _send_doc(marker: dict[str, Any], entries: list[dict[str, Any]], earlier: list[dict[str, Any]], *,
              now: float) -> dict[str, Any]:
    progress = scheduled_progress(marker, entries, earlier, now=now)
    t = tally(entries, earlier, now=now)
    sk = str(marker.get("sk", ""))
    return {
        "kind": "update notice" if sk.startswith("u-") else "follow-up",
        "id": sk,
        "send_id": progress.send_id,
        "state": progress.marker_state,
        "started_at": marker.get("queued_at") or marker.get("started_at"),
        "started_by_hand": bool(marker.get("by_hand")),
        "recipients": progress.recipients,
        "left_out_bounced_or_complained": _num(marker, "skipped_suppressed"),
        "left_out_already_delivered": _num(marker, "skipped_delivered"),
        "sent": progress.sent,
        "delivered": t.states["delivered"],
        "bounced": t.states["bounced"],
        "complained": t.states["complained"],
        "failed": progress.failed,
        "suppressed": progress.suppressed,
        "already_notified": progress.already_notified,
        "too_late": progress.expired,
        "not_yet_settled": progress.queued + progress.in_flight,
        "complete": progress.done,
        "letters": t.letters,
        "message_log": _message_log(entries),
    }


def evidence(
    campaign_item: dict[str, Any],
    entries: Iterable[dict[str, Any]],
    *,
    now: float,
    earlier: Iterable[dict[str, Any]] = (),
    sends: Iterable[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]] = (),
    purge: dict[str, Any] | None = None,
    local: bool = False,
    audit_trail: Iterable[dict[str, Any]] = (),
    posted: Iterable[dict[str, Any]] = (),
    letters_seen: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """What the supervisory authority asks for, without personal data: the file's counts, what happened when
    and by whom, and for the first notice and each follow-up or update notice (`sends`: marker, its ledger
    entries, its seen markers) the counts and the message-id log by pseudonym."""
    entries = list(entries)
    status = send_status(campaign_item, entries, now=now, configured_rate=0.0, earlier=earlier)
    followups = [_send_doc(marker, list(e), list(s), now=now) for marker, e, s in sends]
    batches = [_batch(b) for b in posted]  # `notis letters --mark-posted`: counts only
    by_letter = notified_by_letter(batches)
    earlier_letters = letters_earlier(letters_seen)  # posted with another campaign of the same send
    for f in followups:
        f["notified_by_letter"] = by_letter.get(f["send_id"], 0)
        f["notified_by_letter_earlier"] = sum(e["people"] for e in earlier_letters.get(f["send_id"], {}).values())
    first_send = str(campaign_item.get("send_id") or f"{status.incident}.{status.audience}.notice")
    first_earlier = earlier_letters.get(first_send, {})
    doc = {
        "campaign": status.campaign,
        "incident": status.incident,
        "audience": status.audience,
        "file": _file(campaign_item),
        "history": sorted(history(campaign_item) + [
            {"at": b["at"], "event": "staff: letters posted", "by": b["by"],
             "detail": f"{b['letters']} letter(s) to {b['people']} people, posted {b['posted_on']}, {b['send_id']}"}
            for b in batches], key=lambda e: e["at"]),
        "sending_started": _iso(status.started_at),
        "sending_ended": _iso(status.finished_at),
        "complete": status.done,
        "progress": status.progress,
        "recipients_with_address": status.recipients,
        "notified_by_email": status.sent,
        "delivered": status.delivered,
        "bounced": status.bounced,
        "complained": status.complained,
        "failed": status.failed,
        "not_mailed_suppressed": status.suppressed,
        "not_mailed_already_notified": status.already_notified,
        "already_notified_by_campaign": dict(sorted(status.by_earlier.items())),
        "not_mailed_expired": status.expired,
        "not_yet_settled": status.queued + status.in_flight,
        "letters": status.letters,
        "letters_needed": status.letters + sum(f["letters"] for f in followups),
        "letters_posted": sum(by_letter.values()) if batches else None,
        "notified_by_letter": by_letter.get(first_send, 0),
        "notified_by_letter_earlier": sum(e["people"] for e in first_earlier.values()),
        "letters_earlier_by_campaign": dict(sorted(first_earlier.items())),
        "letter_batches": batches,
        "sent_more_than_once_possible": sum(1 for e in entries if _num(e, "attempts") > 1),
        "message_log": _message_log(entries),
        "followups": followups,
        "purged_at": campaign_item.get("purged_at"),
        "purge": {"purged_at": purge.get("purged_at"), **{k: _num(purge, k) for k in (
            "upload_versions", "delete_markers", "report_objects")}} if purge else None,
        "pseudonym": PSEUDONYM,
        "audit_trail": [{k: row[k] for k in ("at", "action", "by", "details")} for row in audit_trail],
    }
    if local:
        doc["delivery_events_simulated"] = False
        doc["warning"] = NO_DELIVERY_EVENTS
    return doc


def _batch(record: dict[str, Any]) -> dict[str, Any]:
    return {"send_id": str(record.get("send_id", "")), "letters": _num(record, "letters"),
            "people": _num(record, "people"), "posted_on": str(record.get("posted_on", "")),
            "by": str(record.get("by") or "unknown"), "at": str(record.get("at", ""))}


def notified_by_letter(batches: Iterable[dict[str, Any]]) -> dict[str, int]:
    """People reached by letter per send id: the posted batches of each send added up (`notis letters
    --mark-posted` records only the households it posts for the first time)."""
    found: Counter[str] = Counter()
    for batch in batches:
        found[str(batch.get("send_id", ""))] += _num(batch, "people")
    return dict(found)


def letters_earlier(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """send id -> earlier campaign -> {households, people, posted_on}: this campaign's letter list that another
    campaign of the same send had already posted to (the `letterseen#` records, chalicelib/campaigns/posted.py)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        found.setdefault(str(r.get("send_id", "")), {})[str(r.get("earlier", ""))] = {
            "households": _num(r, "households"), "people": _num(r, "people"), "posted_on": str(r.get("posted_on", ""))}
    return found


def _log_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["sent_at\tstate\tmessage_id\treference\tattempts\tpseudonym"]
    for row in rows:
        lines.append(
            f"{row['sent_at'] or '-'}\t{row['state']}\t{row['message_id'] or '-'}\t{row['reference'] or '-'}"
            f"\t{row['attempts']}\t{row['pseudonym']}"
        )
    return lines


def rows_in_words(rows: int, emails: int, duplicates: int, letters: int, rejected: int, warnings: int) -> str:
    """Where every row of a file went, as a sum that adds up: an invalid address is a letter (and "rejected")."""
    invalid = f"; {rejected} of them an invalid address: rejected" if rejected else ""
    return (f"{rows} rows = {emails} e-mails + {duplicates} duplicates merged + {letters} letters (no usable e-mail "
            f"address{invalid}), {warnings} warnings")


def evidence_text(doc: dict[str, Any]) -> str:
    """The evidence as plain text for a report: the file, the history, each send's counts and message-id log."""
    f = doc["file"]
    lines = [f"Warning: {doc['warning']}", ""] if doc.get("warning") else []
    lines += [
        f"Campaign {doc['campaign']} ({doc['incident'] or '?'}, {doc['audience'] or '?'})",
        f"File:                  {f['name']} (s3://{f['bucket']}/{f['key']}), uploaded {f['uploaded_at'] or '-'}",
        "Rows in the file:      " + rows_in_words(f["rows"], f["e_mail_recipients"], f["duplicates_merged"],
                                                   f["without_usable_address"], f["rejected"], f["warnings"]),
        "History:",
        *(f"  {e['at']}  {e['event']}  by {e['by']}" + (f"  ({e['detail']})" if e["detail"] else "")
          for e in doc["history"]),
        "",
        "First notice",
        f"Sending started:       {doc['sending_started'] or '-'}",
        f"Progress:              {doc['progress']}",
        f"Sending ended:         {doc['sending_ended'] or ('-' if doc['complete'] else 'not yet')}",
        f"Recipients with address: {doc['recipients_with_address']}",
        f"Notified by e-mail:    {doc['notified_by_email']}",
        f"Delivered:             {doc['delivered']}",
        f"Bounced:               {doc['bounced']}",
        f"Complaints:            {doc['complained']}",
        f"Refused (permanent):   {doc['failed']}",
        f"Suppressed, not mailed: {doc['not_mailed_suppressed']}",
        f"Already notified by an earlier campaign, not mailed again: {doc['not_mailed_already_notified']}"
        + "".join(f"\n  by {c}: {n}" for c, n in doc["already_notified_by_campaign"].items()),
        f"Too late, not mailed:  {doc['not_mailed_expired']}",
        f"Not settled yet:       {doc['not_yet_settled']}",
        f"Letters needed:        {doc['letters']}",
        f"Notified by letter:    {doc.get('notified_by_letter', 0)}",
        f"Notified by letter with an earlier campaign, not posted again: {doc.get('notified_by_letter_earlier', 0)}"
        + "".join(f"\n  by {c}: {e['people']} ({e['households']} household(s), posted {e['posted_on']})"
                  for c, e in doc.get("letters_earlier_by_campaign", {}).items()),
        f"Pseudonym:             {doc['pseudonym']}",
        "",
        *_log_lines(doc["message_log"]),
    ]
    for s in doc["followups"]:
        lines += [
            "",
            f"{s['kind'].capitalize()} {s['id']} ({s['send_id']}): {s['state']}, started {s['started_at'] or '-'}"
            + (" by hand" if s["started_by_hand"] else ""),
            f"  queued for {s['recipients']}; left out {s['left_out_bounced_or_complained']} bounced or complained, "
            f"{s['left_out_already_delivered']} already delivered",
            f"  sent {s['sent']}, delivered {s['delivered']}, bounced {s['bounced']}, complaints {s['complained']}, "
            f"refused {s['failed']}, suppressed {s['suppressed']}, already notified {s['already_notified']}, "
            f"too late {s['too_late']}, not settled yet {s['not_yet_settled']}"
            + (", complete" if s["complete"] else ""),
            f"  letters needed {s['letters']}, notified by letter {s.get('notified_by_letter', 0)}"
            + (f", by letter with an earlier campaign {s['notified_by_letter_earlier']}"
               if s.get("notified_by_letter_earlier") else ""),
            *_log_lines(s["message_log"]),
        ]
    posted = "not recorded" if doc["letters_posted"] is None else str(doc["letters_posted"])
    lines += ["", f"Letters needed in all: {doc['letters_needed']}    posted: {posted}"]
    if doc["purge"]:
        p = doc["purge"]
        lines.append(f"Retention: file and reports deleted at {p.get('purged_at') or doc['purged_at']} "
                     f"({p.get('upload_versions', 0)} file version(s), {p.get('report_objects', 0)} report object(s))")
    elif doc["purged_at"]:
        lines.append(f"Retention: file and reports deleted at {doc['purged_at']}")
    else:
        lines.append("Retention: the file and reports are not deleted yet")
    from chalicelib.audit import describe

    lines += ["", "Audit trail (staff actions and scheduled runs that changed what is sent):"]
    lines += [f"  {describe(row)}" for row in doc.get("audit_trail", [])] or ["  none recorded"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class LetterRow:
    line: int
    name: str
    postal_address: str
    email: str
    reason: str
    lang: str | None = None  # the row's language cell, as the reader recognised it


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
        yield LetterRow(row.line, row.name or "", getattr(row, "postal_address", "") or "", raw, reason,
                        getattr(row, "lang", None))


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
