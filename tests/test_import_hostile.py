"""Hostile files cannot stall an import: huge cells are capped, send bodies fit the queue, and
`notis check-recipients` counts exactly what the import counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.aws import client
from chalicelib.campaigns.queueing import QUEUE_MAX_MESSAGE_BYTES, encoded_size
from chalicelib.recipients.collect import LONG_NAME
from notis_cli.commands.check_recipients import check
from notis_cli.provision import load_template
from tests.test_import import campaigns, drain_import_queue, upload

HEADER = "Namn;Personnummer;Telefon;Adress;Postnummer;Ort;E-post\r\n"


def row(i: int, *, name: str = "", email: str = "", other: str = "") -> str:
    return (f"{name or f'Person {i}'};{other or '811218-9876'};{other or '070-1112233'};{other or 'Gatan 1'};"
            f"123 45;Umeå;{email or f'p{i}@example.se'}\r\n")


def hostile_files() -> dict[str, bytes]:
    return {
        "huge names": (HEADER + "".join(row(i, name="N" * 100_000) if i < 11 else row(i)
                                        for i in range(300))).encode(),
        "huge names, not ASCII": (HEADER + "".join(row(i, name="Ö" * 100_000) if i % 28 == 0 else row(i)
                                                   for i in range(300))).encode(),
        "huge addresses": (HEADER + "".join(row(i, email="a" * 100_000 + "@x.se") if i < 11 else row(i)
                                            for i in range(300))).encode(),
        "huge other cells": (HEADER + "".join(row(i, other="9" * 100_000) if i < 11 else row(i)
                                              for i in range(300))).encode(),
        "many names for one address": (HEADER + "".join(row(i, name=f"Elev {i} " + "x" * 150,
                                                            email="skolan@example.se") for i in range(900))
                                       + "".join(row(i) for i in range(900, 1000))).encode(),
    }


def queued_bodies(aws: dict) -> list[str]:
    sqs, url, bodies = client("sqs"), aws["queues"][aws["settings"].send_queue], []
    while found := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in found:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def queue_limit(aws: dict) -> int:
    url = aws["queues"][aws["settings"].send_queue]
    attrs = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["MaximumMessageSize"])
    return int(attrs["Attributes"]["MaximumMessageSize"])


def test_eleven_names_of_100000_characters_import_fully(aws):
    upload(aws, hostile_files()["huge names"])
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "queued", "never left importing"
    bodies = queued_bodies(aws)
    assert all(encoded_size(b) <= queue_limit(aws) for b in bodies), "moto does not check the limit: we do"
    recipients = [r for b in bodies for r in json.loads(b)["recipients"]]
    assert len({r["key"] for r in recipients}) == 300 == len(recipients), "all 300 people queued, once"
    assert campaign["counts"]["deliverable"] == 300 and campaign["counts"]["warnings"] >= 11
    assert all(len(n) <= 200 for r in recipients for n in r["names"])
    assert "too_large" not in campaign


@pytest.mark.parametrize("name", list(hostile_files()))
def test_check_recipients_and_the_import_agree_on_hostile_files(aws, tmp_path: Path, name: str):
    body = hostile_files()[name]
    path = tmp_path / "lista.csv"
    path.write_bytes(body)
    doc, result = check(path, max_bytes=aws["settings"].max_upload_bytes)
    assert result is not None and doc["error"] is None
    upload(aws, body)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    counts = campaign["counts"]
    assert counts == {"rows": doc["rows"], "deliverable": doc["deliverable"], "duplicates": doc["duplicates"],
                      "rejected": result.rejected_count, "warnings": result.warnings_count,
                      "letters": doc["letters"], "no_postal_address": doc["no_postal_address_count"]}
    bodies = queued_bodies(aws)
    assert campaign["state"] == "queued"
    assert all(encoded_size(b) <= queue_limit(aws) for b in bodies)
    assert len({r["key"] for b in bodies for r in json.loads(b)["recipients"]}) == counts["deliverable"]
    if name.startswith("huge names"):
        assert sum(1 for w in result.warnings if w.reason == LONG_NAME) == 11


def test_a_cell_of_one_megabyte_makes_the_file_unusable_in_both_with_the_same_reason(aws, tmp_path: Path):
    body = (HEADER + row(0) + row(1, other="x" * 1_000_000) + row(2)).encode()
    path = tmp_path / "lista.csv"
    path.write_bytes(body)
    doc, result = check(path, max_bytes=aws["settings"].max_upload_bytes)
    assert result is None and "Line 3" in doc["error"]
    upload(aws, body)
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "failed" and campaign["error"] == doc["error"]
    assert queued_bodies(aws) == []


def test_the_template_gives_the_send_queue_room_for_the_largest_body():
    """No MaximumMessageSize means AWS's default (at least 256 KiB); a smaller one would need a smaller constant."""
    props = load_template()["Resources"]["SendQueue"]["Properties"]
    assert int(props.get("MaximumMessageSize", QUEUE_MAX_MESSAGE_BYTES)) >= QUEUE_MAX_MESSAGE_BYTES
