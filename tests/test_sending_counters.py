"""The campaign's counters after the sender adds them once per invocation: exact after redelivery, never over.

The ledger is the truth; the counters are the progress view the campaign list shows without reading the ledger.
The sender keeps its counts in memory and adds them with one write per campaign at the end of the invocation
(chalicelib/sending/ledger.py), so these tests check what staff would see: the counters equal the ledger after
a normal run, after the same messages come again, with two campaigns in one batch, and when that one write
fails (then short, never over, and the ledger still right).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sending_helpers import FakeClock, Serialized, campaign_id, people, send_bodies, sqs_event

from chalicelib import aws as aws_clients
from chalicelib.handlers import handle_send
from chalicelib.sending.ledger import Ledger


class Counting:
    """The DynamoDB client with every call counted by operation (and optionally one operation failing)."""

    def __init__(self, real: Any, fail: str = ""):
        self._real = Serialized(real)
        self.exceptions = real.exceptions
        self.calls: Counter[str] = Counter()
        self.fail = fail

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == self.fail:
                raise ConnectionError("simulated: DynamoDB unreachable for this call")
            return attr(*args, **kwargs)

        return call


def _send(aws: dict[str, Any], bodies: list[str], db: Any) -> dict:
    clock = FakeClock()
    return handle_send(sqs_event(bodies), aws["settings"], dynamodb=db, now=clock.now, mono=clock.mono,
                       sleep=clock.sleep, lease_seconds=300)


def _counters(aws: dict[str, Any], cid: str) -> dict[str, Any]:
    return Ledger(aws_clients.client("dynamodb"), aws["settings"].table).counters(cid, cid)


def _ledger_states(aws: dict[str, Any], cid: str) -> Counter[str]:
    ledger = Ledger(aws_clients.client("dynamodb"), aws["settings"].table)
    return Counter(e["state"] for e in ledger.entries(cid))


def test_one_counter_write_per_invocation_and_counts_equal_the_ledger(aws):
    cid = campaign_id("count-once")
    bodies = send_bodies(people(120), cid, aws["settings"].hmac_key, per_message=50)
    db = Counting(aws_clients.client("dynamodb"))

    assert _send(aws, bodies, db)["batchItemFailures"] == []

    assert _ledger_states(aws, cid) == {"sent": 120}
    assert _counters(aws, cid).get("sent") == 120
    assert db.calls["transact_write_items"] == 1  # one for the campaign, not one per e-mail
    # per e-mail the claim, the code record (put) and the mark-sent, nothing else; per invocation its
    # registration (share.py), a put and a delete
    assert db.calls["update_item"] == 2 * 120
    assert db.calls["put_item"] == 120 + 1 and db.calls["delete_item"] == 1


def test_redelivered_messages_count_nothing_again(aws):
    cid = campaign_id("redelivered")
    bodies = send_bodies(people(60), cid, aws["settings"].hmac_key, per_message=30)
    db = Serialized(aws_clients.client("dynamodb"))
    _send(aws, bodies, db)

    _send(aws, bodies, db)  # SQS delivers the same messages again (at-least-once)
    _send(aws, bodies[1:], db)

    assert _ledger_states(aws, cid) == {"sent": 60}
    assert _counters(aws, cid).get("sent") == 60


def test_two_campaigns_in_one_batch_each_get_their_own_count(aws):
    first, second = campaign_id("first-of-two"), campaign_id("second-of-two")
    bodies = (send_bodies(people(7), first, aws["settings"].hmac_key)
              + send_bodies(people(5, start=100), second, aws["settings"].hmac_key))
    db = Counting(aws_clients.client("dynamodb"))

    _send(aws, bodies, db)

    assert _counters(aws, first).get("sent") == 7 and _counters(aws, second).get("sent") == 5
    assert db.calls["transact_write_items"] == 2


def test_a_failed_counter_write_leaves_the_counters_short_never_over_and_the_ledger_exact(aws):
    cid = campaign_id("flush-fails")
    bodies = send_bodies(people(40), cid, aws["settings"].hmac_key, per_message=20)
    failing = Counting(aws_clients.client("dynamodb"), fail="transact_write_items")

    response = _send(aws, bodies[:1], failing)  # the mail went out; only the progress write failed

    assert response["batchItemFailures"] == []  # nobody is mailed again for a progress view
    assert _ledger_states(aws, cid) == {"sent": 20}
    assert _counters(aws, cid).get("sent", 0) == 0

    _send(aws, bodies, Serialized(aws_clients.client("dynamodb")))  # the rest, and the first message again
    assert _ledger_states(aws, cid) == {"sent": 40}
    assert _counters(aws, cid).get("sent") == 20  # short by the failed invocation's count, not over


def test_counts_without_batching_are_added_at_once(aws):
    """The SES events handler uses the ledger unbatched: its counts must not wait for a flush nobody calls."""
    cid = campaign_id("unbatched")
    ledger = Ledger(aws_clients.client("dynamodb"), aws["settings"].table)
    ledger.add_counters(cid, {"delivered": 1}, campaign=cid)
    assert ledger.count_already_notified(cid, "a" * 64, campaign=cid, state="sent", by="c" + "1" * 20)
    assert _counters(aws, cid).get("already_notified") == 1
