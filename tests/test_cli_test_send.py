"""`notis test-send`: staff command -> import queue -> import handler -> send queue -> sender -> one mail in SES.

The mail is real (the deployed path end to end, on moto) and counts in no campaign: its record is of kind `test`,
never listed, its send id its own; the ledger keeps the recipient key only. The import refuses what staff could
abuse: lists of addresses, unknown incidents, more than a few test sends an hour.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.aws import client
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.importer import MAX_TEST_SENDS_PER_HOUR, Importer
from chalicelib.campaigns.store import CampaignStore
from chalicelib.campaigns.uploads import TestSend, campaign_id_of_test_send, parse_message
from chalicelib.content.published import published_incidents
from chalicelib.handlers import handle_send
from chalicelib.sending.ids import SEND_ID_RE, send_id_from_tag, tag_value
from chalicelib.sending.ledger import Ledger
from notis_cli.commands.test_send import request_body
from notis_cli.main import main
from tests.queue_helpers import deliver, take_bodies
from tests.sending_helpers import moto_sent, parsed_messages, sent_per_address
from tests.test_import import GOOD_CSV, drain_import_queue, upload

INCIDENT, AUDIENCE = "korkortsportalen-2024", "customers"
TOKEN = "0123456789abcdef"
STAFF = "it-test@example.se"


def _send_all(aws: dict) -> None:
    deliver(aws["queues"][aws["settings"].send_queue], lambda event: handle_send(event, aws["settings"]))


def _import(aws: dict) -> None:
    deliver(aws["queues"][aws["settings"].import_queue], lambda event: handle_import(event, aws["settings"]))


def _store(aws: dict) -> CampaignStore:
    return CampaignStore(client("dynamodb"), aws["settings"].table)


def _request(aws: dict, address: str = STAFF, token: str = TOKEN, **kwargs: str) -> None:
    fields = {"incident": INCIDENT, "audience": AUDIENCE, "lang": "sv"} | kwargs
    client("sqs").send_message(QueueUrl=aws["queues"][aws["settings"].import_queue],
                               MessageBody=request_body(token, fields["incident"], fields["audience"], address,
                                                        fields["lang"]))


# -- the whole path ------------------------------------------------------------------------------------------------

def test_staff_command_to_one_mail_counted_in_no_campaign(aws, capsys):
    upload(aws, GOOD_CSV)  # a real campaign beside it, queued and sent: its counters must not move
    drain_import_queue(aws)
    _send_all(aws)
    [real] = _store(aws).list()
    before = _store(aws).get(real["campaign"])
    mails_before = len(moto_sent())

    assert main(["test-send", STAFF, "--incident", INCIDENT, "--audience", AUDIENCE, "--lang", "en",
                 "--wait", "0"]) == 0
    out = capsys.readouterr().out
    [campaign_id] = [w for w in out.split() if w.startswith("c") and len(w) == 21]
    _import(aws)
    record = _store(aws).get(campaign_id)
    assert record["kind"] == "test" and record["state"] == "queued"
    assert SEND_ID_RE.match(record["send_id"]) and record["send_id"].startswith(f"{INCIDENT}.{AUDIENCE}.test-")
    assert STAFF not in json.dumps(record, default=str)  # the record keeps the recipient key, not the address
    _send_all(aws)

    assert len(moto_sent()) == mails_before + 1
    assert sent_per_address()[STAFF] == 1
    [mail] = [m for m in parsed_messages() if STAFF in m["To"]]
    assert mail["Subject"] and mail.get_content_type().startswith("multipart/")
    # counted in no campaign: the real campaign's record is unchanged and none lists the test
    assert _store(aws).get(real["campaign"]) == before
    assert [c["campaign"] for c in _store(aws).list()] == [real["campaign"]]
    assert campaign_id in {c["campaign"] for c in _store(aws).list(include_tests=True)}
    # the ledger entry keeps only the pseudonymous key
    [entry] = list(Ledger(client("dynamodb"), aws["settings"].table).entries(record["send_id"]))
    assert entry["key"] == record["recipient"] and entry["state"] == "sent"
    assert STAFF not in json.dumps(entry, default=str)
    # and the status view does not show it
    capsys.readouterr()
    assert main(["status"]) == 0
    assert campaign_id not in capsys.readouterr().out


def test_the_command_waits_and_says_queued(aws, capsys, monkeypatch):
    """With --wait the command watches the record; here the import runs while it waits (as Lambda would)."""
    from notis_cli.commands import test_send

    calls = []

    def importing_wait(store, campaign_id, seconds, **_):
        calls.append(campaign_id)
        _import(aws)
        return store.get(campaign_id)

    monkeypatch.setattr(test_send, "_wait", importing_wait)
    assert main(["test-send", STAFF, "--incident", INCIDENT, "--audience", AUDIENCE]) == 0
    assert "queued: the mail goes out" in capsys.readouterr().out
    assert calls and len(take_bodies(aws["queues"][aws["settings"].send_queue])) == 1


def test_a_refusal_is_reported_by_the_command(aws, capsys, monkeypatch):
    from notis_cli.commands import test_send

    monkeypatch.setattr(test_send, "_wait", lambda store, cid, seconds, **_: (_import(aws), store.get(cid))[1])
    assert main(["test-send", STAFF, "--incident", INCIDENT, "--audience", "nobody-here"]) == 1
    assert "refused: The incident 'korkortsportalen-2024' declares no audience" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["a@example.se, b@example.se", "a@example.se;b@example.se", "no-at-sign",
                                     "a@b@example.se"])
def test_the_command_takes_exactly_one_address(aws, capsys, address):
    assert main(["test-send", address, "--incident", INCIDENT, "--audience", AUDIENCE, "--wait", "0"]) == 2
    assert take_bodies(aws["queues"][aws["settings"].import_queue]) == []


# -- what the import refuses, whatever is put on the queue -----------------------------------------------------------

@pytest.mark.parametrize("address", ["a@example.se, b@example.se", "a@example.se b@example.se", "<a@example.se>",
                                     "list@", "x" * 300 + "@example.se"])
def test_the_import_refuses_anything_but_one_valid_address(aws, address):
    _request(aws, address)
    _import(aws)
    record = _store(aws).get(campaign_id_of_test_send(TOKEN))
    assert record["state"] == "failed" and record["error"]
    assert take_bodies(aws["queues"][aws["settings"].send_queue]) == []


def test_the_import_refuses_an_unknown_incident(aws):
    _request(aws, incident="no-such-incident")
    _import(aws)
    record = _store(aws).get(campaign_id_of_test_send(TOKEN))
    assert record["state"] == "failed" and "no published incident" in record["error"]
    assert take_bodies(aws["queues"][aws["settings"].send_queue]) == []


def test_at_most_a_handful_of_test_sends_an_hour(aws):
    tokens = [f"{n:016x}" for n in range(MAX_TEST_SENDS_PER_HOUR + 2)]
    for token in tokens:
        _request(aws, token=token)
    _import(aws)
    states = [_store(aws).get(campaign_id_of_test_send(t))["state"] for t in tokens]
    assert states.count("queued") == MAX_TEST_SENDS_PER_HOUR
    refused = [_store(aws).get(campaign_id_of_test_send(t)) for t in tokens if
               _store(aws).get(campaign_id_of_test_send(t))["state"] == "failed"]
    assert len(refused) == 2 and all("test sends this hour" in r["error"] for r in refused)
    assert len(take_bodies(aws["queues"][aws["settings"].send_queue])) == MAX_TEST_SENDS_PER_HOUR


def test_a_redelivered_request_sends_once(aws):
    settings = aws["settings"]
    importer = Importer(s3=client("s3"), sqs=client("sqs"), store=_store(aws), settings=settings,
                        incidents=published_incidents(), clock=lambda: datetime(2026, 12, 4, 16, tzinfo=UTC))
    request = TestSend(TOKEN, INCIDENT, AUDIENCE, STAFF, "sv")
    assert importer.handle(request)["state"] == "queued"
    assert importer.handle(request)["state"] == "queued"  # SQS delivers at least once
    bodies = take_bodies(aws["queues"][settings.send_queue])
    assert len(bodies) == 1
    for _ in range(2):  # the send message itself delivered again (after its visibility timeout): the ledger sends once
        client("sqs").send_message(QueueUrl=aws["queues"][settings.send_queue], MessageBody=json.dumps(bodies[0]))
        _send_all(aws)
    assert sent_per_address()[STAFF] == 1


def test_staff_requests_naming_a_test_send_are_ignored(aws):
    _request(aws)
    _import(aws)
    cid = campaign_id_of_test_send(TOKEN)
    _store(aws).update(cid, {"state": "failed"})
    for kind in ("retry", "approve", "resume"):
        client("sqs").send_message(QueueUrl=aws["queues"][aws["settings"].import_queue],
                                   MessageBody=json.dumps({"notis": kind, "campaign": cid}))
    _import(aws)
    assert _store(aws).get(cid)["state"] == "failed"


# -- parsing and ids -----------------------------------------------------------------------------------------------

def test_test_send_requests_are_parsed():
    body = request_body(TOKEN, INCIDENT, AUDIENCE, STAFF, "en")
    assert parse_message(body) == [TestSend(TOKEN, INCIDENT, AUDIENCE, STAFF, "en")]


@pytest.mark.parametrize("change", [
    {"token": "short"}, {"token": "0123456789ABCDEF"}, {"incident": "Bad Slug"}, {"audience": ""},
    {"lang": "de"}, {"email": ""}, {"email": ["a@example.se", "b@example.se"]}, {"extra": "x"},
    {"campaign": "c0123456789abcdef0123"},
])
def test_malformed_test_send_requests_are_ignored(change):
    doc = json.loads(request_body(TOKEN, INCIDENT, AUDIENCE, STAFF, "sv")) | change
    assert parse_message(json.dumps(doc)) == []


def test_test_send_ids_are_send_ids_and_survive_ses_tags():
    send_id = TestSend(TOKEN, INCIDENT, AUDIENCE, STAFF, "sv").send_id
    assert send_id == f"{INCIDENT}.{AUDIENCE}.test-{TOKEN}"
    assert SEND_ID_RE.match(send_id) and send_id_from_tag(tag_value(send_id)) == send_id
    for bad in (f"{INCIDENT}.{AUDIENCE}.test-", f"{INCIDENT}.{AUDIENCE}.test-{TOKEN}0",
                f"{INCIDENT}.{AUDIENCE}.test-XYZ", f"{INCIDENT}.{AUDIENCE}.tests-{TOKEN}"):
        assert not SEND_ID_RE.match(bad), bad
    # the ids that were send ids still are
    for good in (f"{INCIDENT}.{AUDIENCE}.notice", f"{INCIDENT}.{AUDIENCE}.f-reminder", "c0123456789abcdef0123"):
        assert SEND_ID_RE.match(good)


def test_the_command_says_so_when_the_import_does_not_answer(aws, capsys, monkeypatch):
    from notis_cli.commands import test_send

    monkeypatch.setattr(test_send.time, "sleep", lambda s: None)
    assert main(["test-send", STAFF, "--incident", INCIDENT, "--audience", AUDIENCE, "--wait", "0.01"]) == 1
    assert "has not taken the request" in capsys.readouterr().err
    assert len(take_bodies(aws["queues"][aws["settings"].import_queue])) == 1  # the request is there all the same
