"""Every AWS call the code makes is allowed by the role that will make it in AWS.

The deployment's roles (.chalice/resources.json) are written by hand, least privilege. Rather than compare them
with another hand-written list, this test records the API calls each function and each staff command really
makes during a whole run against moto (upload, hold and approve, send, SES events, a follow-up, retention, the
digest, the staff views), turns each call into the IAM action AWS checks, and asserts the role grants it.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import aws as aws_clients
from chalicelib.campaigns.handler import handle_import
from chalicelib.followups.handler import handle_tick
from chalicelib.handlers import handle_send, handle_ses_event
from notis_cli.main import main
from notis_cli.provision import load_template
from tests.queue_helpers import deliver
from tests.sending_helpers import ses_event

ROLE_OF = {
    "import": "ImportRecipientsRole",
    "send": "SendNotificationsRole",
    "ses-events": "SesEventsRole",
    "tick": "TickRole",
    "staff": "StaffPolicy",
}
SIGNING = {"sesv2": "ses", "ses": "ses"}
FREE = {"sts:GetCallerIdentity"}  # needs no permission
BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
         "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def iam_action(service: str, operation: str, params: dict) -> str:
    """The IAM action AWS authorises for one API call."""
    prefix = SIGNING.get(service, service)
    if service == "s3":
        versioned = bool(params.get("VersionId"))
        return "s3:" + {
            "GetObject": "GetObjectVersion" if versioned else "GetObject",
            "HeadObject": "GetObjectVersion" if versioned else "GetObject",
            "DeleteObject": "DeleteObjectVersion" if versioned else "DeleteObject",
            "ListObjectVersions": "ListBucketVersions",
            "ListObjectsV2": "ListBucket",
            "ListObjects": "ListBucket",
            "CreateMultipartUpload": "PutObject",
            "UploadPart": "PutObject",
            "CompleteMultipartUpload": "PutObject",
        }.get(operation, operation)
    return f"{prefix}:{BATCH.get(operation, operation)}"


def granted(policy_owner: str) -> set[str]:
    resource = load_template()["Resources"][policy_owner]["Properties"]
    documents = [p["PolicyDocument"] for p in resource.get("Policies", [])] or [resource["PolicyDocument"]]
    actions: set[str] = set()
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                found = statement["Action"]
                actions |= {found} if isinstance(found, str) else set(found)
    return actions


class Recorder:
    def __init__(self):
        self.actor = "test"
        self.calls: dict[str, set[str]] = defaultdict(set)
        self.hooked: set[int] = set()

    def hook(self, client) -> None:
        if id(client) not in self.hooked:
            self.hooked.add(id(client))
            client.meta.events.register("before-call.*.*", self.record)

    def record(self, model, params, **_) -> None:
        service = model.service_model.service_name
        self.calls[self.actor].add(iam_action(service, model.name, params))

    @contextlib.contextmanager
    def acting_as(self, actor: str):
        self.actor = actor
        try:
            yield
        finally:
            self.actor = "test"


@pytest.fixture
def recorder(aws, monkeypatch):
    rec = Recorder()
    original = aws_clients.client

    def recorded_client(service: str):
        made = original(service)
        rec.hook(made)
        return made

    recorded_client.cache_clear = original.cache_clear
    monkeypatch.setattr(aws_clients, "client", recorded_client)
    return rec


def test_each_role_allows_every_call_its_code_makes(aws, recorder, tmp_path: Path, monkeypatch):
    settings = replace(aws["settings"], staff_email="dpo@example.org")
    monkeypatch.setenv("NOTIS_STAFF_EMAIL", "dpo@example.org")
    client = aws_clients.client

    def drain(queue: str, actor: str, handler) -> None:
        def as_actor(event: dict) -> None:
            with recorder.acting_as(actor):
                handler(event, settings)

        deliver(aws["queues"][queue], as_actor)

    good = tmp_path / "kunder.csv"
    good.write_bytes(b"Namn;E-post\r\n" + "".join(
        f"Person {i};{'fel' if i % 4 == 0 else f'p{i}@example.se'}\r\n" for i in range(24)).encode())
    with recorder.acting_as("staff"):
        assert main(["upload", str(good), "--incident", "korkortsportalen-2024", "--audience", "customers"]) == 0
    drain(settings.import_queue, "import", handle_import)
    with recorder.acting_as("staff"):
        campaign = _only_campaign()["campaign"]
        assert main(["status", campaign]) == 0
        assert main(["approve", campaign, "--yes"]) == 0  # 25 % rejected: held until approved
    drain(settings.import_queue, "import", handle_import)
    drain(settings.send_queue, "send", handle_send)

    from chalicelib.sending.ledger import Ledger

    send_id = "korkortsportalen-2024.customers.notice"
    entries = list(Ledger(client("dynamodb"), settings.table).entries(send_id))
    with recorder.acting_as("ses-events"):
        for n, entry in enumerate(entries):
            kind = "Bounce" if n == 0 else "Delivery"
            extra = {"bounce": {"bounceType": "Permanent"}} if kind == "Bounce" else {}
            handle_ses_event(ses_event(kind, send_id, entry["key"], entry.get("message_id", "m"), **extra), settings)

    with recorder.acting_as("staff"):
        assert main(["letters", campaign, "-o", str(tmp_path / "brev.csv")]) == 0

    start = datetime.now(UTC)
    did = {}
    for days in (15, 16, 200):  # the follow-up (14 days after the first notice), the digest, retention
        with recorder.acting_as("tick"):
            did[days] = handle_tick(settings, now=(start + timedelta(days=days)).replace(hour=7))
        assert did[days]["errors"] == 0, did[days]
        drain(settings.send_queue, "send", handle_send)
    assert did[15]["followups_started"] == 1 and did[200]["purged"] == 1
    assert any(d["digest_sent"] for d in did.values())
    with recorder.acting_as("staff"):
        for command in (["status"], ["status", campaign], ["evidence", campaign], ["followups"],
                        ["redrive", campaign]):
            assert main(command) == 0, command

    assert recorder.calls["tick"] and recorder.calls["send"] and recorder.calls["import"]
    missing = {actor: sorted(calls - granted(ROLE_OF[actor]) - FREE)
               for actor, calls in recorder.calls.items() if actor in ROLE_OF}
    assert missing == {actor: [] for actor in missing}


def _only_campaign() -> dict:
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.config import load_settings

    [campaign] = CampaignStore(aws_clients.client("dynamodb"), load_settings().table).list()
    return campaign
