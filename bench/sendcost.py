"""What one e-mail costs notis in AWS requests: the real pipeline on moto, every request counted by botocore hooks.

Used by bench/send.py (`--cost`). The run: `notis upload` of a generated list of distinct people, the import
function (S3 notification -> send queue), the send function fed the way Lambda's SQS event source feeds it
(ReceiveMessage of up to 10 messages, DeleteMessageBatch of the settled ones), SES's Send and Delivery event for
every accepted message through the SES events function. Every AWS request of those functions is counted by
service and operation through the clients' `before-parameter-build`/`after-call` events, nothing in the code is
changed for it.

DynamoDB capacity is computed from item sizes, as the DynamoDB Developer Guide defines it ("Item sizes and
formats", "Read and write operations"; moto reports a fixed figure per call, not by size): a write is 1 WRU per
KB of the larger of the item before and after (PutItem, UpdateItem, DeleteItem; a failed conditional write
consumes too), twice that in a transaction; a read is 1 RRU per 4 KB strongly consistent, half eventually
consistent; BatchGetItem rounds each item up and a Query rounds the sum of the items returned. The item before
a write is read with a separate, uncounted client. A key that is not found is counted at the minimum (one half
or one unit), which is an upper bound.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import io
import logging
import math
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines Lambda writes per invocation (text format)


# -- DynamoDB item sizes (Developer Guide, "Item sizes and formats") -------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    ((kind, x),) = value.items()
    if kind == "S":
        return len(x.encode("utf-8"))
    if kind == "N":
        return _number_size(x)
    if kind == "B":
        return len(x) if isinstance(x, bytes) else len(base64.b64decode(x))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(e.encode("utf-8")) for e in x)
    if kind == "NS":
        return sum(_number_size(e) for e in x)
    if kind == "BS":
        return sum(len(e) for e in x)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in x)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in x.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item in DynamoDB's wire format: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in (item or {}).items())


def write_units(before: int, after: int) -> float:
    return float(max(1, math.ceil(max(before, after) / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


# -- counting ---------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests and capacity units by (function, service, operation)."""

    requests: collections.Counter = field(default_factory=collections.Counter)
    wru: collections.Counter = field(default_factory=collections.Counter)
    rru: collections.Counter = field(default_factory=collections.Counter)
    log_bytes: collections.Counter = field(default_factory=collections.Counter)
    invocations: collections.Counter = field(default_factory=collections.Counter)
    seconds: collections.Counter = field(default_factory=collections.Counter)  # wall time per function
    cpu: collections.Counter = field(default_factory=collections.Counter)  # CPU time per function
    lock: threading.Lock = field(default_factory=threading.Lock)


class RequestCounter:
    """botocore event hooks on the app's clients: every request counted under the function running now."""

    def __init__(self, tally: Tally, shadow_dynamodb: Any):
        self.tally = tally
        self.shadow = shadow_dynamodb
        self.function = "-"

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before_dynamodb)
        client.meta.events.register("after-call.*.*", self._after)

    def _key_of(self, op: dict[str, Any]) -> dict[str, Any]:
        return op.get("Key") or {k: op["Item"][k] for k in ("pk", "sk")}

    def _size_now(self, table: str, key: dict[str, Any]) -> int:
        return item_size(self.shadow.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item"))

    def _targets(self, name: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(params["TableName"], self._key_of(params))]
        if name == "TransactWriteItems":
            return [(op["TableName"], self._key_of(op)) for item in params["TransactItems"] for op in item.values()]
        if name == "BatchWriteItem":
            return [(table, self._key_of(next(iter(w.values()))))
                    for table, writes in params["RequestItems"].items() for w in writes]
        return []

    def _before_dynamodb(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        targets = self._targets(model.name, params)
        context["bench_targets"] = [(t, k, self._size_now(t, k)) for t, k in targets]
        context["bench_params"] = params

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
               **_: Any) -> None:
        service = model.service_model.service_name
        row = (self.function, service, model.name)
        wru = rru = 0.0
        if service == "dynamodb":
            params = context.get("bench_params", {})
            for table, key, before in context.get("bench_targets", []):
                wru += write_units(before, self._size_now(table, key))
            if model.name == "TransactWriteItems":
                wru *= 2
            if model.name == "GetItem":
                rru = read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
            elif model.name == "BatchGetItem":
                for table, request in params.get("RequestItems", {}).items():
                    found = [item_size(i) for i in parsed.get("Responses", {}).get(table, [])]
                    missing = len(request["Keys"]) - len(found)
                    consistent = bool(request.get("ConsistentRead"))
                    rru += sum(read_units(s, consistent) for s in found) + missing * read_units(0, consistent)
            elif model.name == "Query":
                rru = read_units(sum(item_size(i) for i in parsed.get("Items", [])), bool(params.get("ConsistentRead")))
        with self.tally.lock:
            self.tally.requests[row] += 1
            self.tally.wru[row] += wru
            self.tally.rru[row] += rru

    @contextlib.contextmanager
    def running(self, function: str) -> Iterator[None]:
        """One invocation of `function`: its wall and CPU time, and the bytes it logs (stdout and logging)."""
        self.function = function
        out = io.StringIO()
        swapped = [(h, h.setStream(out)) for h in _stream_handlers()]
        began, cpu = time.perf_counter(), time.process_time()
        try:
            with contextlib.redirect_stdout(out):
                yield
        finally:
            for handler, stream in swapped:
                handler.setStream(stream)
            with self.tally.lock:
                self.tally.invocations[function] += 1
                self.tally.seconds[function] += time.perf_counter() - began
                self.tally.cpu[function] += time.process_time() - cpu
                self.tally.log_bytes[function] += len(out.getvalue().encode()) + LAMBDA_PLATFORM_LOG_BYTES
            self.function = "-"


def _stream_handlers() -> list[logging.StreamHandler]:
    """Every handler writing to a stream (Powertools' and the app's): what Lambda sends to CloudWatch Logs."""
    loggers = [logging.getLogger(), *(v for v in logging.Logger.manager.loggerDict.values()
                                      if isinstance(v, logging.Logger))]
    return [h for lg in loggers for h in lg.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


class Locked:
    """One call at a time: moto in-process is not safe under the sender's threads (real DynamoDB is)."""

    def __init__(self, real: Any, lock: threading.Lock):
        self._real, self._lock = real, lock
        self.exceptions, self.meta = getattr(real, "exceptions", None), getattr(real, "meta", None)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


class FaultySES:
    """SES answering 20 % of calls with a transient error (500/503) and 10 % with a throttle (429)."""

    def __init__(self, real: Any, transient: float, throttle: float, seed: int = 18):
        self.real, self.transient, self.throttle = real, transient, throttle
        self.rng = random.Random(seed)
        self.refused: collections.Counter[str] = collections.Counter()
        self.accepted: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def send_email(self, **kwargs: Any) -> Any:
        with self.lock:
            r = self.rng.random()
        if r < self.transient:
            code, status = ("InternalFailure", 500) if r < self.transient / 2 else ("ServiceUnavailable", 503)
        elif r < self.transient + self.throttle:
            code, status = "TooManyRequestsException", 429
        else:
            out = self.real.send_email(**kwargs)
            tags = {t["Name"]: t["Value"] for t in kwargs.get("EmailTags", [])}
            with self.lock:
                self.accepted.append((tags["notis_send"], tags["notis_key"], out["MessageId"]))
            return out
        with self.lock:
            self.refused[code] += 1
        raise ClientError({"Error": {"Code": code, "Message": "simulated"}, "ResponseMetadata": {"HTTPStatusCode":
                                                                                                 status}}, "SendEmail")


def _ses_event(kind: str, send_tag: str, key: str, message_id: str) -> dict[str, Any]:
    return {
        "version": "0", "id": "e", "source": "aws.ses", "account": "123456789012", "region": "eu-north-1",
        "detail-type": {"Send": "Email Sent", "Delivery": "Email Delivered"}[kind], "resources": [],
        "detail": {"eventType": kind, "mail": {
            "timestamp": "2026-12-04T10:00:00.000Z", "source": "notis@example.org", "messageId": message_id,
            "destination": ["someone@example.se"],
            "tags": {"notis_send": [send_tag], "notis_key": [key], "ses:configuration-set": ["notis"]}}},
    }


@dataclass
class CostRun:
    emails: int
    sent: int
    duplicates: int
    lost: int
    tally: Tally
    ses_refused: dict[str, int]
    send_cpu_per_email: float


def run(emails: int, *, faults: bool, batch_size: int = 10) -> CostRun:
    """The pipeline on in-process moto for `emails` distinct people; every AWS request counted."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_SESSION_TOKEN="bench",
                      AWS_DEFAULT_REGION="eu-north-1", AWS_REGION="eu-north-1",
                      NOTIS_LOCAL_STATE=str(Path(tempfile.gettempdir()) / "notis-bench-no-stack.json"))
    import boto3
    from moto import mock_aws

    from chalicelib import aws as aws_clients
    from chalicelib.campaigns.handler import handle_import
    from chalicelib.config import load_settings
    from chalicelib.handlers import handle_send, handle_ses_event
    from chalicelib.logs import configure
    from notis_cli.main import main as notis
    from notis_cli.provision import provision

    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # as deployed (the template sets no level)
    configure(logging.getLogger("notis"), "INFO")  # app.py: Chalice's app.log, where `notis.*` loggers go
    tally = Tally()
    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        aws_clients.reset_clients()
        names = provision(session_or_clients=aws_clients.client, settings=load_settings())
        os.environ.update(names["env"])
        settings = replace(load_settings(), max_send_rate=100_000.0)  # no waiting: the rate runs measure that
        counter = RequestCounter(tally, boto3.client("dynamodb", region_name="eu-north-1"))
        lock = threading.Lock()
        for service in ("dynamodb", "sqs", "sesv2", "s3"):
            counter.attach(aws_clients.client(service))

        upload = Path(tmp) / "kunder.csv"
        upload.write_bytes(b"Namn;E-post\r\n" + "".join(
            f"Person {i};p{i:07d}@example.se\r\n" for i in range(emails)).encode())
        counter.function = "staff"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert notis(["upload", str(upload), "--incident", "korkortsportalen-2024", "--audience", "customers"]) == 0
        sqs = aws_clients.client("sqs")
        shadow_sqs = boto3.client("sqs", region_name="eu-north-1")

        def poll(queue: str, size: int) -> list[dict[str, Any]]:
            counter.function = "event source"  # Lambda's SQS poller: billed to the account like any request
            return sqs.receive_message(QueueUrl=names["queues"][queue], MaxNumberOfMessages=size,
                                       WaitTimeSeconds=0).get("Messages", [])

        def event(messages: list[dict[str, Any]]) -> dict[str, Any]:
            return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                                 "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs"}
                                for m in messages]}

        while messages := poll(settings.import_queue, 1):
            with counter.running("import"):
                handle_import(event(messages), settings)
            counter.function = "event source"
            sqs.delete_message_batch(QueueUrl=names["queues"][settings.import_queue],
                                     Entries=[{"Id": "0", "ReceiptHandle": messages[0]["ReceiptHandle"]}])

        real_ses = aws_clients.client("sesv2")
        ses = FaultySES(real_ses, 0.20, 0.10) if faults else FaultySES(real_ses, 0.0, 0.0)
        ddb = Locked(aws_clients.client("dynamodb"), lock)
        locked_ses = Locked(ses, lock)
        locked_ses.exceptions = real_ses.exceptions
        send_cpu = 0.0
        for _ in range(10_000):
            messages = poll(settings.send_queue, batch_size)
            if not messages:
                break
            url = names["queues"][settings.send_queue]
            cpu = time.process_time()
            with counter.running("send"):
                response = handle_send(event(messages), settings, ses=locked_ses, dynamodb=ddb,
                                       sleep=lambda s: None, remaining_ms=lambda: 300_000)
            send_cpu += time.process_time() - cpu
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            done = [m for m in messages if m["MessageId"] not in failed]
            counter.function = "event source"
            if done:  # the event source deletes what the function settled
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
            for m in messages:  # the rest comes back after its visibility timeout (not a request of ours)
                if m["MessageId"] in failed:
                    shadow_sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                         VisibilityTimeout=0)

        for send_tag, key, message_id in ses.accepted:
            for kind in ("Send", "Delivery"):
                with counter.running("ses-events"):
                    handle_ses_event(_ses_event(kind, send_tag, key, message_id), settings)

        from chalicelib.sending.ledger import Ledger

        ledger = Ledger(boto3.client("dynamodb", region_name="eu-north-1"), settings.table)
        entries = list(ledger.entries("korkortsportalen-2024.customers.notice"))
        per_key = collections.Counter(k for _, k, _ in ses.accepted)
        aws_clients.reset_clients()
    delivered = sum(1 for e in entries if e["state"] == "delivered")
    return CostRun(emails=emails, sent=len(ses.accepted), duplicates=sum(1 for n in per_key.values() if n > 1),
                   lost=emails - delivered, tally=tally, ses_refused=dict(ses.refused),
                   send_cpu_per_email=send_cpu / max(1, len(ses.accepted)))


# -- prices -----------------------------------------------------------------------------------------------------

# USD list prices; bench/README.md says where each comes from and when it was read.
PRICES = {
    "ses_per_1000": Decimal("0.10"),  # outbound e-mail
    "ddb_per_million_wru": Decimal("0.625"),  # on-demand, US East after the November 2024 cut (see README)
    "ddb_per_million_rru": Decimal("0.125"),
    "sqs_per_million": Decimal("0.40"),  # standard queue, per 64 KB chunk of a request
    "kms_per_10000": Decimal("0.03"),
    "lambda_per_million_requests": Decimal("0.20"),
    "lambda_per_gb_second": Decimal("0.0000166667"),  # x86_64
    "logs_per_gb": Decimal("0.50"),  # CloudWatch Logs standard ingestion
}
MEMORY_MB = {"import": 1024, "send": 512, "ses-events": 256}  # .chalice/resources.json MemorySize


def memory_from_template() -> dict[str, int]:
    """The functions' MemorySize from the template (falls back to the figures above)."""
    try:
        from notis_cli.provision import load_template

        resources = load_template()["Resources"]
        logical = {"import": "ImportRecipients", "send": "SendNotifications", "ses-events": "SesEvents"}
        return {f: int(resources[name]["Properties"]["MemorySize"]) for f, name in logical.items()}
    except Exception:  # pragma: no cover - the bench still prints with the known figures
        return dict(MEMORY_MB)


def _usd(x: float | Decimal) -> str:
    return f"${Decimal(str(x)):.5f}"


@dataclass
class Fixed:
    """The rate-independent part of the cost per 1,000 e-mails, and what it is made of."""

    lines: list[str]
    usd: Decimal
    ses_attempts_per_sent: float
    dynamodb_usd: Decimal  # part of usd: the README's upper bound doubles it (the price before November 2024)


def fixed_costs(r: CostRun, memory: dict[str, int]) -> Fixed:
    """Per 1,000 e-mails sent: every request of the run (scaled), its capacity, and the rate-independent cost."""
    t, scale = r.tally, 1000 / max(1, r.sent)
    lines = [f"  {'function':<13}{'service':<9}{'operation':<20}{'requests':>9}{'capacity':>14}"]
    for row in sorted(t.requests):
        fn, service, op = row
        cap = (f"{t.wru[row] * scale:9.1f} WRU" if t.wru[row] else f"{t.rru[row] * scale:9.1f} RRU" if t.rru[row]
               else "")
        lines.append(f"  {fn:<13}{service:<9}{op:<20}{t.requests[row] * scale:9.1f}{cap:>14}")
    wru = sum(t.wru.values()) * scale
    rru = sum(t.rru.values()) * scale
    sqs = sum(n for (_, svc, _), n in t.requests.items() if svc == "sqs") * scale
    ses_ok = sum(n for (_, svc, op), n in t.requests.items() if svc == "sesv2" and op == "SendEmail") * scale
    refused = sum(r.ses_refused.values()) * scale
    kms = 4.0  # estimate, bench/README.md: S3 upload put + get; SQS data keys reused for 300 s per role
    P = PRICES
    ddb_usd = Decimal(wru) * P["ddb_per_million_wru"] / 10**6 + Decimal(rru) * P["ddb_per_million_rru"] / 10**6
    sqs_usd = Decimal(sqs) * P["sqs_per_million"] / 10**6
    kms_usd = Decimal(kms) * P["kms_per_10000"] / 10**4
    invocations = sum(t.invocations[f] for f in ("import", "ses-events")) * scale
    gbs = {f: t.seconds[f] * scale * memory[f] / 1024 for f in ("import", "ses-events")}
    lambda_usd = (Decimal(invocations) * P["lambda_per_million_requests"] / 10**6
                  + Decimal(sum(gbs.values())) * P["lambda_per_gb_second"])
    log_bytes = sum(t.log_bytes.values()) * scale
    logs_usd = Decimal(log_bytes) * P["logs_per_gb"] / 2**30
    ms_event = t.seconds["ses-events"] / max(1, t.invocations["ses-events"]) * 1000
    lines += [
        f"  DynamoDB     {wru:,.0f} WRU ({wru / 1000:.2f} per e-mail), {rru:,.0f} RRU ({rru / 1000:.2f} per e-mail)"
        f"{_usd(ddb_usd):>18}",
        f"  SQS          {sqs:,.1f} requests (each body under 64 KB){_usd(sqs_usd):>33}",
        f"  SES          {ses_ok:,.0f} SendEmail accepted, {refused:,.0f} refused (transient/throttled: SES bills "
        "messages, not refused calls)",
        f"  KMS          ~{kms:.0f} requests (estimate){_usd(kms_usd):>43}",
        f"  Lambda       {invocations:,.0f} invocations of import + ses-events; ses-events "
        f"{memory['ses-events']} MB x {ms_event:.1f} ms = {gbs['ses-events']:.2f} GB-s, import "
        f"{memory['import']} MB = {gbs['import']:.2f} GB-s{_usd(lambda_usd):>10}",
        f"  Logs         {log_bytes / 1e6:.2f} MB to CloudWatch Logs ({LAMBDA_PLATFORM_LOG_BYTES} B of Lambda's own "
        f"lines per invocation){_usd(logs_usd):>12}",
        "  EventBridge  SES events on the default bus: AWS service events, no charge                 $0.00000",
    ]
    attempts = (ses_ok + refused) / max(1.0, ses_ok)
    return Fixed(lines, ddb_usd + sqs_usd + kms_usd + lambda_usd + logs_usd, attempts, ddb_usd)


def send_lambda_usd(seconds_per_1000: float, memory_mb: int, invocations_per_1000: float) -> tuple[float, Decimal]:
    """GB-seconds and cost of the send function for 1,000 e-mails (its billed time is its wall time)."""
    gbs = seconds_per_1000 * memory_mb / 1024
    usd = (Decimal(gbs) * PRICES["lambda_per_gb_second"]
           + Decimal(invocations_per_1000) * PRICES["lambda_per_million_requests"] / 10**6)
    return gbs, usd


if __name__ == "__main__":  # pragma: no cover - run through bench/send.py
    sys.exit("run bench/send.py --cost")
