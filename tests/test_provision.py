"""The local/test AWS is provisioned from the deployment's template and behaves as the data flow needs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

import pytest

from chalicelib.aws import client
from notis_cli.provision import Resolver, Unresolvable, load_template, provision


def _receive(url: str) -> list[dict[str, Any]]:
    return client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])


def _s3_keys(messages: list[dict[str, Any]]) -> list[str]:
    keys = []
    for message in messages:
        for record in json.loads(message["Body"]).get("Records", []):
            keys.append(unquote_plus(record["s3"]["object"]["key"]))
    return keys


def test_upload_under_uploads_reaches_the_import_queue(aws):
    key = "uploads/korkortsportalen-2024/customers/kunder juni.csv"
    client("s3").put_object(Bucket=aws["bucket"], Key=key, Body=b"email\nanna@example.se\n")
    messages = _receive(aws["queues"]["notis-import"])
    assert _s3_keys(messages) == [key]


def test_files_outside_uploads_do_not_start_an_import(aws):
    client("s3").put_object(Bucket=aws["bucket"], Key="reports/c1/summary.json", Body=b"{}")
    assert _s3_keys(_receive(aws["queues"]["notis-import"])) == []


def test_failing_import_message_moves_to_its_dead_letter_queue_after_max_receives(aws):
    template = load_template()
    redrive = template["Resources"]["ImportQueue"]["Properties"]["RedrivePolicy"]
    sqs = client("sqs")
    url, dlq = aws["queues"]["notis-import"], aws["queues"]["notis-import-dlq"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(redrive["maxReceiveCount"]):
        (message,) = _receive(url)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert _receive(url) == []
    assert [m["Body"] for m in _receive(dlq)] == ["poison"]


def test_queue_attributes_come_from_the_template(aws):
    template = load_template()["Resources"]
    sqs = client("sqs")
    for logical, res in template.items():
        if res.get("Type") != "AWS::SQS::Queue":
            continue
        props = res["Properties"]
        attrs = sqs.get_queue_attributes(QueueUrl=aws["queues"][props["QueueName"]], AttributeNames=["All"])[
            "Attributes"
        ]
        assert int(attrs["VisibilityTimeout"]) == props["VisibilityTimeout"], logical
        if "RedrivePolicy" in props:
            policy = json.loads(attrs["RedrivePolicy"])
            dlq_logical = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert policy["deadLetterTargetArn"].endswith(":" + template[dlq_logical]["Properties"]["QueueName"])
            assert int(policy["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]


def test_table_bucket_and_sender_are_ready(aws):
    table = client("dynamodb").describe_table(TableName=aws["table"])["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    ttl = client("dynamodb").describe_time_to_live(TableName=aws["table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert client("s3").get_bucket_versioning(Bucket=aws["bucket"])["Status"] == "Enabled"
    verified = client("ses").list_identities(IdentityType="EmailAddress")["Identities"]
    assert aws["sender"] in verified
    settings = aws["settings"]
    assert (settings.bucket, settings.table, settings.send_queue) == (aws["bucket"], aws["table"], "notis-send")


def test_a_sender_address_can_send_through_the_configuration_set(aws):
    settings = aws["settings"]
    sent = client("sesv2").send_email(
        FromEmailAddress=settings.sender,
        Destination={"ToAddresses": ["anna@example.se"]},
        Content={"Simple": {"Subject": {"Data": "Test"}, "Body": {"Text": {"Data": "Hej"}}}},
        ConfigurationSetName=settings.configuration_set,
    )
    assert sent["MessageId"]
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    assert len(ses_backends[DEFAULT_ACCOUNT_ID][aws["region"]].sent_messages) == 1


def test_provision_twice_is_harmless(aws):
    again = provision(session_or_clients=client, settings=aws["settings"])
    assert again["queues"] == aws["queues"]
    assert again["bucket"] == aws["bucket"]


def test_resolver_refuses_what_only_a_deployment_knows():
    template = load_template()
    resolve = Resolver(template, {"AWS::Region": "eu-north-1", "AWS::AccountId": "1", "AWS::Partition": "aws"}, {})
    with pytest.raises(Unresolvable):
        resolve({"Ref": "HmacKeySecret"})
    with pytest.raises(Unresolvable):
        resolve({"Ref": "SenderAddress"})  # no default: the operator must choose it
    assert resolve({"Fn::Sub": "${AWS::Region}-${RetentionDays}"}) == "eu-north-1-90"
    assert resolve({"Fn::Sub": ["x-${A}", {"A": {"Fn::GetAtt": ["SendQueue", "QueueName"]}}]}) == "x-notis-send"


def test_session_or_clients_must_be_usable():
    with pytest.raises(TypeError):
        provision({}, session_or_clients=42, settings=None)  # type: ignore[arg-type]
