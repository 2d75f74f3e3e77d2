"""What retrying cannot fix and what must not go out late: content that cannot render stops the campaign and
fails nobody, an address that cannot be put in a message is that person's letter, and a follow-up or update
message past its `not_after` mails nobody."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from followups_helpers import PEOPLE, T0, drain, hours, import_campaign, incident, tick, update
from hypothesis import given
from hypothesis import strategies as st
from sending_helpers import FakeClock, Serialized, campaign_id, send_bodies, sent_per_address, sqs_event

from chalicelib import aws as aws_clients
from chalicelib.content.model import FollowUp
from chalicelib.followups.schedule import UPDATE_NOT_AFTER_HOURS
from chalicelib.followups.starter import send_not_after
from chalicelib.handlers import handle_send
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.gate import CampaignGate
from chalicelib.sending.ledger import Ledger
from chalicelib.sending.worker import BadMessage, parse_job
from notis_cli.main import main

REMINDER = FollowUp(id="paminnelse", audience="customers", template="reminder", after_first_send_hours=72,
                    not_after_hours=24)
REMINDER_ID = "korkortsportalen-2024.customers.f-paminnelse"


def _send(aws: dict[str, Any], bodies: list[str], clock: FakeClock, ids: list[str] | None = None) -> dict:
    return handle_send(sqs_event(bodies, ids), aws["settings"], dynamodb=Serialized(aws_clients.client("dynamodb")),
                       now=clock.now, mono=clock.mono, sleep=clock.sleep, lease_seconds=300)


def _ledger(aws: dict[str, Any]) -> Ledger:
    return Ledger(aws_clients.client("dynamodb"), aws["settings"].table)


def _with(body: str, **fields: Any) -> str:
    return json.dumps({**json.loads(body), **fields})


# -- permanent rendering errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"template": "finnsinte"}, {"template": "update", "update_id": "finns-inte"}],
)
def test_content_that_cannot_render_fails_nobody_and_stops_the_campaign(
    aws: dict[str, Any], fields: dict[str, Any]
) -> None:
    """Our own render error is never the reader's fault: no letter, nobody settled, the campaign stops."""
    cid = campaign_id("render")
    emails = ["anna@example.se", "bo@example.se", "cecilia@example.se", "david@example.se"]
    bodies = [_with(b, **fields) for b in send_bodies(emails, cid, aws["settings"].hmac_key)]
    clock = FakeClock()
    assert _send(aws, bodies, clock, ids=["m"]) == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert sent_per_address() == {}
    for email in emails:
        entry = _ledger(aws).get(cid, recipient_key(email, aws["settings"].hmac_key))
        assert entry is None or (entry["state"] == "claimed" and entry["lease_until"] == 0)
    campaign = CampaignGate(aws_clients.client("dynamodb"), aws["settings"].table)
    assert campaign.states([cid]) == {cid: "stopped"}
    assert "failed" not in _ledger(aws).counters(cid)
    # The redelivered message of a stopped campaign is dropped (acknowledged), its people left claimable.
    assert _send(aws, bodies, clock, ids=["m"]) == {"batchItemFailures": []}
    assert sent_per_address() == {}


def test_an_address_the_mime_builder_refuses_is_a_letter_and_the_rest_are_mailed(aws: dict[str, Any]) -> None:
    cid = campaign_id("header-injection")
    hostile = "eve@example.se\r\nBcc: everyone@example.org"
    [body] = send_bodies(["anna@example.se"], cid, aws["settings"].hmac_key)
    doc = json.loads(body)
    doc["recipients"].append({"key": "ab" * 32, "email": hostile, "names": ["Eve"], "lang": "sv"})
    assert _send(aws, [json.dumps(doc)], FakeClock()) == {"batchItemFailures": []}
    assert sent_per_address() == {"anna@example.se": 1}
    entry = _ledger(aws).get(cid, "ab" * 32)
    assert entry["state"] == "failed" and "line break" in entry["reason"] and "@" not in entry["reason"]
    assert _ledger(aws).counters(cid)["mail_letters"] == 1


def test_other_render_errors_are_retried_not_failed(aws: dict[str, Any]) -> None:
    """A bug or missing content is not the person's fault: the claim is given back and the message retried."""
    cid = campaign_id("render-bug")
    body = _with(send_bodies(["anna@example.se"], cid, aws["settings"].hmac_key)[0], incident="okand-incident")
    assert _send(aws, [body], FakeClock(), ids=["m"]) == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    entry = _ledger(aws).get(cid, recipient_key("anna@example.se", aws["settings"].hmac_key))
    assert entry["state"] == "claimed" and entry["lease_until"] == 0


# -- late follow-ups ----------------------------------------------------------------------------------------


def test_followup_messages_carry_their_guard_and_a_late_one_mails_nobody(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    inc = incident((REMINDER,))
    campaign = import_campaign(aws, inc)
    assert tick(aws, inc, T0 + hours(72))["followups_started"] == 1
    messages = drain(aws, aws["settings"].send_queue)
    guard = int((T0 + hours(72 + 24)).timestamp())
    assert messages and {m["not_after"] for m in messages} == {guard}
    bodies = [json.dumps(m) for m in messages]

    # Redriven from the DLQ after the guard: nobody is mailed, everyone is recorded, once.
    late = FakeClock(start=guard + 3 * 86400)
    assert _send(aws, bodies, late) == {"batchItemFailures": []}
    assert _send(aws, bodies, late) == {"batchItemFailures": []}
    assert sent_per_address() == {}
    entries = list(_ledger(aws).entries(REMINDER_ID))
    assert len(entries) == len(PEOPLE) and {e["state"] for e in entries} == {"expired"}
    assert all(e["campaign"] == campaign["campaign"] for e in entries)
    assert _ledger(aws).counters(REMINDER_ID, campaign["campaign"])["expired"] == len(PEOPLE)
    assert main(["status", campaign["campaign"]]) == 0
    out = capsys.readouterr().out
    n = len(PEOPLE)
    assert f"f-paminnelse {REMINDER_ID}: done: {n}/{n} settled (0 sent, {n} too late)" in out

    # In time (e.g. started again by staff with a fresh guard), the same people are mailed once.
    fresh = [_with(b, not_after=late.t + 3600) for b in bodies]
    assert _send(aws, fresh, late) == {"batchItemFailures": []}
    assert sorted(sent_per_address()) == sorted(PEOPLE) and max(sent_per_address().values()) == 1


def test_a_followup_message_in_time_is_mailed(aws: dict[str, Any]) -> None:
    inc = incident((REMINDER,))
    import_campaign(aws, inc)
    tick(aws, inc, T0 + hours(72))
    bodies = [json.dumps(m) for m in drain(aws, aws["settings"].send_queue)]
    clock = FakeClock(start=(T0 + hours(95)).timestamp())
    assert _send(aws, bodies, clock) == {"batchItemFailures": []}
    assert sorted(sent_per_address()) == sorted(PEOPLE)


def test_update_notices_carry_the_update_guard(aws: dict[str, Any]) -> None:
    at = T0 + hours(48)
    inc = incident(updates=(update("ny-info", at),))
    import_campaign(aws, inc)
    tick(aws, inc, at + hours(1))
    messages = drain(aws, aws["settings"].send_queue)
    assert messages and {m["not_after"] for m in messages} == {int((at + hours(UPDATE_NOT_AFTER_HOURS)).timestamp())}


def test_first_notices_have_no_not_after(aws: dict[str, Any]) -> None:
    from test_import import GOOD_CSV, drain_import_queue, send_queue, upload

    upload(aws, GOOD_CSV)
    drain_import_queue(aws)
    assert all("not_after" not in m for m in send_queue(aws))


def test_a_big_send_started_inside_the_guard_is_not_cut_off_and_by_hand_starts_get_a_fresh_window() -> None:
    from chalicelib.followups.schedule import Scheduled

    due = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    item = Scheduled(campaign="c", incident="i", audience="a", marker="f-x", template="reminder", update_id=None,
                     due=due, not_after=due + timedelta(hours=1), only_undelivered=False, status="due")
    start = (due + timedelta(minutes=59)).timestamp()
    assert send_not_after(item, start, 10, 14.0, by_hand=False) == int(start + 10 / 14.0 + 3600)
    assert send_not_after(item, due.timestamp(), 1, 14.0, by_hand=False) == int(item.not_after.timestamp())
    days_later = (due + timedelta(days=5)).timestamp()
    assert send_not_after(item, days_later, 1, 14.0, by_hand=True) >= days_later + 3600


@given(st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2),
                 st.just(float("inf")), st.just(float("nan")), st.dictionaries(st.text(max_size=2), st.integers())))
def test_a_not_after_that_is_not_a_number_is_refused_by_name(value: Any) -> None:
    [body] = send_bodies(["anna@example.se"], campaign_id("x"), b"k", record=False)
    with pytest.raises(BadMessage, match="not_after"):
        parse_job(_with(body, not_after=value))


@given(st.one_of(st.integers(min_value=0, max_value=2**40), st.floats(min_value=0, max_value=2e12)))
def test_a_numeric_not_after_is_read(value: float) -> None:
    [body] = send_bodies(["anna@example.se"], campaign_id("x"), b"k", record=False)
    assert parse_job(_with(body, not_after=value)).not_after == float(value)
