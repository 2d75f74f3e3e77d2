"""Create the app's AWS resources on an emulator (moto) from the deployment's own merge template.

`.chalice/resources.json` is the single source of truth for names and properties: tests and the local stack
provision from it, so a queue renamed or a visibility timeout changed there is what every developer runs.
Only the few intrinsics the template uses are resolved (Ref, Fn::Sub, Fn::GetAtt); anything else (a KMS key,
a secret) is left alone, because the emulator does not need it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from chalicelib.config import Settings

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / ".chalice" / "resources.json"
STACK_NAME = "notis"

# CloudFormation queue properties that are also SQS queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
)
_SUB = re.compile(r"\$\{([^}!][^}]*)\}")


class Unresolvable(ValueError):
    """A template value that needs a real deployment (a generated id, a parameter without default)."""


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _client_factory(session_or_clients: Any) -> Callable[[str], Any]:
    """Accept a boto3 Session, a `client(name)` callable (chalicelib.aws.client) or a {name: client} mapping."""
    if isinstance(session_or_clients, Mapping):
        return lambda name: session_or_clients[name]
    if hasattr(session_or_clients, "client"):
        return lambda name: session_or_clients.client(name)
    if callable(session_or_clients):
        return session_or_clients
    raise TypeError("session_or_clients must be a boto3 Session, a client(name) callable or a mapping")


class Resolver:
    """Resolve the template's simple intrinsics against known parameter values and resource names."""

    def __init__(self, template: dict[str, Any], pseudo: dict[str, str], parameters: dict[str, str]) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.pseudo = pseudo
        self.parameters = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        } | parameters

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.getatt(resource, attribute)
            if fn == "Fn::Sub":
                return self.sub(arg)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value

    def sub(self, arg: str | list[Any]) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self(v) for k, v in arg[1].items()})

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                return str(self.getatt(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB.sub(one, text)

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self._type(name)
        if kind == "AWS::SQS::Queue":
            return self.queue_url(name)
        if kind in ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SES::ConfigurationSet"):
            return self.physical_name(name)
        raise Unresolvable(f"Ref {name}")

    def getatt(self, name: str, attribute: str) -> str:
        kind = self._type(name)
        physical = self.physical_name(name)
        region, account, partition = (self.pseudo[k] for k in ("AWS::Region", "AWS::AccountId", "AWS::Partition"))
        if kind == "AWS::SQS::Queue":
            match attribute:
                case "Arn":
                    return f"arn:{partition}:sqs:{region}:{account}:{physical}"
                case "QueueName":
                    return physical
                case "QueueUrl":
                    return self.queue_url(name)
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{partition}:s3:::{physical}"
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:{partition}:dynamodb:{region}:{account}:table/{physical}"
        raise Unresolvable(f"Fn::GetAtt {name}.{attribute}")

    def physical_name(self, name: str) -> str:
        key = {
            "AWS::SQS::Queue": "QueueName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::SES::ConfigurationSet": "Name",
        }.get(self._type(name))
        props = self.resources[name].get("Properties", {})
        if key is None or key not in props:
            raise Unresolvable(f"{name} has no explicit name in the template")
        return str(self(props[key]))

    def queue_url(self, name: str) -> str:
        # The URL is only known once created; provision() records it here.
        url = self.pseudo.get(f"url:{name}")
        if url is None:
            raise Unresolvable(f"URL of queue {name} before it is created")
        return url

    def _type(self, name: str) -> str:
        if name not in self.resources:
            raise Unresolvable(f"unknown resource {name}")
        return str(self.resources[name].get("Type", ""))


def _of_type(template: dict[str, Any], kind: str) -> list[str]:
    return [name for name, res in template.get("Resources", {}).items() if res.get("Type") == kind]


def _queues_in_dependency_order(template: dict[str, Any]) -> list[str]:
    """Dead-letter queues first: a queue's redrive policy names its DLQ's ARN."""
    names = _of_type(template, "AWS::SQS::Queue")
    return sorted(names, key=lambda n: "RedrivePolicy" in template["Resources"][n].get("Properties", {}))


def _create_queues(sqs: Any, template: dict[str, Any], resolve: Resolver) -> dict[str, str]:
    urls: dict[str, str] = {}
    for logical in _queues_in_dependency_order(template):
        props = template["Resources"][logical]["Properties"]
        attributes = {k: str(resolve(props[k])).lower() if isinstance(props[k], bool) else str(resolve(props[k]))
                      for k in _QUEUE_ATTRIBUTES if k in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(resolve(props["RedrivePolicy"]))
        name = resolve.physical_name(logical)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        resolve.pseudo[f"url:{logical}"] = url
        urls[name] = url
    return urls


def _create_bucket(s3: Any, props: dict[str, Any], resolve: Resolver, region: str) -> str:
    name = str(resolve(props["BucketName"]))
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    status = props.get("VersioningConfiguration", {}).get("Status")
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    return name


def _notify(s3: Any, bucket: str, props: dict[str, Any], resolve: Resolver) -> None:
    """CloudFormation's notification shape -> the S3 API's (one event per CFN entry)."""
    queues = []
    for entry in props.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
        config: dict[str, Any] = {"QueueArn": resolve(entry["Queue"]), "Events": [entry["Event"]]}
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        if rules:
            config["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
        queues.append(config)
    if queues:
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queues}
        )


def _drain_s3_test_events(sqs: Any, url: str) -> None:
    """S3 (and moto) post one `s3:TestEvent` when a notification is configured; tests want an empty queue.

    A real deployment gets the same message once, so the import handler must ignore it anyway.
    """
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        tests = [m for m in messages if '"s3:TestEvent"' in m["Body"]]
        for m in messages:
            if m in tests:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            else:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        if not tests:
            return


def _create_table(dynamodb: Any, props: dict[str, Any], resolve: Resolver) -> str:
    name = str(resolve(props["TableName"]))
    try:
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )
    except dynamodb.exceptions.ResourceInUseException:
        return name
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
    return name


def _create_configuration_set(sesv2: Any, props: dict[str, Any], resolve: Resolver) -> str:
    name = str(resolve(props["Name"]))
    try:
        sesv2.create_configuration_set(ConfigurationSetName=name)
    except sesv2.exceptions.ClientError as exc:
        if "AlreadyExists" not in exc.response["Error"]["Code"]:
            raise
    return name


def _function_environment(template: dict[str, Any], resolve: Resolver) -> dict[str, str]:
    """The environment the template gives the functions, where it resolves locally (names, rates)."""
    env: dict[str, str] = {}
    for res in template.get("Resources", {}).values():
        variables = res.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            try:
                env[key] = str(resolve(value))
            except Unresolvable:
                continue
    return env


def provision(
    template: dict[str, Any] | None = None,
    *,
    session_or_clients: Any,
    settings: Settings,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create bucket, queues, table, notification and SES identity as the template defines them.

    Returns {"bucket", "table", "queues": {name: url}, "configuration_set", "sender", "region", "account",
    "env": {NOTIS_*: value}} where env is the functions' environment from the template, resolved.
    Safe to run twice against the same emulator.
    """
    template = template if template is not None else load_template()
    client = _client_factory(session_or_clients)
    sqs, s3 = client("sqs"), client("s3")
    region = sqs.meta.region_name
    account = client("sts").get_caller_identity()["Account"]
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::StackName": STACK_NAME,
        "AWS::URLSuffix": "amazonaws.com",
    }
    resolve = Resolver(template, pseudo, parameters or {})
    resources = template.get("Resources", {})

    queues = _create_queues(sqs, template, resolve)

    buckets = []
    for logical in _of_type(template, "AWS::S3::Bucket"):
        props = resources[logical]["Properties"]
        bucket = _create_bucket(s3, props, resolve, region)
        _notify(s3, bucket, props, resolve)
        for entry in props.get("NotificationConfiguration", {}).get("QueueConfigurations", []):
            arn = resolve(entry["Queue"])
            _drain_s3_test_events(sqs, queues[arn.rsplit(":", 1)[1]])
        buckets.append(bucket)

    tables = [_create_table(client("dynamodb"), resources[n]["Properties"], resolve)
              for n in _of_type(template, "AWS::DynamoDB::Table")]
    config_sets = [_create_configuration_set(client("sesv2"), resources[n]["Properties"], resolve)
                   for n in _of_type(template, "AWS::SES::ConfigurationSet")]

    sender = parseaddr(settings.sender)[1]
    if sender:
        client("ses").verify_email_identity(EmailAddress=sender)

    return {
        "bucket": buckets[0] if buckets else None,
        "table": tables[0] if tables else None,
        "queues": queues,
        "configuration_set": config_sets[0] if config_sets else None,
        "sender": sender,
        "region": region,
        "account": account,
        "env": _function_environment(template, resolve),
    }
