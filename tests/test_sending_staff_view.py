"""`notis status`, `notis evidence`, `notis letters` and `notis redrive` against moto: the right numbers, no
personal data except in the letter list, which must name people and is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sending_helpers import FakeClock, Serialized, campaign_id, send_bodies, ses_event, sqs_event

from chalicelib import aws as aws_clients
from chalicelib.campaigns.store import CampaignStore
from chalicelib.handlers import handle_send, handle_ses_event
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.status import format_duration, send_status
from notis_cli.commands.letters import write_csv
from notis_cli.commands.redrive import redrive
from notis_cli.main import main

CSV = (
    "Förnamn;Efternamn;Personnummer;E-post;Adress;Språk\r\n"
    "Anna;Andersson;19650616-6096;anna@example.se;Drottninggatan 9, 753 20 Uppsala;sv\r\n"
    "Bertil;Bengtsson;19730720-3450;bertil@example.se;Björkvägen 10, 972 31 Luleå;sv\r\n"
    '=HYPERLINK("http://x");Cederström;19800101-0008;cecilia@example.se;+46 Storgatan 1;sv\r\n'
    "David;Dahl;19900202-0003;;-Lillgatan 2, 111 22 Stockholm;sv\r\n"
    "Eva;Ek;19851212-1236;eva@example.se;Ekvägen 3;en\r\n"
)
PERSONAL = [
    "anna@",
    "bertil@",
    "cecilia@",
    "eva@",
    "Andersson",
    "Bengtsson",
    "Cederström",
    "Dahl",
    "19650616",
    "19730720",
    "Drottninggatan",
    "Björkvägen",
]


@pytest.fixture
def campaign(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> dict[str, Any]:
    monkeypatch.setenv("NOTIS_LOCAL_STATE", str(tmp_path / "no-local-stack.json"))
    settings = aws["settings"]
    cid = campaign_id("staff")
    key = "uploads/korkortsportalen-2024/customers/kunder.csv"
    s3 = aws_clients.client("s3")
    put = s3.put_object(Bucket=aws["bucket"], Key=key, Body=CSV.encode("cp1252"))
    store = CampaignStore(aws_clients.client("dynamodb"), settings.table)
    store.create(
        cid,
        {
            "bucket": aws["bucket"],
            "key": key,
            "version": put.get("VersionId", ""),
            "created_at": "2024-05-01T10:00:00+00:00",
        },
    )
    store.update(
        cid,
        {
            "state": "queued",
            "incident": "korkortsportalen-2024",
            "audience": "customers",
            "counts": {"rows": 5, "deliverable": 4, "letters": 1},
        },
    )
    emails = ["anna@example.se", "bertil@example.se", "cecilia@example.se", "eva@example.se"]
    real = aws_clients.client("sesv2")

    class RefuseEva:
        def send_email(self, **kw: Any) -> Any:
            if kw["Destination"]["ToAddresses"] == ["eva@example.se"]:
                from sending_helpers import client_error

                raise client_error("MessageRejected", 400)
            return real.send_email(**kw)

    clock = FakeClock(start=1_714_557_600.0)
    handle_send(
        sqs_event(send_bodies(emails, cid, settings.hmac_key)),
        settings,
        ses=RefuseEva(),
        dynamodb=Serialized(aws_clients.client("dynamodb")),
        now=clock.now,
        mono=clock.mono,
        sleep=clock.sleep,
    )
    bertil = recipient_key("bertil@example.se", settings.hmac_key)
    handle_ses_event(ses_event("Bounce", cid, bertil, bounce={"bounceType": "Permanent"}), settings)
    handle_ses_event(ses_event("Delivery", cid, recipient_key("anna@example.se", settings.hmac_key)), settings)
    return {"id": cid, "settings": settings}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_shows_counts_dlq_and_no_personal_data(campaign: dict[str, Any], capsys: Any) -> None:
    code, out, err = _run(["status", campaign["id"]], capsys)
    assert code == 0
    assert "sent       3" in out and "delivered 1" in out and "bounced 1" in out
    assert "failed     1" in out and "letters 3" in out  # no address + bounced + refused
    assert "send DLQ   0 message(s)" in out
    assert "talking to" in err  # which AWS, on stderr
    assert not [p for p in PERSONAL if p in out + err]
    code, listing, _ = _run(["status"], capsys)
    assert campaign["id"] in listing and not [p for p in PERSONAL if p in listing]


def test_status_watch_ends_when_done(campaign: dict[str, Any], capsys: Any) -> None:
    code, out, _ = _run(["status", campaign["id"], "--watch", "--interval", "0"], capsys)
    assert code == 0 and "4/4" in out and "time left done" in out


def test_ctrl_c_on_status_watch_says_the_sending_goes_on(campaign: dict[str, Any], capsys: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from notis_cli.commands import status

    def pressed_ctrl_c(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(status, "snapshot", pressed_ctrl_c)
    code, _, err = _run(["status", campaign["id"], "--watch"], capsys)
    assert code == 130 and "stopped watching; the sending goes on" in err  # not "did I just stop it?"


def test_status_watch_without_a_campaign_watches_the_newest(campaign: dict[str, Any], capsys: Any) -> None:
    code, out, err = _run(["status", "--watch", "--interval", "0"], capsys)
    assert code == 0 and f"watching the newest campaign, {campaign['id']}" in err and "4/4" in out


def test_evidence_json_and_text_have_the_facts_and_no_personal_data(campaign: dict[str, Any], capsys: Any) -> None:
    _, out, _ = _run(["evidence", campaign["id"], "--json"], capsys)
    doc = json.loads(out)
    assert (doc["notified_by_email"], doc["bounced"], doc["failed"], doc["letters"]) == (3, 1, 1, 3)
    assert doc["sending_started"].startswith("2024-05-01") and doc["complete"]
    assert len(doc["message_log"]) == 4 and all(len(r["pseudonym"]) == 64 for r in doc["message_log"])
    assert sum(1 for r in doc["message_log"] if r["message_id"]) == 3
    _code, text, _ = _run(["evidence", campaign["id"]], capsys)
    assert "Notified by e-mail:    3" in text
    assert not [p for p in PERSONAL if p in out + text]


def test_letters_name_everyone_without_working_mail_and_are_formula_safe(
    campaign: dict[str, Any], capsys: Any, tmp_path: Any
) -> None:
    code, out, err = _run(["letters", campaign["id"]], capsys)  # no option: nobody's name on the screen
    assert code == 2 and out == "" and "--list" in err and "--pdf FILE" in err
    code, out, err = _run(["letters", campaign["id"], "--list"], capsys)
    assert code == 0 and "3 letter(s) on standard output" in err and "personal data" in err
    assert out.startswith("\ufeff"), "Swedish Excel needs the BOM, also when staff redirect stdout to a file"
    out = out.removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out), delimiter=";"))
    by_line = {int(r["line"]): r for r in rows}
    assert set(by_line) == {3, 5, 6}  # Bertil bounced, David has no address, Eva was refused
    assert by_line[3]["name"] == "Bertil Bengtsson" and "Björkvägen 10" in by_line[3]["postal_address"]
    assert by_line[5]["postal_address"].startswith("'-Lillgatan")  # would be a formula otherwise
    assert "bounced" in by_line[3]["reason"] and "no e-mail" in by_line[5]["reason"]
    assert by_line[6]["email"] == "eva@example.se" and "MessageRejected" in by_line[6]["reason"]
    assert _run(["letters", campaign["id"], "-o", str(tmp_path / "l.csv")], capsys)[0] == 0
    assert (tmp_path / "l.csv").read_bytes().decode("utf-8-sig") == out


def test_letter_cells_starting_with_formula_characters_are_quoted() -> None:
    from chalicelib.sending.status import LetterRow

    out = io.StringIO()
    write_csv([LetterRow(2, "=cmd|'/C calc'!A0", "@SUM(1)", "+1@x.se", "\tx"), LetterRow(3, "Ann", "-", "", "\r")], out)
    cells = [c for row in csv.reader(io.StringIO(out.getvalue()), delimiter=";") for c in row]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert "'=cmd|'/C calc'!A0" in cells


def test_redrive_moves_only_that_campaigns_messages(aws: dict[str, Any]) -> None:
    sqs = aws_clients.client("sqs")
    settings = aws["settings"]
    dlq, queue = aws["queues"][settings.send_dlq], aws["queues"][settings.send_queue]
    mine, other = campaign_id("mine"), campaign_id("other")
    for body in [
        *send_bodies(["a@x.se"] * 3, mine, b"k", per_message=1),
        *send_bodies(["b@x.se"], other, b"k"),
        "not json",
    ]:
        sqs.send_message(QueueUrl=dlq, MessageBody=body)
    assert redrive(sqs, dlq, queue, mine) == (3, 2)
    moved = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["campaign"] for m in moved] == [mine] * 3
    left = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert len(left) == 2  # visible again at once, untouched


def test_time_left_and_rate_from_the_last_minute() -> None:
    entries = [{"state": "sent", "sent_at": 1000 - i, "claimed_at": 900} for i in range(30)]
    status = send_status({"counts": {"deliverable": 90}}, entries, now=1000, configured_rate=14)
    assert status.queued == 60 and status.rate == 0.5 and status.time_left == 120
    assert format_duration(status.time_left) == "2m00s" and not status.done


class ShortPollsSampleSomeServers:
    """The real (moto) SQS client, except that a short poll (WaitTimeSeconds=0) answers empty, as real SQS may
    when it samples servers that hold none of the messages; a long poll asks them all."""

    def __init__(self, real: Any):
        self.real = real
        self.waits: list[int] = []

    def receive_message(self, **kwargs: Any) -> Any:
        self.waits.append(kwargs.get("WaitTimeSeconds", 0))
        if not kwargs.get("WaitTimeSeconds"):
            return {}
        return self.real.receive_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_redrive_long_polls_so_an_empty_sample_does_not_end_it(aws: dict[str, Any]) -> None:
    settings = aws["settings"]
    dlq, queue = aws["queues"][settings.send_dlq], aws["queues"][settings.send_queue]
    sqs = ShortPollsSampleSomeServers(aws_clients.client("sqs"))
    mine = campaign_id("mine")
    for body in send_bodies(["a@x.se"] * 25, mine, b"k", per_message=1):
        sqs.send_message(QueueUrl=dlq, MessageBody=body)
    assert redrive(sqs, dlq, queue, mine) == (25, 0)
    assert all(w >= 1 for w in sqs.waits) and len(sqs.waits) <= 4  # bounded: 3 full receives and one empty


def test_redrive_command_asks_and_the_tick_moves_only_that_campaigns_messages(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Staff may not write to the send queue: the command records the request, the tick does the moving."""
    from chalicelib.followups.handler import handle_tick

    settings = aws["settings"]
    sqs, dynamodb = aws_clients.client("sqs"), aws_clients.client("dynamodb")
    mine, other = campaign_id("mine"), campaign_id("other")
    for cid in (mine, other):
        dynamodb.put_item(TableName=settings.table, Item={"pk": {"S": f"campaign#{cid}"}, "sk": {"S": "meta"},
                                                          "campaign": {"S": cid}, "state": {"S": "queued"}})
    for body in [*send_bodies(["a@x.se"] * 2, mine, b"k", per_message=1), *send_bodies(["b@x.se"], other, b"k")]:
        sqs.send_message(QueueUrl=aws["queues"][settings.send_dlq], MessageBody=body)
    code, out, _err = _run(["redrive", mine], capsys)
    assert code == 0 and f"the next tick (within 5 minutes) moves {mine}'s messages" in out
    assert f"{settings.send_dlq}: 3 message(s)" in out and f"{settings.events_dlq}: 0 message(s)" in out
    assert f"{settings.events_failed_queue}: 0 message(s)" in out
    assert sqs.receive_message(QueueUrl=aws["queues"][settings.send_queue]).get("Messages") is None

    assert handle_tick(settings)["redriven"] == 2
    moved = sqs.receive_message(QueueUrl=aws["queues"][settings.send_queue], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["campaign"] for m in moved] == [mine] * 2
    assert "redrive_requested" not in dynamodb.get_item(
        TableName=settings.table, Key={"pk": {"S": f"campaign#{mine}"}, "sk": {"S": "meta"}})["Item"]
    assert handle_tick(settings)["redriven"] == 0  # asked once, done once
    assert _run(["redrive", campaign_id("nobody")], capsys)[0] == 1
