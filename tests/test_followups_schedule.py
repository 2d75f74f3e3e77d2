"""The pure schedule: due exactly between its time and its guard, never early, never late, markers respected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from followups_helpers import T0, incident, update
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.content.model import FollowUp
from chalicelib.followups.digest import compose
from chalicelib.followups.schedule import DUE, NOT_APPLICABLE, PURGED, STALE, UPCOMING, newly_stale, plan

CAMPAIGN = {"campaign": "c" + "0" * 20, "incident": "korkortsportalen-2024", "audience": "customers",
            "state": "queued", "queued_at": T0.isoformat()}


def one(inc, now, campaign=CAMPAIGN, markers=None):
    [item] = plan({inc.slug: inc}, [campaign], markers or {}, now)
    return item


@given(offset=st.floats(0, 24 * 60), guard=st.floats(0, 24 * 14), minutes=st.integers(-10**6, 10**6))
def test_due_exactly_between_its_time_and_its_guard(offset, guard, minutes):
    f = FollowUp(id="f", audience="customers", template="reminder", after_first_send_hours=offset,
                 not_after_hours=guard)
    due = T0 + timedelta(hours=offset)
    now = due + timedelta(minutes=minutes)
    item = one(incident((f,)), now)
    assert item.due == due and item.send_id == "korkortsportalen-2024.customers.f-f"
    expected = UPCOMING if now < due else STALE if now > due + timedelta(hours=guard) else DUE
    assert item.status == expected


@given(state=st.sampled_from(["queued", "failed", "stale"]), minutes=st.integers(-10**5, 10**5))
def test_a_marker_decides_once_written(state, minutes):
    f = FollowUp(id="f", audience="customers", template="reminder", after_first_send_hours=1)
    item = one(incident((f,)), T0 + timedelta(hours=1, minutes=minutes),
               markers={(CAMPAIGN["campaign"], "f-f"): {"state": state}})
    assert item.status == state


def test_a_crashed_start_is_due_again_only_after_its_lease():
    f = FollowUp(id="f", audience="customers", template="reminder", after_first_send_hours=1)
    now = T0 + timedelta(hours=2)
    live = {(CAMPAIGN["campaign"], "f-f"): {"state": "starting", "lease_until": now.timestamp() + 1}}
    dead = {(CAMPAIGN["campaign"], "f-f"): {"state": "starting", "lease_until": now.timestamp() - 1}}
    assert one(incident((f,)), now, markers=live).status == "starting"
    assert one(incident((f,)), now, markers=dead).status == DUE
    late = T0 + timedelta(days=3)
    item = one(incident((f,)), late, markers=dead)
    assert item.status == STALE and newly_stale([item]) == [item], "past the guard: staff decide"


def test_fixed_time_followups_and_updates_before_the_first_notice_do_not_apply():
    before = FollowUp(id="f", audience="customers", template="reminder", at=T0 - timedelta(minutes=1))
    after = FollowUp(id="g", audience="customers", template="reminder", at=T0 + timedelta(days=1))
    inc = incident((before, after), (update("u", T0 - timedelta(hours=1)),))
    statuses = {s.marker: s.status for s in plan({inc.slug: inc}, [CAMPAIGN], {}, T0 + timedelta(days=1))}
    assert statuses == {"f-f": NOT_APPLICABLE, "f-g": DUE, "u-u": NOT_APPLICABLE}


def test_other_audiences_unsent_and_purged_campaigns():
    f = FollowUp(id="f", audience="schools", template="reminder", after_first_send_hours=1)
    g = FollowUp(id="g", audience="customers", template="reminder", after_first_send_hours=1)
    inc = incident((f, g), (update("u", T0 + timedelta(hours=1), notify=("schools",)),))
    now = T0 + timedelta(hours=2)
    assert [s.marker for s in plan({inc.slug: inc}, [CAMPAIGN], {}, now)] == ["f-g"]
    for state in ("held", "failed", "importing", "approved"):
        assert plan({inc.slug: inc}, [{**CAMPAIGN, "state": state}], {}, now) == []
    assert plan({}, [CAMPAIGN], {}, now) == [], "unknown incident: nothing"
    assert plan({inc.slug: inc}, [{**CAMPAIGN, "queued_at": "not a time"}], {}, now) == []
    [item] = plan({inc.slug: inc}, [{**CAMPAIGN, "purged_at": now.isoformat()}], {}, now)
    assert item.status == PURGED


def test_digest_text_holds_counts_not_people():
    f = FollowUp(id="f", audience="customers", template="reminder", after_first_send_hours=24)
    inc = incident((f,))
    campaign = {**CAMPAIGN, "counts": {"deliverable": 3, "letters": 1, "rejected": 2}, "sent": 3, "bounced": 1,
                "mail_letters": 1}
    now = datetime(2024, 3, 1, 10, tzinfo=UTC)
    digest = compose(now, [campaign], plan({inc.slug: inc}, [campaign], {}, now), {"send (q)": 4},
                     {"korkortsportalen-2024.customers.notice": 2})
    assert "e-mails 3: sent 3" in digest.text and "bounced 1" in digest.text and "letters needed 2" in digest.text
    assert "send (q): 4" in digest.text and "notis redrive" in digest.text
    assert "korkortsportalen-2024.customers.notice: 2" in digest.text
    assert "f-f" in digest.text and "2024-03-02 09:00 UTC" in digest.text
    assert digest.subject.endswith("1 need attention")


def test_an_update_before_the_campaign_is_not_sent_and_staff_are_told_why():
    """A campaign started after an update: its first notice carried the update, so no update notice follows."""
    inc = incident(updates=(update("sms", T0 - timedelta(days=2)),))
    [item] = plan({inc.slug: inc}, [CAMPAIGN], {}, T0 + timedelta(hours=1))
    assert item.status == NOT_APPLICABLE
    assert item.reason == "not sent: published before this campaign's first notice, which already carries it"


def test_an_older_update_names_the_newer_one_the_first_notice_carried():
    inc = incident(updates=(update("sms", T0 - timedelta(days=2)), update("mer", T0 - timedelta(days=1), notify=())))
    [item] = plan({inc.slug: inc}, [CAMPAIGN], {}, T0 + timedelta(hours=1))
    assert item.marker == "u-sms" and item.status == NOT_APPLICABLE
    assert item.reason == ("not sent: published before this campaign's first notice, which carries the newer "
                           "update 'mer'; this one is on the page")


def test_a_fixed_time_follow_up_that_had_passed_says_so():
    f = FollowUp(id="f", audience="customers", template="reminder", at=T0 - timedelta(minutes=1))
    [item] = plan({"korkortsportalen-2024": incident((f,))}, [CAMPAIGN], {}, T0)
    assert item.reason == "not sent: its time had passed when this campaign's first notice went out"


@given(minutes=st.integers(-10**5, 10**5))
def test_only_a_mail_that_is_not_sent_carries_a_reason(minutes):
    inc = incident(updates=(update("u", T0 + timedelta(minutes=minutes)),))
    [item] = plan({inc.slug: inc}, [CAMPAIGN], {}, T0 + timedelta(days=1))
    assert bool(item.reason) == (item.status == NOT_APPLICABLE) == (minutes < 0)
