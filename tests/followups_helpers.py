"""Helpers for the follow-up tests: a test incident, campaigns imported at a chosen time, the send queue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from queue_helpers import take_bodies

from chalicelib.aws import client
from chalicelib.campaigns.importer import Importer
from chalicelib.campaigns.store import CampaignStore
from chalicelib.campaigns.uploads import Upload
from chalicelib.content.loader import load_incidents
from chalicelib.content.model import FollowUp, Incident, Update
from chalicelib.content.text import Text
from chalicelib.followups.handler import handle_tick
from chalicelib.recipients import recipient_key
from chalicelib.web import CONTENT_DIR

SLUG = "korkortsportalen-2024"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)  # when the test campaigns' first notice was queued
PEOPLE = ["anna@example.se", "bo@example.se", "cecilia@example.se", "david@example.se"]
CSV = ("Namn;E-post\r\n" + "".join(f"{e.split('@')[0].title()};{e}\r\n" for e in PEOPLE)).encode()


def demo() -> Incident:
    [incident] = load_incidents(CONTENT_DIR)
    return incident


def incident(followups: tuple[FollowUp, ...] = (), updates: tuple[Update, ...] = (), **kw: Any) -> Incident:
    """The demo incident with these follow-ups and these updates added to its timeline."""
    base = demo()
    return dataclasses.replace(base, followups=followups, updates=base.updates + updates, **kw)


def update(uid: str, at: datetime, notify: tuple[str, ...] = ("customers",)) -> Update:
    return Update(id=uid, at=at, status="monitoring", text=Text.of(sv="Ny information.", en="New information."),
                  notify=notify)


def import_campaign(aws: dict, inc: Incident, *, audience: str = "customers", body: bytes = CSV,
                    at: datetime = T0, name: str = "kunder.csv") -> dict[str, Any]:
    """Upload a file and import it as of `at` (the S3 notification is consumed by the call itself)."""
    key = f"uploads/{inc.slug}/{audience}/{name}"
    s3 = client("s3")
    put = s3.put_object(Bucket=aws["bucket"], Key=key, Body=body, ServerSideEncryption="aws:kms")
    importer = Importer(s3=s3, sqs=client("sqs"), store=store(aws), settings=aws["settings"],
                        incidents={inc.slug: inc}, clock=lambda: at)
    campaign = importer.upload(Upload(aws["bucket"], key, put.get("VersionId", ""), put["ETag"], len(body)))
    drain(aws, aws["settings"].import_queue)  # S3's own notification: imported already, here
    drain(aws, aws["settings"].send_queue)  # the first notice: not what these tests look at
    assert campaign["state"] == "queued", campaign
    return campaign


def store(aws: dict) -> CampaignStore:
    return CampaignStore(client("dynamodb"), aws["settings"].table)


def drain(aws: dict, queue: str) -> list[dict[str, Any]]:
    return take_bodies(aws["queues"][queue])


def sent(aws: dict) -> list[dict[str, Any]]:
    """Send-queue messages put there since the last call."""
    return drain(aws, aws["settings"].send_queue)


def emails(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(r["email"] for m in messages for r in m["recipients"])


def tick(aws: dict, inc: Incident, at: datetime, **kw: Any) -> dict[str, int]:
    return handle_tick(kw.pop("settings", aws["settings"]), now=at, incidents={inc.slug: inc}, **kw)


def key_of(aws: dict, email: str) -> str:
    return recipient_key(email, aws["settings"].hmac_key)


def marker(aws: dict, campaign: str, marker_id: str) -> dict[str, Any] | None:
    from chalicelib.followups.markers import Markers, marker_pk

    return Markers(client("dynamodb"), aws["settings"].table).get(marker_pk(campaign), marker_id)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def make_dynamodb_writes_atomic(monkeypatch: Any) -> None:
    """Real DynamoDB applies a conditional write atomically; moto checks and writes without a lock, so two
    threads can both pass the same condition. Serialise moto's write operations so that concurrency tests test
    our code, not the emulator's race (reads stay concurrent)."""
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, functools.wraps(original)(locked))
