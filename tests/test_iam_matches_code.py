"""Each role grants exactly what its code uses: every call is allowed, and nothing is allowed that no code uses.

The deployment's roles (.chalice/resources.json) are written by hand, least privilege. Rather than compare them
with another hand-written list, this test records the API calls each function and each staff command really
makes during a whole run against moto (upload, hold and approve, send, SES events, a follow-up, retention, the
digest, a redrive, dead SES events replayed, the staff views), turns each call into the IAM action AWS checks,
adds what AWS itself does with the role on the code's behalf (`implied`: the Lambda runtime's logs, the SQS
event source's reads, the KMS use behind an encrypted bucket, queue or secret, the events function's on-failure
destination), and asserts the role grants that set: no less, and no more.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib import audit
from chalicelib import aws as aws_clients
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.store import CampaignStore
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
    "verify": "VerifyRole",
}
SIGNING = {"sesv2": "ses", "ses": "ses"}
FREE = {"sts:GetCallerIdentity"}  # needs no permission
BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
         "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}  # the Lambda runtime writes the function's log
# The SQS event source mapping polls with the function's role (Lambda developer guide, "Execution role").
SQS_EVENT_SOURCE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
EVENT_SOURCE = {"import": SQS_EVENT_SOURCE, "send": SQS_EVENT_SOURCE}
# Lambda delivers a failed asynchronous invocation to the on-failure queue with the function's role.
ON_FAILURE = {"ses-events": {"sqs:SendMessage"}}
# What staff do with the aws CLI rather than notis, as docs/deploy.md says: read a dead letter to see why it
# failed; move the import DLQ back with SQS's own redrive (its messages are S3 notifications, no mail text).
BY_HAND = {"staff": {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:StartMessageMoveTask",
                     "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask", "sqs:DeleteMessage",
                     "s3:ListBucket"}}  # `aws s3 ls s3://<bucket>/reports/` to find a report
# Grants for code paths this run does not reach on moto, each named: a new grant that is neither used nor listed
# here fails the test, and so does an entry here that the role no longer grants.
NOT_EXERCISED = {
    "import": {
        "s3:GetObjectVersion": "campaigns/objects.py: the upload's version from the notification (versioned bucket)",
        "s3:ListBucketVersions": "campaigns/objects.py: finding the version when the notification has none",
    },
    "send": {
        "ses:SendRawEmail": "SES v2 SendEmail with Content.Raw: AWS's policy examples grant it beside ses:SendEmail "
                            "for raw sends; not checkable offline, kept so the first real send cannot fail on it",
    },
    "tick": {
        "ses:SendRawEmail": "SES v2 SendEmail with Content.Raw: AWS's policy examples grant it beside ses:SendEmail "
                            "for raw sends; not checkable offline, kept so the first real send cannot fail on it",
        "s3:GetObjectVersion": "followups/starter.py: re-reading the campaign's own version of the upload",
        "s3:DeleteObjectVersion": "followups/retention.py: purging each stored version",
    },
    "staff": {
        "s3:AbortMultipartUpload": "notis upload: s3transfer aborts a failed multipart upload of a large list",
        "s3:GetObjectVersion": "notis letters: an older version of the upload (same key uploaded again)",
        "s3:ListBucketVersions": "notis letters: finding that version",
    },
}


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
    if operation == "TransactWriteItems":
        # "Permissions for Put, Update, Delete, and Get actions are governed by the permissions used for the
        # underlying PutItem, UpdateItem, DeleteItem, and GetItem operations" (DynamoDB developer guide, "Using
        # IAM with DynamoDB transactions"); the callers here write one kind of action per transaction.
        body = params.get("body") or b"{}"  # before-call sees the serialized request
        kinds = {next(iter(item)) for item in json.loads(body).get("TransactItems", [])}
        return f"dynamodb:{TRANSACT[kinds.pop()]}" if len(kinds) == 1 else "dynamodb:TransactWriteItems(mixed)"
    return f"{prefix}:{BATCH.get(operation, operation)}"


def implied(actor: str, calls: set[str]) -> set[str]:
    """The actions AWS checks for this actor: its calls, plus what AWS does with its role on its behalf.

    Everything the app stores is encrypted with the stack's key (bucket, queues, secret): reading needs
    kms:Decrypt, writing kms:GenerateDataKey, and a producer of an encrypted queue needs both (SQS developer
    guide, "Key management"). DynamoDB uses its AWS-managed key: no grant.
    """
    actions = set(calls) | EVENT_SOURCE.get(actor, set()) | ON_FAILURE.get(actor, set()) | BY_HAND.get(actor, set())
    if actor != "staff":
        actions |= LOGS
    kms = set()
    if actions & {"s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "sqs:ReceiveMessage"}:
        kms.add("kms:Decrypt")
    if actions & {"s3:PutObject", "sqs:SendMessage"}:
        kms.add("kms:GenerateDataKey")
    if "sqs:SendMessage" in actions:
        kms.add("kms:Decrypt")
    return actions | kms


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
        self.audit_writes: list[tuple[str, str, str]] = []  # (actor, operation, condition) on audit#* keys
        self.item_writes: set[tuple[str, str, str]] = set()  # (actor, operation, partition key's kind)

    def hook(self, client) -> None:
        if id(client) not in self.hooked:
            self.hooked.add(id(client))
            client.meta.events.register("before-call.*.*", self.record)
            client.meta.events.register("before-parameter-build.dynamodb.*", self.record_item)

    def record(self, model, params, **_) -> None:
        service = model.service_model.service_name
        self.calls[self.actor].add(iam_action(service, model.name, params))

    def record_item(self, params, model, **_) -> None:
        """The API parameters of a DynamoDB call (before-call sees the serialised request instead)."""
        key = params.get("Item") or params.get("Key") or {}
        pk = str(key.get("pk", {}).get("S", ""))
        if pk.startswith("audit#"):
            self.audit_writes.append((self.actor, model.name, str(params.get("ConditionExpression", ""))))
        if model.name in ("PutItem", "UpdateItem", "DeleteItem") and pk:
            self.item_writes.add((self.actor, model.name, pk))

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
    from chalicelib import config

    secret = aws_clients.client("secretsmanager").create_secret(Name="notis/hmac", SecretString="k" * 64)["ARN"]
    hashing = replace(aws["settings"], staff_email="dpo@example.org", hmac_key_secret=secret)  # import, tick
    settings = replace(hashing, hmac_key_secret="")  # the sender and the events function are given no secret
    monkeypatch.setenv("NOTIS_STAFF_EMAIL", "dpo@example.org")
    # Staff hash addresses too (a corrected file's new people at upload, the letter list): they read the uploads'
    # addresses anyway, so the key adds nothing they could not see.
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", secret)
    client = aws_clients.client

    def drain(queue: str, actor: str, handler) -> None:
        def as_actor(event: dict) -> None:
            config._secret_key.cache_clear()  # each function is its own process: its own first read
            with recorder.acting_as(actor):
                handler(event, hashing if actor == "import" else settings)

        deliver(aws["queues"][queue], as_actor)

    good = tmp_path / "kunder.csv"
    good.write_bytes(b"Namn;E-post;Adress\r\n" + "".join(  # an address, so the letters make a PDF
        f"Person {i};{'fel' if i % 4 == 0 else f'p{i}@example.se'};Gatan {i}, 123 45 Ort\r\n"
        for i in range(24)).encode())
    config._secret_key.cache_clear()
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
        assert main(["letters", campaign, "--pdf", str(tmp_path / "brev.pdf")]) == 0  # records each letter's code
        assert main(["letters", campaign, "--mark-posted"]) == 0

    import app as notis_app  # the public check (its own function): a sent code, a random one, a malformed one
    from chalicelib.verify import handler as verify_handler

    monkeypatch.setattr(verify_handler, "FLOOR_SECONDS", 0.0)
    read_keys: list[str] = []

    def note_key(params: dict, **_) -> None:  # returns None: a value would replace the call's parameters
        if recorder.actor == "verify":
            read_keys.append(params["Key"]["pk"]["S"])

    client("dynamodb").meta.events.register("provide-client-params.dynamodb.GetItem", note_key)
    with recorder.acting_as("verify"):
        for typed in (entries[0]["reference"], "K7QX-2M9D-PA4T4", "not a code"):
            event = {"resource": "/api/verify/{code}", "path": f"/api/verify/{typed}", "httpMethod": "GET",
                     "headers": {}, "pathParameters": {"code": typed}, "requestContext": {}}
            assert notis_app.verify(event, None)["statusCode"] == 200
    # VerifyRole's condition: dynamodb:LeadingKeys like `code#*`, nothing else
    assert len(read_keys) == 3 and all(k.startswith("code#") for k in read_keys), read_keys

    # dead letters the tick puts back: a redrive staff asked for, an SES event from each SES-events queue
    sqs = client("sqs")
    [first] = [m for m in entries if m.get("message_id")][:1] or entries[:1]
    sqs.send_message(QueueUrl=aws["queues"][settings.send_dlq], MessageBody=json.dumps(
        {"v": 1, "send_id": send_id, "campaign": campaign, "incident": "korkortsportalen-2024",
         "audience": "customers", "template": "notice", "recipients": []}))
    with recorder.acting_as("staff"):
        assert main(["redrive", campaign]) == 0
    sqs.send_message(QueueUrl=aws["queues"][settings.send_dlq], MessageBody=json.dumps({"campaign": "c" + "0" * 20}))
    late = ses_event("Bounce", send_id, first["key"], first.get("message_id", "m"), bounce={"bounceType": "Permanent"})
    sqs.send_message(QueueUrl=aws["queues"][settings.events_dlq], MessageBody=json.dumps(late))
    sqs.send_message(QueueUrl=aws["queues"][settings.events_failed_queue],
                     MessageBody=json.dumps({"version": "1.0", "requestPayload": late}))

    start = datetime.now(UTC)
    did = {}
    for days in (15, 16, 200):  # the follow-up (14 days after the first notice), the digest, retention
        config._secret_key.cache_clear()
        with recorder.acting_as("tick"):
            did[days] = handle_tick(hashing, now=(start + timedelta(days=days)).replace(hour=7))
        assert did[days]["errors"] == 0, did[days]
        drain(settings.send_queue, "send", handle_send)
        if days == 15:  # stopped by a fault that is not about anyone, then resumed: notice and follow-up again
            from chalicelib.sending.gate import CampaignGate

            with recorder.acting_as("send"):
                assert CampaignGate(client("dynamodb"), settings.table).stop(campaign, reason="r", code="c", now="t")
            with recorder.acting_as("staff"):
                assert main(["resume", campaign, "--yes"]) == 0
            drain(settings.import_queue, "import", handle_import)
            assert _only_campaign()["state"] == "queued"
            drain(settings.send_queue, "send", handle_send)
    assert did[15]["followups_started"] == 1 and did[200]["purged"] == 1
    assert did[15]["redriven"] == 1 and did[15]["events_replayed"] == 2 and did[15]["events_failing"] == 0
    assert any(d["digest_sent"] for d in did.values())
    with recorder.acting_as("staff"):
        for command in (["status"], ["status", campaign], ["evidence", campaign], ["followups"], ["redrive"],
                        ["audit"], ["audit", campaign], ["lookup", "p1@example.se"]):
            assert main(command) == 0, command
        assert main(["lookup", "K7QX-2M9D-PA4T4"]) == 0  # a code nobody was sent; its record is looked up all the same
        assert main(["dns"]) == 1  # the emulator has no CloudFormation stack; the call is made all the same
        assert main(["test-send", "it@example.se", "--incident", "korkortsportalen-2024", "--audience", "customers",
                     "--wait", "0"]) == 0
    drain(settings.import_queue, "import", handle_import)  # the test send: counted, recorded, queued
    drain(settings.send_queue, "send", handle_send)

    assert recorder.calls["tick"] and recorder.calls["send"] and recorder.calls["import"]
    # the audit trail: only the importer and the tick write it, and only with puts that cannot replace a record
    writes = [w for w in recorder.audit_writes if w[1] != "Query"]
    assert {actor for actor, _, _ in writes} == {"import", "tick"}, writes
    assert {(op, condition) for _, op, condition in writes} == {("PutItem", "attribute_not_exists(pk)")}
    actions = {r["action"] for c in CampaignStore(client("dynamodb"), settings.table).list() for r in
               audit.records(client("dynamodb"), settings.table, str(c["campaign"]))}
    assert {"upload", "approve", "redrive", "resume", "followup-start", "redriven", "purge",
            "letters-posted"} <= actions
    # each single-item write is allowed on its own partition key (the roles' dynamodb:LeadingKeys conditions)
    refused = sorted((actor, op, pk) for actor, op, pk in recorder.item_writes
                     if actor in ROLE_OF and not allowed(ROLE_OF[actor], f"dynamodb:{op}", pk))
    assert refused == [], refused
    staff_writes = {(op, pk.split("#", 1)[0]) for actor, op, pk in recorder.item_writes if actor == "staff"}
    assert staff_writes == {("PutItem", "code"), ("UpdateItem", "campaign"), ("UpdateItem", "letters")}, (
        "every key pattern the staff role may write is written")
    uses = {actor: implied(actor, calls - FREE) for actor, calls in recorder.calls.items() if actor in ROLE_OF}
    uses.setdefault("ses-events", implied("ses-events", set()))
    missing = {actor: sorted(actions - granted(ROLE_OF[actor])) for actor, actions in uses.items()}
    assert missing == {actor: [] for actor in missing}
    unused = {actor: sorted(granted(role) - uses[actor]) for actor, role in ROLE_OF.items()}
    assert unused == {actor: sorted(NOT_EXERCISED.get(actor, {})) for actor in ROLE_OF}, (
        "granted but used by no code: remove it from the role (or name the code path in NOT_EXERCISED)")


def _only_campaign() -> dict:
    from chalicelib.campaigns.store import CampaignStore
    from chalicelib.config import load_settings

    [campaign] = CampaignStore(aws_clients.client("dynamodb"), load_settings().table).list()
    return campaign


# -- the audit trail is append-only: an IAM evaluation of the template's own statements ---------------------------

TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
MISSING = object()


def _statements(owner: str) -> list[dict]:
    resource = load_template()["Resources"][owner]["Properties"]
    documents = [p["PolicyDocument"] for p in resource.get("Policies", [])] or [resource["PolicyDocument"]]
    return [statement for document in documents for statement in document["Statement"]]


def _on_table(resource: object) -> bool:
    listed = resource if isinstance(resource, list) else [resource]
    return any(r == TABLE or r == "*" for r in listed)


def _condition_holds(condition: dict, context: dict[str, list[str]]) -> bool:
    """IAM's condition operators this template uses on the table, as the IAM User Guide defines them (a
    multivalued key: ForAllValues holds when the key is missing, ForAnyValue does not); anything else fails the
    test rather than be guessed."""
    from fnmatch import fnmatchcase

    for operator, tests in condition.items():
        for key, wanted in tests.items():
            wanted = wanted if isinstance(wanted, list) else [wanted]
            assert all(isinstance(w, str) for w in wanted), (operator, key, wanted)
            values = context.get(key, MISSING)
            match = {"StringLike": fnmatchcase, "StringEquals": str.__eq__}[operator.split(":")[-1]]
            if operator.startswith("ForAllValues:"):
                holds = values is MISSING or all(any(match(v, w) for w in wanted) for v in values)
            elif operator.startswith("ForAnyValue:"):
                holds = values is not MISSING and any(match(v, w) for v in values for w in wanted)
            else:
                assert ":" not in operator, f"condition operator {operator} is not known to this evaluator"
                holds = values is not MISSING and len(values) == 1 and any(match(values[0], w) for w in wanted)
            if not holds:
                return False
    return True


def allowed(owner: str, action: str, partition_key: str) -> bool:
    """Would AWS allow `action` on the item with this partition key under `owner`'s statements? An explicit Deny
    wins, then any Allow (identity policies only: the table has no resource policy)."""
    from fnmatch import fnmatchcase

    context = {"dynamodb:LeadingKeys": [partition_key]}

    def applies(statement: dict) -> bool:
        assert "NotAction" not in statement and "NotResource" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        return (any(fnmatchcase(action.lower(), a.lower()) for a in actions) and _on_table(statement["Resource"])
                and _condition_holds(statement.get("Condition", {}), context))

    statements = _statements(owner)
    if any(s["Effect"] == "Deny" and applies(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s) for s in statements)


def test_an_audit_record_cannot_be_overwritten_or_deleted_with_the_staff_policy():
    """Staff cannot put, update, delete or batch-write anything under `audit#`: their requests reach the trail
    through the importer, which records them with the SQS SenderId. A PutItem cannot be limited to conditional
    ones by IAM (no condition key for it), so staff get none at all on those keys."""
    for action in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
        assert not allowed("StaffPolicy", f"dynamodb:{action}", "audit#c0123456789abcdef0123"), action
    # the evaluator is not vacuous: what staff may do, it allows
    assert allowed("StaffPolicy", "dynamodb:UpdateItem", "campaign#c0123456789abcdef0123")
    assert allowed("StaffPolicy", "dynamodb:UpdateItem", "letters#x.y.notice")
    assert allowed("StaffPolicy", "dynamodb:GetItem", "audit#c0123456789abcdef0123")
    assert not allowed("StaffPolicy", "dynamodb:UpdateItem", "send#x.y.notice")
    assert not allowed("StaffPolicy", "dynamodb:PutItem", "letters#x.y.notice")


@pytest.mark.parametrize("role", ["ImportRecipientsRole", "SendNotificationsRole", "SesEventsRole", "TickRole"])
def test_no_function_can_change_or_delete_an_audit_record(role):
    for action in ("UpdateItem", "DeleteItem", "BatchWriteItem"):
        assert not allowed(role, f"dynamodb:{action}", "audit#c0123456789abcdef0123"), action
    writes_trail = role in ("ImportRecipientsRole", "TickRole")
    # They add records with PutItem ... attribute_not_exists(pk) (checked on every call above); IAM cannot
    # require that condition, which is why docs/deploy.md asks for CloudTrail data events on the table.
    assert allowed(role, "dynamodb:PutItem", "audit#c0123456789abcdef0123") is writes_trail
    assert allowed(role, "dynamodb:UpdateItem", "campaign#c0123456789abcdef0123"), "its own work still allowed"
