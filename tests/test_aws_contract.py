"""The strict-AWS contract layer (notis_cli.contract), rule by rule, as specifications.

Each rule refuses a violating call with the error code real AWS returns, through a real boto3 client under
mock_aws, and lets the compliant call at the boundary through. The sources are cited in the rule modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

REGION = "eu-north-1"
SENDER = "avsandare@example.se"


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def code_of(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


# -- SES v2 SendEmail ------------------------------------------------------------------------------------------


@pytest.fixture
def sesv2(session: boto3.session.Session) -> Any:
    session.client("ses").verify_email_identity(EmailAddress=SENDER)
    return session.client("sesv2")


def send(sesv2: Any, **overrides: Any) -> str:
    request: dict[str, Any] = {
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": ["mottagare@example.se"]},
        "Content": {"Simple": {"Subject": {"Data": "Ämne"}, "Body": {"Text": {"Data": "Text"}}}},
    }
    request.update(overrides)
    return str(sesv2.send_email(**request)["MessageId"])


def test_ses_tag_value_with_a_dot_is_refused_as_ses_refuses_it(sesv2: Any) -> None:
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, EmailTags=[{"Name": "notis_send", "Value": "korkortsportalen-2024.customers.notice"}])


def test_ses_tag_of_256_characters_passes_and_257_is_refused(sesv2: Any) -> None:
    assert send(sesv2, EmailTags=[{"Name": "n" * 256, "Value": "v" * 256}])
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, EmailTags=[{"Name": "n", "Value": "v" * 257}])
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, EmailTags=[{"Name": "n" * 257, "Value": "v"}])


@hsettings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(st.sampled_from("abcXYZ019_-.:/ å@+="), min_size=1, max_size=300))
def test_ses_tag_values_pass_exactly_when_they_are_letters_digits_underscores_dashes_up_to_256(
    sesv2: Any, value: str
) -> None:
    allowed = len(value) <= 256 and all(c.isascii() and (c.isalnum() or c in "_-") for c in value)
    try:
        send(sesv2, EmailTags=[{"Name": "notis_key", "Value": value}])
        accepted = True
    except sesv2.exceptions.BadRequestException:
        accepted = False
    assert accepted == allowed


@pytest.mark.parametrize("address", ["åsa@example.se", "asa@exämple.se", "Åsa Öberg <asa@example.se>"])
def test_ses_non_ascii_destination_is_refused(sesv2: Any, address: str) -> None:
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, Destination={"ToAddresses": [address]})
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, Destination={"ToAddresses": ["ok@example.se"], "BccAddresses": [address]})


@pytest.mark.parametrize("address", ["asa@xn--exmple-cua.se", "=?utf-8?q?=C3=85sa?= <asa@example.se>"])
def test_ses_punycode_domain_and_encoded_name_pass(sesv2: Any, address: str) -> None:
    assert send(sesv2, Destination={"ToAddresses": [address]})


@pytest.mark.parametrize("sender", ["Körkortsportalen <avsandare@example.se>", "a@example.se, b@example.se",
                                    "avsandare", "xn--avsndare-5za@example.se"])
def test_ses_sender_must_be_one_ascii_address_with_an_encoded_name(sesv2: Any, sender: str) -> None:
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, FromEmailAddress=sender)


def test_ses_sender_with_rfc2047_name_passes(sesv2: Any) -> None:
    assert send(sesv2, FromEmailAddress="=?utf-8?q?K=C3=B6rkortsportalen?= <avsandare@example.se>")


def test_ses_reply_to_is_held_to_the_same_rule(sesv2: Any) -> None:
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, ReplyToAddresses=["dataskydd@körkort.se"])
    assert send(sesv2, ReplyToAddresses=["dataskydd@xn--krkort-wxa.se"])


def test_ses_at_most_50_recipients(sesv2: Any) -> None:
    fifty = [f"m{i}@example.se" for i in range(50)]
    assert send(sesv2, Destination={"ToAddresses": fifty[:30], "CcAddresses": fifty[30:]})
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, Destination={"ToAddresses": fifty, "BccAddresses": ["m50@example.se"]})


def test_ses_raw_message_is_limited_to_40_mib_after_base64() -> None:
    from notis_cli.contract import ses

    # 31,457,280 raw bytes are exactly 41,943,040 in base64: the largest message SES v2 takes.
    largest = 40 * 1024 * 1024 // 4 * 3
    assert ses.send_email(None, {"Content": {"Raw": {"Data": b"x" * largest}}}) is None
    refused = ses.send_email(None, {"Content": {"Raw": {"Data": b"x" * (largest + 1)}}})
    assert refused is not None and refused.code == "BadRequestException"


def test_ses_raw_message_over_the_limit_is_refused_through_the_client(sesv2: Any) -> None:
    raw = b"From: avsandare@example.se\r\nTo: m@example.se\r\nSubject: s\r\n\r\n" + b"x" * (32 * 1024 * 1024)
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, Content={"Raw": {"Data": raw}})


def test_ses_configuration_set_name_letters_digits_dashes_underscores_up_to_64(sesv2: Any) -> None:
    name = "c" * 64
    sesv2.create_configuration_set(ConfigurationSetName=name)
    assert send(sesv2, ConfigurationSetName=name)
    with pytest.raises(sesv2.exceptions.BadRequestException):
        sesv2.create_configuration_set(ConfigurationSetName="c" * 65)
    with pytest.raises(sesv2.exceptions.BadRequestException):
        send(sesv2, ConfigurationSetName="notis.prod")


@pytest.mark.raw_moto
def test_moto_alone_accepts_what_ses_refuses(sesv2: Any) -> None:
    """Why the layer exists: without it, the tag SES refuses goes through."""
    assert send(sesv2, EmailTags=[{"Name": "notis_send", "Value": "a.b"}],
                Destination={"ToAddresses": ["åsa@exämple.se"]})


# -- SQS -------------------------------------------------------------------------------------------------------


@pytest.fixture
def sqs(session: boto3.session.Session) -> Any:
    return session.client("sqs")


@pytest.fixture
def small_queue(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"])


def test_sqs_body_is_measured_in_bytes_against_the_queues_maximum(sqs: Any, small_queue: str) -> None:
    sqs.send_message(QueueUrl=small_queue, MessageBody="ä" * 512)  # 1,024 bytes: exactly the maximum
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=small_queue, MessageBody="ä" * 512 + "a")  # 1,025 bytes, 513 characters
    assert code_of(refused.value) == "InvalidParameterValue"


def test_sqs_message_attributes_count_in_the_size(sqs: Any, small_queue: str) -> None:
    attributes = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 = 8 bytes
    sqs.send_message(QueueUrl=small_queue, MessageBody="x" * 1016, MessageAttributes=attributes)
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=small_queue, MessageBody="x" * 1017, MessageAttributes=attributes)
    assert code_of(refused.value) == "InvalidParameterValue"


def test_sqs_default_queue_takes_1_mib(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="default")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1_048_576)
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1_048_576 + "y")
    assert code_of(refused.value) == "InvalidParameterValue"


def test_sqs_a_changed_maximum_is_looked_up_again(sqs: Any, small_queue: str) -> None:
    sqs.send_message(QueueUrl=small_queue, MessageBody="x")
    sqs.set_queue_attributes(QueueUrl=small_queue, Attributes={"MaximumMessageSize": "2048"})
    sqs.send_message(QueueUrl=small_queue, MessageBody="x" * 2048)


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x1f", "\ufffe", "\uffff", "\ud800"])
def test_sqs_characters_outside_the_xml_set_are_refused(sqs: Any, small_queue: str, char: str) -> None:
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=small_queue, MessageBody=f"a{char}b")
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message_batch(QueueUrl=small_queue, Entries=[{"Id": "1", "MessageBody": f"a{char}b"}])


def test_sqs_allowed_characters_pass(sqs: Any, small_queue: str) -> None:
    sqs.send_message(QueueUrl=small_queue, MessageBody="\t\n\r ~\ud7ff\ue000\ufffd\U00010000\U0010ffff åäö")


def test_sqs_batch_of_10_passes_and_11_is_refused(sqs: Any, small_queue: str) -> None:
    entries = [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)]
    assert len(sqs.send_message_batch(QueueUrl=small_queue, Entries=entries[:10])["Successful"]) == 10
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest) as refused:
        sqs.send_message_batch(QueueUrl=small_queue, Entries=entries)
    assert code_of(refused.value) == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


def test_sqs_batch_ids_must_be_distinct(sqs: Any, small_queue: str) -> None:
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=small_queue, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)


@pytest.mark.parametrize("entry_id", ["a.b", "a" * 81, "å", ""])
def test_sqs_batch_ids_are_up_to_80_letters_digits_dashes_underscores(
    sqs: Any, small_queue: str, entry_id: str
) -> None:
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(QueueUrl=small_queue, Entries=[{"Id": entry_id, "MessageBody": "x"}])


def test_sqs_batch_id_of_80_passes(sqs: Any, small_queue: str) -> None:
    sqs.send_message_batch(QueueUrl=small_queue, Entries=[{"Id": "A-_9" * 20, "MessageBody": "x"}])


def test_sqs_empty_batch_is_refused(sqs: Any, small_queue: str) -> None:
    with pytest.raises(sqs.exceptions.EmptyBatchRequest):
        sqs.send_message_batch(QueueUrl=small_queue, Entries=[])


def test_sqs_batch_total_is_1_mib_in_bytes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="default")["QueueUrl"]
    # 4 x 262,144 bytes = 1,048,576: exactly the limit. In "ä" (2 bytes each) so characters are half of it.
    entries = [{"Id": f"e{i}", "MessageBody": "ä" * 131_072} for i in range(4)]
    assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 4
    entries[3]["MessageBody"] += "x"
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def test_sqs_batch_entry_over_the_queues_maximum_is_refused(sqs: Any, small_queue: str) -> None:
    with pytest.raises(ClientError) as refused:
        sqs.send_message_batch(QueueUrl=small_queue, Entries=[{"Id": "1", "MessageBody": "ä" * 513}])
    assert code_of(refused.value) == "InvalidParameterValue"


@pytest.mark.raw_moto
def test_moto_alone_measures_sqs_bodies_in_characters_and_takes_nul(sqs: Any, small_queue: str) -> None:
    sqs.send_message(QueueUrl=small_queue, MessageBody="ä" * 600 + "\x00")


# -- DynamoDB --------------------------------------------------------------------------------------------------


@pytest.fixture
def dynamodb(session: boto3.session.Session) -> Any:
    client = session.client("dynamodb")
    for table in ("t1", "t2"):
        client.create_table(TableName=table, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    return client


def test_dynamodb_batch_write_of_25_passes_and_26_is_refused(dynamodb: Any) -> None:
    puts = [{"PutRequest": {"Item": {"pk": {"S": str(i)}}}} for i in range(26)]
    dynamodb.batch_write_item(RequestItems={"t1": puts[:20], "t2": puts[20:25]})
    with pytest.raises(ClientError) as refused:
        dynamodb.batch_write_item(RequestItems={"t1": puts[:20], "t2": puts[20:]})
    assert code_of(refused.value) == "ValidationException"


def test_dynamodb_batch_get_of_100_keys_across_tables_passes_and_101_is_refused(dynamodb: Any) -> None:
    keys = [{"pk": {"S": str(i)}} for i in range(101)]
    dynamodb.batch_get_item(RequestItems={"t1": {"Keys": keys[:60]}, "t2": {"Keys": keys[60:100]}})
    with pytest.raises(ClientError) as refused:
        dynamodb.batch_get_item(RequestItems={"t1": {"Keys": keys[:60]}, "t2": {"Keys": keys[60:]}})
    assert code_of(refused.value) == "ValidationException"


def test_dynamodb_expression_of_4_kib_passes_and_one_byte_more_is_refused(dynamodb: Any) -> None:
    """moto answers a long expression with a RecursionError (500), not AWS's ValidationException."""
    def condition(size: int) -> str:
        head = "attribute_not_exists(pk) OR #v IN (:v"
        return head + ", :v" * ((size - len(head) - 1) // 4) + ")"

    fits = condition(4096)
    assert len(fits) <= 4096 < len(fits) + 4
    dynamodb.update_item(TableName="t1", Key={"pk": {"S": "a"}}, UpdateExpression="SET #v = :v",
                         ConditionExpression=fits, ExpressionAttributeNames={"#v": "v"},
                         ExpressionAttributeValues={":v": {"S": "x"}})
    too_long = fits[:-1] + " " * (4097 - len(fits)) + ")"
    for call in (dynamodb.update_item, dynamodb.delete_item):
        kwargs = {"UpdateExpression": "SET #v = :v"} if call == dynamodb.update_item else {}
        with pytest.raises(ClientError) as refused:
            call(TableName="t1", Key={"pk": {"S": "a"}}, ConditionExpression=too_long,
                 ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":v": {"S": "x"}}, **kwargs)
        assert code_of(refused.value) == "ValidationException"


def test_dynamodb_key_of_2048_bytes_is_read_and_one_byte_more_is_refused(dynamodb: Any) -> None:
    """moto refuses an oversized key only when an item is written; GetItem and DeleteItem take any size."""
    dynamodb.get_item(TableName="t1", Key={"pk": {"S": "å" * 1024}})  # 2,048 bytes in UTF-8
    for call in (dynamodb.get_item, dynamodb.delete_item):
        with pytest.raises(ClientError) as refused:
            call(TableName="t1", Key={"pk": {"S": "å" * 1024 + "a"}})
        assert code_of(refused.value) == "ValidationException"


def test_dynamodb_limits_moto_enforces_itself(dynamodb: Any) -> None:
    """Left to moto (checked here so that a moto upgrade that drops one is noticed): item size and transactions."""
    with pytest.raises(ClientError) as big:
        dynamodb.put_item(TableName="t1", Item={"pk": {"S": "a"}, "v": {"S": "x" * 410_000}})
    assert code_of(big.value) == "ValidationException"
    with pytest.raises(ClientError) as big_update:
        dynamodb.update_item(TableName="t1", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                             ExpressionAttributeValues={":v": {"S": "x" * 410_000}})
    assert code_of(big_update.value) == "ValidationException"
    actions = [{"Put": {"TableName": "t1", "Item": {"pk": {"S": str(i)}}}} for i in range(101)]
    dynamodb.transact_write_items(TransactItems=actions[:100])
    with pytest.raises(ClientError) as many:
        dynamodb.transact_write_items(TransactItems=actions)
    assert code_of(many.value) == "ValidationException"


# -- S3 --------------------------------------------------------------------------------------------------------


@pytest.fixture
def s3(session: boto3.session.Session) -> Any:
    client = session.client("s3")
    client.create_bucket(Bucket="notis-contract", CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def test_s3_metadata_of_2_kb_passes_and_one_byte_more_is_refused(s3: Any) -> None:
    # keys and values together: "k" (1 byte) + 2,047 bytes = 2,048 (botocore itself refuses non-ASCII metadata)
    s3.put_object(Bucket="notis-contract", Key="a", Body=b"x", Metadata={"k": "x" * 2047})
    for call in (
        lambda m: s3.put_object(Bucket="notis-contract", Key="a", Body=b"x", Metadata=m),
        lambda m: s3.create_multipart_upload(Bucket="notis-contract", Key="a", Metadata=m),
        lambda m: s3.copy_object(Bucket="notis-contract", Key="b", CopySource={"Bucket": "notis-contract",
                                 "Key": "a"}, Metadata=m, MetadataDirective="REPLACE"),
    ):
        with pytest.raises(ClientError) as refused:
            call({"k": "x" * 2047, "l": ""})
        assert code_of(refused.value) == "MetadataTooLarge"


def test_s3_key_of_1024_utf8_bytes_passes_and_1025_is_refused(s3: Any) -> None:
    s3.put_object(Bucket="notis-contract", Key="ä" * 512, Body=b"x")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="notis-contract", Key="ä" * 512 + "x", Body=b"x")
    assert code_of(refused.value) == "KeyTooLongError"
    with pytest.raises(ClientError):
        s3.create_multipart_upload(Bucket="notis-contract", Key="k" * 1025)


def test_s3_upload_file_goes_through_the_same_rule(s3: Any, tmp_path: Any) -> None:
    path = tmp_path / "kunder.csv"
    path.write_text("email\na@example.se\n", encoding="utf-8")
    s3.upload_file(str(path), "notis-contract", "uploads/x/y/kunder.csv")
    with pytest.raises(S3UploadFailedError, match="KeyTooLongError"):  # boto3's transfer wraps the ClientError
        s3.upload_file(str(path), "notis-contract", "u/" + "k" * 1023)


# -- EventBridge -----------------------------------------------------------------------------------------------


@pytest.fixture
def events(session: boto3.session.Session) -> Any:
    return session.client("events")


def test_eventbridge_entry_size_as_eventbridge_computes_it(events: Any) -> None:
    from notis_cli.contract.events import entry_size

    entry = {"Source": "notis", "DetailType": "ä", "Detail": "{}", "Resources": ["arn:x"], "Time": "2024-01-01"}
    assert entry_size(entry) == 14 + 5 + 2 + 2 + 5


def test_eventbridge_total_must_be_under_256_kib(events: Any) -> None:
    def entry(detail_bytes: int) -> dict[str, str]:
        return {"Source": "s", "DetailType": "d", "Detail": '"' + "x" * (detail_bytes - 2) + '"'}

    limit = 256 * 1024
    events.put_events(Entries=[entry(limit - 3)])  # 1 + 1 + (limit - 3) = limit - 1: "less than 256KB"
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[entry(limit - 2)])
    assert code_of(refused.value) == "ValidationException"
    with pytest.raises(ClientError):
        events.put_events(Entries=[entry(limit // 2)] * 2)


def test_eventbridge_at_most_10_entries(events: Any) -> None:
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}"}
    events.put_events(Entries=[entry] * 10)
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[entry] * 11)
    assert code_of(refused.value) == "ValidationException"


# -- the layer itself ------------------------------------------------------------------------------------------


def test_every_client_is_hooked_including_chalicelibs(aws: dict[str, Any]) -> None:
    from chalicelib import aws as aws_clients

    sqs = aws_clients.client("sqs")
    url = next(iter(aws["queues"].values()))
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="\x00")


def test_refusal_sends_nothing(sqs: Any, small_queue: str) -> None:
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=small_queue, MessageBody="\x00")
    attributes = sqs.get_queue_attributes(QueueUrl=small_queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
