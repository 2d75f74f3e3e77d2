"""Recipient import with moto: an upload becomes a campaign, queued once, or refused with a reason."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from chalicelib.aws import client
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.store import CampaignStore
from chalicelib.campaigns.uploads import Upload
from tests.queue_helpers import deliver, take_bodies

INCIDENT = "korkortsportalen-2024"
GOOD_CSV = (
    "Namn;Personnummer;E-post;Telefon\r\n"
    "Anna Andersson;19850101-0022;anna@example.se;070-111 22 33\r\n"
    "Erik Andersson;20100202-0038;ANNA@example.se ;070-111 22 34\r\n"
    "Bo Berg;19700303-0042;bo@example.se;\r\n"
    "Cecilia Ceder;19600404-0058;;\r\n"
).encode("cp1252")


def upload(aws: dict, body: bytes, key: str = f"uploads/{INCIDENT}/customers/kunder.csv") -> None:
    client("s3").put_object(Bucket=aws["bucket"], Key=key, Body=body, ServerSideEncryption="aws:kms")


def drain_import_queue(aws: dict) -> list[tuple[dict, dict]]:
    """Deliver what S3 put on the import queue to the handler, as Lambda's event source does."""
    url = aws["queues"][aws["settings"].import_queue]
    return deliver(url, lambda event: handle_import(event, aws["settings"]))


def send_queue(aws: dict) -> list[dict[str, Any]]:
    return take_bodies(aws["queues"][aws["settings"].send_queue])


def campaigns(aws: dict) -> list[dict]:
    return CampaignStore(client("dynamodb"), aws["settings"].table).list()


def report_rows(aws: dict, campaign: str) -> list[list[str]]:
    body = client("s3").get_object(Bucket=aws["bucket"], Key=f"reports/{campaign}/rows.csv")["Body"].read()
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_upload_flows_into_the_send_queue(aws):
    upload(aws, GOOD_CSV)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "queued"
    assert campaign["incident"] == INCIDENT and campaign["audience"] == "customers"
    assert campaign["counts"] == {"rows": 4, "deliverable": 2, "duplicates": 1, "rejected": 0, "warnings": 2,
                                  "letters": 1, "no_postal_address": 1}, (
        "Bo's check digit, and Cecilia's letter has no address column")
    messages = send_queue(aws)
    recipients = [r for m in messages for r in m["recipients"]]
    assert sorted(r["email"] for r in recipients) == ["anna@example.se", "bo@example.se"]
    anna = next(r for r in recipients if r["email"] == "anna@example.se")
    assert anna["names"] == ["Anna Andersson", "Erik Andersson"], "one e-mail naming everyone at the address"
    assert all(m["send_id"] == f"{INCIDENT}.customers.notice" and m["template"] == "notice" for m in messages)
    assert all(m["campaign"] == campaign["campaign"] for m in messages)
    body = json.dumps(messages)
    assert "19850101" not in body and "070-111" not in body, "personnummer and phone are not carried"


def test_redelivered_notification_queues_nothing_new(aws):
    upload(aws, GOOD_CSV)
    [(event, _)] = drain_import_queue(aws)
    first = send_queue(aws)
    assert first
    handle_import(event, aws["settings"])  # SQS delivers at least once
    assert send_queue(aws) == []
    assert len(campaigns(aws)) == 1


def test_many_recipients_are_chunked_into_batches(aws):
    rows = "\r\n".join(f"Person {i};p{i}@example.se" for i in range(260))
    upload(aws, ("Namn;E-post\r\n" + rows + "\r\n").encode())
    drain_import_queue(aws)
    messages = send_queue(aws)
    assert len(messages) == 6 and max(len(m["recipients"]) for m in messages) == 50
    assert len({r["key"] for m in messages for r in m["recipients"]}) == 260
    assert campaigns(aws)[0]["queued_messages"] == 6


def test_report_lists_bad_rows_by_line_without_personal_data(aws):
    body = ("Namn;Personnummer;E-post\r\n"
            "Anna;19850101-0001;anna@example.se\r\n"
            "=HYPERLINK(\"http://evil\");19850101-0009;not-an-address\r\n"
            "Bo;;bo@example.se\r\n" * 1).encode()
    upload(aws, body)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    rows = report_rows(aws, campaign["campaign"])
    assert rows[0] == ["line", "kind", "column", "reason"]
    kinds = {(r[0], r[1]) for r in rows[1:]}
    assert ("3", "rejected") in kinds and ("3", "letter") in kinds
    text = json.dumps(rows)
    for secret in ("not-an-address", "19850101", "anna@example.se", "HYPERLINK"):
        assert secret not in text
    assert all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r)


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"", "empty", "empty"),
        (b"PK\x03\x04" + b"\x00" * 200, "excel", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "excel", "Excel"),
        (b"Namn;Telefon\r\nAnna;070\r\n", "no_email_column", "e-mail"),
        (bytes(range(256)) * 20, "not_text", "binary data (a NUL byte near line 1)"),
        (b"Namn;E-post\r\n;\r\n", "empty", "header row but no people"),
        ("E-post;Namn\r\na@x.se;Åsa\r\n".encode("utf-16-le"), "unknown_encoding", "UTF-16 without a byte-order mark"),
    ],
)
def test_unusable_file_sends_nothing_and_says_why(aws, body, code, words):
    upload(aws, body)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "failed"
    assert campaign["error_code"] == code
    assert words.lower() in campaign["error"].lower()
    assert send_queue(aws) == []
    summary = client("s3").get_object(Bucket=aws["bucket"], Key=f"reports/{campaign['campaign']}/summary.json")
    assert json.loads(summary["Body"].read())["state"] == "failed"


def test_file_over_the_size_limit_is_refused(aws, monkeypatch):
    from dataclasses import replace

    aws["settings"] = replace(aws["settings"], max_upload_bytes=1000)
    rows = "".join(f"Person {i};p{i}@example.se\r\n" for i in range(200))
    upload(aws, ("Namn;E-post\r\n" + rows).encode())
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "failed" and campaign["error_code"] == "too_large"
    assert send_queue(aws) == []


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("uploads/no-such-incident/customers/a.csv", "no published incident called 'no-such-incident'"),
        (f"uploads/{INCIDENT}/press/a.csv", "declares no audience 'press'"),
        (f"uploads/{INCIDENT}/a.csv", "must be uploaded as uploads/<incident>/<audience>/<file>.csv"),
    ],
)
def test_upload_for_undeclared_incident_or_audience_is_refused(aws, key, words):
    upload(aws, GOOD_CSV, key=key)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "failed" and words in campaign["error"]
    assert send_queue(aws) == []


def test_key_with_spaces_and_swedish_letters_is_found(aws):
    upload(aws, GOOD_CSV, key=f"uploads/{INCIDENT}/customers/kunder från webbshoppen (juni).csv")
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "queued"
    assert campaign["key"].endswith("kunder från webbshoppen (juni).csv")


def test_too_many_bad_rows_hold_the_campaign_until_approved(aws):
    rows = "".join(f"Person {i};{'bad' if i % 4 == 0 else f'p{i}@example.se'}\r\n" for i in range(40))
    upload(aws, ("Namn;E-post\r\n" + rows).encode())
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "held"
    assert "10 of 40 rows (25%) were rejected" in campaign["error"]
    assert f"notis approve {campaign['campaign']}" in campaign["error"]
    assert send_queue(aws) == []

    from notis_cli.main import main

    assert main(["approve", campaign["campaign"], "--yes"]) == 0
    drain_import_queue(aws)
    assert campaigns(aws)[0]["state"] == "queued"
    assert len([r for m in send_queue(aws) for r in m["recipients"]]) == 30
    assert main(["approve", campaign["campaign"], "--yes"]) == 1, "approving twice does nothing"
    drain_import_queue(aws)
    assert send_queue(aws) == []


def test_an_interrupted_approval_can_be_given_again(aws):
    from notis_cli.main import main

    rows = "".join(f"Person {i};{'bad' if i % 4 == 0 else f'p{i}@example.se'}\r\n" for i in range(40))
    upload(aws, ("Namn;E-post\r\n" + rows).encode())
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    store = CampaignStore(client("dynamodb"), aws["settings"].table)
    store.update(campaign["campaign"], {"state": "approved"})  # approve died before its message was sent
    assert main(["approve", campaign["campaign"], "--yes"]) == 0
    drain_import_queue(aws)
    assert campaigns(aws)[0]["state"] == "queued"
    assert len([r for m in send_queue(aws) for r in m["recipients"]]) == 30


def test_s3_test_event_and_garbage_messages_are_ignored(aws):
    url = aws["queues"][aws["settings"].import_queue]
    for body in ['{"Service":"Amazon S3","Event":"s3:TestEvent"}', "not json", "[]", '{"Records": [42]}']:
        client("sqs").send_message(QueueUrl=url, MessageBody=body)
    results = drain_import_queue(aws)
    assert all(result == {"batchItemFailures": []} for _, result in results)
    assert campaigns(aws) == [] and send_queue(aws) == []


def test_missing_object_fails_that_campaign_with_a_reason(aws):
    records = [
        {"messageId": "m1", "body": json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
            "bucket": {"name": aws["bucket"]}, "object": {"key": f"uploads/{INCIDENT}/customers/gone.csv",
                                                          "eTag": "x", "size": 3}}}]})},
    ]
    upload(aws, GOOD_CSV)
    [(event, _)] = drain_import_queue(aws)
    result = handle_import({"Records": records + event["Records"]}, aws["settings"])
    assert result == {"batchItemFailures": []}, "retrying cannot bring the file back"
    gone = next(c for c in campaigns(aws) if c["key"].endswith("gone.csv"))
    assert gone["state"] == "failed" and "no longer exists" in gone["error"]


def test_a_campaign_reads_its_own_version_after_the_key_is_overwritten(aws):
    """S3 notifications from moto carry no version id: the import finds the object by its ETag."""
    upload(aws, GOOD_CSV)
    sqs, url = client("sqs"), aws["queues"][aws["settings"].import_queue]
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    upload(aws, (b"Namn;E-post\r\nNy Person;ny@example.se\r\n"))  # same key, new content
    handle_import({"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in first]}, aws["settings"])
    for m in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    emails = sorted(r["email"] for m in send_queue(aws) for r in m["recipients"])
    assert emails == ["anna@example.se", "bo@example.se"], "the first campaign mails the first file's people"
    drain_import_queue(aws)
    assert [r["email"] for m in send_queue(aws) for r in m["recipients"]] == ["ny@example.se"]


def test_campaign_id_derives_from_the_object():
    a = Upload("b", "uploads/x/customers/a.csv", etag="e1", version="v1")
    assert a.campaign_id == Upload("b", "uploads/x/customers/a.csv", etag='"e1"', size=9).campaign_id
    assert a.campaign_id != Upload("b", "uploads/x/customers/a.csv", etag="e2", version="v1").campaign_id
    assert a.campaign_id != Upload("b", "uploads/x/customers/b.csv", etag="e1").campaign_id
    assert Upload("b", "k", version="v1").campaign_id != Upload("b", "k", version="v2").campaign_id


def test_notis_upload_names_the_campaign_the_import_creates(aws, tmp_path, capsys):
    from notis_cli.main import main

    path = tmp_path / "kunder.csv"
    path.write_bytes(GOOD_CSV)
    assert main(["upload", str(path), "--incident", INCIDENT, "--audience", "customers"]) == 0
    printed = capsys.readouterr().out
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert f"campaign: {campaign['campaign']}" in printed
    assert "4 rows = 2 e-mails + 1 duplicates merged + 1 letters (no usable e-mail address), 2 warnings" in printed


def test_the_same_file_uploaded_again_starts_nothing_new(aws):
    upload(aws, GOOD_CSV)
    drain_import_queue(aws)
    assert send_queue(aws)
    upload(aws, GOOD_CSV)
    drain_import_queue(aws)
    assert send_queue(aws) == [] and len(campaigns(aws)) == 1


def test_a_shared_mailbox_listed_for_hundreds_still_fits_the_queue(aws):
    rows = "".join(f"Elev Nummer{i};skolan@example.se\r\n" for i in range(800))
    rows += "".join(f"Person {i};p{i}@example.se\r\n" for i in range(120))
    upload(aws, ("Namn;E-post\r\n" + rows).encode())
    drain_import_queue(aws)
    recipients = [r for m in send_queue(aws) for r in m["recipients"]]
    school = next(r for r in recipients if r["email"] == "skolan@example.se")
    assert len(school["names"]) == 10 and school["more_names"] == 790
    assert len(recipients) == 121


@pytest.mark.parametrize(
    ("content", "args", "words"),
    [
        (b"PK\x03\x04" + b"\x00" * 100, ["--incident", INCIDENT, "--audience", "customers"], "Excel"),
        (b"", ["--incident", INCIDENT, "--audience", "customers"], "empty"),
        (b"\xff\xfe\x00\x01\x02" * 50, ["--incident", INCIDENT, "--audience", "customers"], "cannot be used"),
        (GOOD_CSV, ["--incident", "no-such-incident", "--audience", "customers"], "no incident 'no-such-incident'"),
        (GOOD_CSV, ["--incident", INCIDENT, "--audience", "../../etc"], "declares no audience '../../etc'"),
    ],
)
def test_notis_upload_refuses_bad_input_before_anything_leaves_the_machine(aws, tmp_path, capsys, content, args,
                                                                             words):
    from notis_cli.main import main

    path = tmp_path / "lista.csv"
    path.write_bytes(content)
    assert main(["upload", str(path), *args]) == 1
    assert words in capsys.readouterr().err
    assert client("s3").list_objects_v2(Bucket=aws["bucket"], Prefix="uploads/").get("KeyCount") == 0


def test_notis_upload_of_a_missing_file(aws, tmp_path, capsys):
    from notis_cli.main import main

    assert main(["upload", str(tmp_path / "nope.csv"), "--incident", INCIDENT, "--audience", "customers"]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("campaign", ["c0000000000000000000", "'; DROP TABLE", ""])
def test_notis_approve_of_an_unknown_campaign(aws, capsys, campaign):
    from notis_cli.main import main

    assert main(["approve", campaign, "--yes"]) == 1
    assert "no campaign" in capsys.readouterr().err


def test_notis_status_shows_the_import_report_of_a_held_campaign(aws, capsys):
    from notis_cli.main import main

    rows = "".join(f"Person {i};{'fel-adress' if i % 3 == 0 else f'p{i}@example.se'}\r\n" for i in range(12))
    upload(aws, ("Namn;E-post\r\n" + rows).encode())
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    capsys.readouterr()
    assert main(["status", campaign["campaign"]]) == 0
    out = capsys.readouterr().out
    assert "held" in out
    assert ("12 rows = 8 e-mails + 0 duplicates merged + 4 letters (no usable e-mail address; 4 of them an invalid "
            "address: rejected)") in out
    assert "line 2 (e-mail): the e-mail address is not valid" in out
    assert f"notis approve {campaign['campaign']}" in out
    assert "fel-adress" not in out and "@example.se" not in out
    assert main(["status", campaign["campaign"], "--watch"]) == 0, "watching a held campaign ends at once"
