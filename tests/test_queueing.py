"""Send-queue bodies cut by count and by UTF-8 bytes, and batches within SendMessageBatch's payload limit."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.campaigns.queueing import (
    MAX_BATCH_BYTES,
    QUEUE_MAX_MESSAGE_BYTES,
    RECIPIENTS_PER_MESSAGE,
    encoded_size,
    messages,
    send_all,
)

HEADER = {"send_id": "i.customers.notice", "campaign": "c" + "0" * 20, "incident": "i", "audience": "customers",
          "template": "notice"}
SQS_CHARS = st.characters(blacklist_categories=("Cs",))  # the file decoder never yields lone surrogates


def recipient(i: int, name: str = "Anna") -> dict[str, Any]:
    return {"key": f"{i:064x}", "email": f"p{i}@x.se", "names": [name], "lang": "sv"}


def test_a_body_is_exactly_what_json_dumps_gives() -> None:
    rs = [recipient(i, "Åsa Öberg") for i in range(3)]
    [body] = messages(HEADER, rs)
    assert body == json.dumps({"v": 1, **HEADER, "recipients": rs}, ensure_ascii=False)


def test_large_recipients_are_split_by_bytes_not_only_by_count() -> None:
    big = "é" * 20_000  # 40,000 UTF-8 bytes: six of them fit a 256 KiB message
    bodies = list(messages(HEADER, [recipient(i, big) for i in range(50)]))
    assert len(bodies) > 1
    assert all(encoded_size(b) <= QUEUE_MAX_MESSAGE_BYTES for b in bodies)
    keys = [r["key"] for b in bodies for r in json.loads(b)["recipients"]]
    assert keys == [recipient(i)["key"] for i in range(50)], "everyone, once, in order"


def test_a_recipient_filling_the_limit_exactly_fits_and_one_byte_more_is_refused() -> None:
    [alone] = messages(HEADER, [recipient(0, "")])
    room = QUEUE_MAX_MESSAGE_BYTES - encoded_size(alone)
    refused: list[dict] = []
    fits = list(messages(HEADER, [recipient(1, "x" * room)], refused=refused.append))
    assert [encoded_size(b) for b in fits] == [QUEUE_MAX_MESSAGE_BYTES] and refused == []
    after = list(messages(HEADER, [recipient(2, "x" * (room + 1)), recipient(3)], refused=refused.append))
    assert [r["key"] for r in refused] == [recipient(2)["key"]]
    assert [r["key"] for b in after for r in json.loads(b)["recipients"]] == [recipient(3)["key"]]


def test_characters_sqs_refuses_are_escaped_and_the_value_kept() -> None:
    name = "Anna \ufffe\uffff Ek"
    [body] = messages(HEADER, [recipient(0, name)])
    assert "\ufffe" not in body and "\uffff" not in body
    assert json.loads(body)["recipients"][0]["names"] == [name]


@settings(max_examples=200)
@given(st.lists(st.text(SQS_CHARS, max_size=3000), max_size=120), st.integers(2_000, QUEUE_MAX_MESSAGE_BYTES))
def test_any_names_give_bodies_within_the_limit_with_everyone_once(names: list[str], limit: int) -> None:
    rs = [recipient(i, n) for i, n in enumerate(names)]
    refused: list[dict] = []
    bodies = list(messages(HEADER, rs, max_bytes=limit, refused=refused.append))
    assert all(encoded_size(b) <= limit for b in bodies)
    assert all(len(json.loads(b)["recipients"]) <= RECIPIENTS_PER_MESSAGE for b in bodies)
    got = [r["key"] for b in bodies for r in json.loads(b)["recipients"]] + [r["key"] for r in refused]
    assert sorted(got) == sorted(r["key"] for r in rs)


class RecordingSqs:
    def __init__(self) -> None:
        self.calls: list[list[dict]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.calls.append(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_send_all_keeps_every_batch_within_the_payload_limit() -> None:
    sqs = RecordingSqs()
    bodies = list(messages(HEADER, [recipient(i, "é" * 5_000) for i in range(400)]))
    assert send_all(sqs, "url", bodies) == len(bodies)
    assert all(sum(encoded_size(e["MessageBody"]) for e in call) <= MAX_BATCH_BYTES for call in sqs.calls)
    assert all(len(call) <= 10 for call in sqs.calls)
    assert [e["MessageBody"] for call in sqs.calls for e in call] == bodies
