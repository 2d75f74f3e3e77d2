"""The scheduled tick with moto and an injected clock: follow-ups and update notices go out once, on time."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from followups_helpers import (
    PEOPLE,
    SLUG,
    T0,
    emails,
    hours,
    import_campaign,
    incident,
    key_of,
    make_dynamodb_writes_atomic,
    marker,
    sent,
    tick,
    update,
)

from chalicelib.aws import client
from chalicelib.content.model import FollowUp
from chalicelib.sending.ledger import Ledger

REMINDER = FollowUp(id="paminnelse", audience="customers", template="reminder", after_first_send_hours=72,
                    not_after_hours=24)


def test_followup_fires_once_when_due_and_never_early(aws, caplog):
    caplog.set_level(logging.INFO)
    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    assert tick(aws, inc, T0 + hours(71.9))["followups_started"] == 0
    assert sent(aws) == [], "not early"
    summary = tick(aws, inc, T0 + hours(72))
    assert summary["followups_started"] == 1 and summary["recipients_queued"] == len(PEOPLE)
    messages = sent(aws)
    assert emails(messages) == sorted(PEOPLE)
    assert {m["send_id"] for m in messages} == {f"{SLUG}.customers.f-paminnelse"}
    assert {(m["template"], m["campaign"], m["incident"], m["audience"]) for m in messages} == {
        ("reminder", campaign["campaign"], SLUG, "customers")}
    for later in (hours(72.1), hours(80), hours(200)):
        assert tick(aws, inc, T0 + later)["followups_started"] == 0
    assert sent(aws) == [], "never twice"
    assert marker(aws, campaign["campaign"], "f-paminnelse")["state"] == "queued"
    assert "scheduled mail queued" in caplog.text
    assert not any(p in caplog.text or p.split("@")[0].title() in caplog.text for p in PEOPLE), "no personal data"


def test_followup_past_its_guard_is_not_sent_and_staff_are_told(aws, caplog):
    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    late = T0 + hours(72 + 24) + timedelta(minutes=1)  # an outage: the first tick after the guard ran out
    assert tick(aws, inc, late)["stale"] == 1
    assert sent(aws) == []
    assert marker(aws, campaign["campaign"], "f-paminnelse")["state"] == "stale"
    assert tick(aws, inc, late + hours(1))["stale"] == 0, "told once"
    assert sent(aws) == []
    assert "overdue" in caplog.text and "@" not in caplog.text


def test_concurrent_ticks_start_a_followup_once(aws, monkeypatch):
    make_dynamodb_writes_atomic(monkeypatch)  # as real DynamoDB: see the helper
    inc = incident((REMINDER,))
    import_campaign(aws, inc)
    barrier = threading.Barrier(4)
    results: list[dict] = []

    def run() -> None:
        barrier.wait()
        results.append(tick(aws, inc, T0 + hours(73)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["followups_started"] for r in results) == 1
    assert sum(r["errors"] for r in results) == 0
    assert emails(sent(aws)) == sorted(PEOPLE), "each person queued once"


def test_bounced_and_complained_addresses_are_skipped(aws):
    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    ledger = Ledger(client("dynamodb"), aws["settings"].table)
    ledger.suppress(key_of(aws, "anna@example.se"), reason="bounce", now=T0.timestamp())
    ledger.suppress(key_of(aws, "bo@example.se"), reason="complaint", now=T0.timestamp())
    tick(aws, inc, T0 + hours(72))
    assert emails(sent(aws)) == ["cecilia@example.se", "david@example.se"]
    m = marker(aws, campaign["campaign"], "f-paminnelse")
    assert (m["recipients"], m["skipped_suppressed"]) == (2, 2)


def test_only_undelivered_leaves_out_those_whose_first_notice_was_delivered(aws):
    followup = FollowUp(id="igen", audience="customers", template="reminder", after_first_send_hours=48,
                        only_undelivered=True)
    inc = incident((followup,))
    import_campaign(aws, inc)
    ledger, notice = Ledger(client("dynamodb"), aws["settings"].table), f"{SLUG}.customers.notice"
    for email, event in (("anna@example.se", "delivered"), ("bo@example.se", None)):  # bo: sent, no event yet
        key = key_of(aws, email)
        claim = ledger.claim(notice, key, owner="o", now=T0.timestamp(), lease=60, reference="R", expires_at=0)
        assert claim.ok
        ledger.mark_sent(notice, key, owner="o", message_id="m-" + key[:6], now=T0.timestamp())
        if event:
            assert ledger.event_transition(notice, key, to=event, allowed_from={"sent": {}}, sets={})
    tick(aws, inc, T0 + hours(48))
    assert emails(sent(aws)) == ["bo@example.se", "cecilia@example.se", "david@example.se"]


def test_a_start_that_crashed_after_its_marker_is_redriven_after_the_lease(aws, monkeypatch):
    from chalicelib.followups import starter

    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    real = starter.send_all

    def crash(*args, **kwargs):
        raise ConnectionError("the function died here")

    monkeypatch.setattr(starter, "send_all", crash)
    assert tick(aws, inc, T0 + hours(72))["errors"] == 1
    assert marker(aws, campaign["campaign"], "f-paminnelse")["state"] == "starting"
    monkeypatch.setattr(starter, "send_all", real)
    assert tick(aws, inc, T0 + hours(72) + timedelta(minutes=5))["followups_started"] == 0, "lease still held"
    assert sent(aws) == []
    summary = tick(aws, inc, T0 + hours(72) + timedelta(minutes=20))
    assert summary["followups_started"] == 1
    assert emails(sent(aws)) == sorted(PEOPLE)
    assert marker(aws, campaign["campaign"], "f-paminnelse")["attempts"] == 2


def test_update_notice_goes_out_once_to_the_chosen_audience(aws):
    inc = incident(updates=(update("ny-info", T0 + hours(48), notify=("customers",)),))
    customers = import_campaign(aws, inc)
    import_campaign(aws, inc, audience="schools", name="skolor.csv",
                    body=b"Namn;E-post\r\nTrafikskolan;skola@example.se\r\n")
    assert tick(aws, inc, T0 + hours(47))["updates_started"] == 0
    summary = tick(aws, inc, T0 + hours(48.5))
    assert summary["updates_started"] == 1
    messages = sent(aws)
    assert emails(messages) == sorted(PEOPLE), "customers only: schools were not chosen"
    assert {(m["send_id"], m["template"], m.get("update_id"), m["campaign"]) for m in messages} == {
        (f"{SLUG}.customers.u-ny-info", "update", "ny-info", customers["campaign"])}
    tick(aws, inc, T0 + hours(49))
    tick(aws, inc, T0 + hours(60))
    assert sent(aws) == [], "once per update"


def test_updates_older_than_the_campaign_or_unmarked_send_nothing(aws):
    old = update("gammal", T0 - hours(1))  # the first notice already said it
    unmarked = update("tyst", T0 + hours(5), notify=())
    inc = incident(updates=(old, unmarked))
    import_campaign(aws, inc)
    for h in (0.1, 5.5, 30):
        summary = tick(aws, inc, T0 + hours(h))
        assert summary["updates_started"] == 0 and summary["stale"] == 0
    assert sent(aws) == []


def test_a_second_campaign_of_the_same_audience_gets_its_own_start(aws):
    inc = incident((REMINDER,))
    first = import_campaign(aws, inc)
    second = import_campaign(aws, inc, name="fler.csv", at=T0 + hours(10),
                             body=b"Namn;E-post\r\nEva;eva@example.se\r\nAnna;anna@example.se\r\n")
    tick(aws, inc, T0 + hours(72))
    assert emails(sent(aws)) == sorted(PEOPLE)
    tick(aws, inc, T0 + hours(82))
    messages = sent(aws)
    assert {m["campaign"] for m in messages} == {second["campaign"]}
    assert emails(messages) == ["anna@example.se", "eva@example.se"], (
        "queued again: the ledger, keyed by send id across campaigns, keeps Anna's e-mail single")
    assert first["campaign"] != second["campaign"]


def test_a_file_that_no_longer_exists_fails_the_followup_with_a_reason(aws):
    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    s3 = client("s3")
    s3.delete_object(Bucket=aws["bucket"], Key=campaign["key"], VersionId=campaign["version"])
    summary = tick(aws, inc, T0 + hours(72))
    assert summary["failed"] == 1 and summary["errors"] == 0
    m = marker(aws, campaign["campaign"], "f-paminnelse")
    assert m["state"] == "failed" and "no longer exists" in m["reason"]
    assert tick(aws, inc, T0 + hours(73))["failed"] == 0


@pytest.mark.parametrize("state", ["held", "failed"])
def test_campaigns_never_sent_get_no_followup(aws, state):
    from followups_helpers import store

    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    store(aws).update(campaign["campaign"], {"state": state})
    assert tick(aws, inc, T0 + hours(72))["followups_started"] == 0
    assert sent(aws) == []


def test_app_tick_is_wired_to_the_followups_handler(aws):
    from chalice.test import Client

    from app import app

    with Client(app) as chalice_client:
        event = chalice_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
        response = chalice_client.lambda_.invoke("tick", event)
    assert set(response.payload) >= {"followups_started", "updates_started", "purged", "digest_sent", "errors"}
    assert response.payload["errors"] == 0
