"""Which follow-ups and update notices are due, for which campaign, at a given instant. Pure: no AWS.

A *scheduled mail* is one (campaign, follow-up) or (campaign, update) pair. Its marker id is the suffix of its
send id, `f-<follow-up-id>` or `u-<update-id>`, so follow-up and update ids can never collide. Its status:

- `upcoming`: not due yet (never sent early);
- `due`: due and within its "not after" guard: the handler starts it (also a `starting` marker whose lease ran
  out, i.e. a start that crashed: re-driven; the ledger keeps every e-mail exactly once anyway);
- `stale`: overdue by more than the guard and never started: not sent automatically (never mail a stale notice
  after an outage); staff are told and may start it by hand (`notis followups run`);
- `starting`, `queued`, `failed`: what the marker says;
- `not-applicable`: the campaign's first notice went out after the follow-up's fixed time or after the
  update. The first notice carries the newest update (chalicelib/mail), so its readers learn it there and get
  no separate update notice; `reason` says so in words staff understand;
- `purged`: the campaign's file was deleted after the retention period: nothing left to send to.

"First send" is the campaign's `queued_at`: when its first notice was put on the send queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.content.model import FollowUp, Incident, Update

UPDATE_NOT_AFTER_HOURS = 24.0  # an update notice more than a day late is stale: the page has moved on
SENT_STATES = frozenset({"queued", "sending", "done"})  # the campaign's first notice was queued

UPCOMING, DUE, STALE, NOT_APPLICABLE, PURGED = "upcoming", "due", "stale", "not-applicable", "purged"
STARTING, QUEUED, FAILED = "starting", "queued", "failed"


@dataclass(frozen=True)
class Scheduled:
    """One follow-up or update notice for one campaign, and where it stands at `now`."""

    campaign: str
    incident: str
    audience: str
    marker: str  # f-<follow-up id> | u-<update id>
    template: str
    update_id: str | None
    due: datetime
    not_after: datetime
    only_undelivered: bool
    status: str
    fixed_time: bool = False  # at a fixed date-time (a follow-up's `at`, an update), not after the first send
    marker_state: str | None = None
    reason: str = ""  # why it is not sent, in plain words (for `not-applicable`); shown next to the status

    @property
    def send_id(self) -> str:
        return send_id(self.incident, self.audience, self.marker)

    @property
    def kind(self) -> str:
        return "update" if self.update_id else "follow-up"


def send_id(incident: str, audience: str, marker: str) -> str:
    """docs/internals.md: `<incident>.<audience>.f-<follow-up-id>` / `.u-<update-id>`."""
    return f"{incident}.{audience}.{marker}"


def first_notice_send_id(incident: str, audience: str) -> str:
    return f"{incident}.{audience}.notice"


def parse_time(value: Any) -> datetime | None:
    """A stored ISO timestamp (the campaign's queued_at, created_at) -> aware datetime, None if unusable."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def first_sent_at(campaign: Mapping[str, Any]) -> datetime | None:
    """When the campaign's first notice was queued, or None when it never was (held, failed, importing)."""
    if campaign.get("state") not in SENT_STATES:
        return None
    return parse_time(campaign.get("queued_at"))


def plan(
    incidents: Mapping[str, Incident],
    campaigns: Iterable[Mapping[str, Any]],
    markers: Mapping[tuple[str, str], Mapping[str, Any]],
    now: datetime,
) -> list[Scheduled]:
    """Every scheduled mail of every campaign whose first notice went out, with its status at `now`.

    `markers` maps (campaign id, marker id) to the marker item (state, lease_until as epoch seconds).
    """
    result: list[Scheduled] = []
    for campaign in campaigns:
        incident = incidents.get(str(campaign.get("incident", "")))
        base = first_sent_at(campaign)
        if incident is None or base is None:
            continue
        audience = str(campaign.get("audience", ""))
        cid = str(campaign.get("campaign", ""))
        purged = bool(campaign.get("purged_at"))
        for followup in incident.followups:
            if followup.audience == audience:
                item = _followup(cid, incident.slug, followup, base)
                result.append(_with_status(item, base, purged, markers.get((cid, item.marker)), now))
        carried = _newest_before(incident.updates, base)
        for update in incident.updates:
            if audience in update.notify:
                item = _update(cid, incident.slug, audience, update)
                item = _with_status(item, base, purged, markers.get((cid, item.marker)), now)
                result.append(_explained(item, carried))
    return sorted(result, key=lambda s: (s.due, s.campaign, s.marker))


def due_now(scheduled: Iterable[Scheduled]) -> list[Scheduled]:
    return [s for s in scheduled if s.status == DUE]


def newly_stale(scheduled: Iterable[Scheduled]) -> list[Scheduled]:
    """Stale and not yet recorded as such (the marker makes staff hear of it once, and blocks a late start).

    Includes a crashed start (`starting`, lease run out) that is now past its guard: staff decide.
    """
    return [s for s in scheduled if s.status == STALE and s.marker_state != STALE]


def _followup(campaign: str, incident: str, f: FollowUp, base: datetime) -> Scheduled:
    due = f.at if f.at is not None else base + timedelta(hours=f.after_first_send_hours or 0.0)
    return Scheduled(
        campaign=campaign, incident=incident, audience=f.audience, marker=f"f-{f.id}", template=f.template,
        update_id=None, due=due, not_after=due + timedelta(hours=f.not_after_hours),
        only_undelivered=f.only_undelivered, status=UPCOMING, fixed_time=f.at is not None,
    )


def _update(campaign: str, incident: str, audience: str, u: Update) -> Scheduled:
    return Scheduled(
        campaign=campaign, incident=incident, audience=audience, marker=f"u-{u.id}", template="update",
        update_id=u.id, due=u.at, not_after=u.at + timedelta(hours=UPDATE_NOT_AFTER_HOURS),
        only_undelivered=False, status=UPCOMING, fixed_time=True,
    )


def _with_status(
    item: Scheduled, base: datetime, purged: bool, marker: Mapping[str, Any] | None, now: datetime
) -> Scheduled:
    state = str(marker.get("state")) if marker else None
    reason = ""
    if state in (QUEUED, FAILED, STALE):
        status = state
    elif state == STARTING and float(marker.get("lease_until", 0) or 0) > now.timestamp():
        status = STARTING
    elif purged:
        status = PURGED
    elif item.fixed_time and item.due < base and state is None:
        # the first notice was queued after this mail's time: it already carried what this one would say
        status = NOT_APPLICABLE
        reason = "not sent: its time had passed when this campaign's first notice went out"
    elif now < item.due:
        status = UPCOMING
    elif now > item.not_after:
        status = STALE
    else:
        status = DUE  # due, or a crashed start (`starting`, lease expired) to re-drive
    return replace(item, status=status, marker_state=state, reason=reason)


def _newest_before(updates: Iterable[Update], base: datetime) -> Update | None:
    """The update a first notice queued at `base` carried: the newest one published before it."""
    return max((u for u in updates if u.at < base), key=lambda u: u.at, default=None)


def _explained(item: Scheduled, carried: Update | None) -> Scheduled:
    """An update notice not sent because the first notice came later: say that the notice carried the news."""
    if item.status != NOT_APPLICABLE:
        return item
    if carried is None or carried.id == item.update_id:
        reason = "not sent: published before this campaign's first notice, which already carries it"
    else:
        reason = (f"not sent: published before this campaign's first notice, which carries the newer update "
                  f"{carried.id!r}; this one is on the page")
    return replace(item, reason=reason)
