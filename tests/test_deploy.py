"""`make package` output: the deployable template is locked down, least-privilege, and the zip is complete.

Runs `make package` once (module fixture) without AWS credentials, then reads out/sam.json and the zip.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# The only Allow statements whose Resource may be "*": in a KMS key policy "*" means "this key".
RESOURCE_STAR_ALLOWED = {
    ("DataKey", "AccountAdministersKeyThroughIam"),
    ("DataKey", "CloudWatchAlarmsPublishToEncryptedTopic"),
    ("DataKey", "S3NotifiesEncryptedImportQueue"),
    ("DataKey", "EventBridgeDeadLettersToEncryptedQueue"),
}

# What each function may do, and nothing more (see docs/deploy.md, "Permissions").
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
SECRET = {"secretsmanager:GetSecretValue"}
KMS = {"kms:Decrypt", "kms:GenerateDataKey"}
EXPECTED_ACTIONS = {
    "ApiHandlerRole": LOGS,
    "VerifyRole": LOGS | {"dynamodb:GetItem"},  # only items whose partition key is code#* (its own test)
    "ImportRecipientsRole": LOGS | SECRET | KMS | {
        "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucketVersions", "s3:PutObject",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchGetItem",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage",
    },
    "SendNotificationsRole": LOGS | {
        "kms:Decrypt", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:Query", "dynamodb:DeleteItem",  # sending/share.py: the registry of invocations sending now
        "ses:SendEmail", "ses:SendRawEmail", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    },
    "SesEventsRole": LOGS | KMS | {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "sqs:SendMessage"},
    "TickRole": LOGS | SECRET | KMS | {
        "s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion",
        "dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
        "dynamodb:UpdateItem", "sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage",
        "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "ses:SendEmail", "ses:SendRawEmail",
    },
}
DEAD_LETTER_QUEUES = {
    "ImportDeadLetterQueue", "SendDeadLetterQueue", "SesEventsDeadLetterQueue", "SesEventsFailedQueue",
}


def _offline_env() -> dict[str, str]:
    """No AWS credentials, profile or region: packaging must not need an account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "out"
    stamp = ROOT / ".venv" / ".installed-stamp"
    # -o: never rebuild the virtualenv from inside a test run.
    result = subprocess.run(
        ["make", "-s", "-o", str(stamp.relative_to(ROOT)), "package", f"OUT={out}"],
        cwd=ROOT, env=_offline_env(), capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def template(package: Path) -> dict[str, Any]:
    return json.loads((package / "sam.json").read_text())


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] == kind}


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_documents(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in resources.items():
        props = res.get("Properties", {})
        match res["Type"]:
            case "AWS::IAM::Role":
                for policy in props.get("Policies", []):
                    yield name, policy["PolicyDocument"]
            case "AWS::IAM::ManagedPolicy" | "AWS::S3::BucketPolicy" | "AWS::SQS::QueuePolicy":
                yield name, props["PolicyDocument"]
            case "AWS::KMS::Key":
                yield name, props["KeyPolicy"]


def _statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, doc in _policy_documents(resources):
        for statement in doc["Statement"]:
            yield name, statement


def _role_actions(resources: dict[str, Any], role: str) -> set[str]:
    actions: set[str] = set()
    for policy in resources[role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement == _audit_deny(statement.get("Action")):
                continue  # the one Deny: audit records are append-only (tests/test_iam_matches_code.py)
            assert statement["Effect"] == "Allow"
            actions |= set(_listify(statement["Action"]))
    return actions


def _audit_deny(actions: object) -> dict[str, Any]:
    return {"Sid": "AuditRecordsAreAppendOnly", "Effect": "Deny", "Action": actions,
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
            "Condition": {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["audit#*"]}}}


def test_every_role_that_writes_the_table_is_denied_changing_audit_records(resources):
    change = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    expected = {"ImportRecipientsRole": change, "TickRole": change,  # they add audit records (conditional puts)
                "SendNotificationsRole": change | {"dynamodb:PutItem"}, "SesEventsRole": change | {"dynamodb:PutItem"},
                "StaffPolicy": change | {"dynamodb:PutItem"}}  # staff reach the trail only through the importer
    for owner, actions in expected.items():
        props = resources[owner]["Properties"]
        statements = [s for p in props.get("Policies", [{"PolicyDocument": props.get("PolicyDocument")}])
                      for s in p["PolicyDocument"]["Statement"]]
        denies = [s for s in statements if s["Effect"] == "Deny" and "Condition" in s]
        assert len(denies) == 1 and denies[0] == _audit_deny(denies[0]["Action"]), owner
        assert set(denies[0]["Action"]) == actions, owner


def _arn_ref(value: Any) -> str:
    """The logical id a `Fn::Sub: ${X.Arn}` or `Fn::GetAtt: [X, Arn]` points at."""
    if "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    text = value["Fn::Sub"]
    assert text.startswith("${") and text.endswith(".Arn}"), text
    return text[2:-5]


def _sqs_sources(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (fn, event["Properties"])
        for fn, res in _of_type(resources, "AWS::Serverless::Function").items()
        for event in res["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


# -- the package -------------------------------------------------------------------------------------------------


def test_cfn_lint_reports_no_errors(package: Path):
    result = subprocess.run(
        [str(VENV_BIN / "cfn-lint"), str(package / "sam.json")], capture_output=True, text=True, check=False
    )
    assert result.returncode & 2 == 0, result.stdout  # bit 2 = errors (4 warnings, 8 informational)


def test_autogen_policy_is_off_in_every_stage():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    assert all(stage.get("autogen_policy", False) is False for stage in config["stages"].values())


# -- storage ------------------------------------------------------------------------------------------------------


def test_uploads_bucket_is_encrypted_with_a_customer_managed_rotating_key(resources):
    props = resources["UploadsBucket"]["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    default = rule["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    key = default["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert resources[key]["Type"] == "AWS::KMS::Key"
    assert resources[key]["Properties"]["EnableKeyRotation"] is True
    assert resources[key]["DeletionPolicy"] == "Retain"


def test_uploads_bucket_is_private_owner_enforced_and_versioned(resources):
    props = resources["UploadsBucket"]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"


def test_bucket_policy_denies_plain_http_and_uploads_not_encrypted_with_kms(resources):
    (policy,) = _of_type(resources, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "UploadsBucket"}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert tls and tls[0]["Effect"] == "Deny" and tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*"
    assert {json.dumps(r, sort_keys=True) for r in tls[0]["Resource"]} == {
        json.dumps({"Fn::GetAtt": ["UploadsBucket", "Arn"]}), json.dumps({"Fn::Sub": "${UploadsBucket.Arn}/*"})
    }
    sse = [
        s for s in statements
        if s["Effect"] == "Deny" and s["Action"] == "s3:PutObject"
        and s["Condition"].get("StringNotEqualsIfExists", {}).get("s3:x-amz-server-side-encryption") == "aws:kms"
    ]
    assert sse, "no statement denies uploads that ask for anything but SSE-KMS"


def test_uploads_and_reports_expire_after_the_retention_period(template, resources):
    rules = {r.get("Prefix"): r for r in resources["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert template["Parameters"]["RetentionDays"]["Default"] == 90
    for prefix in ("uploads/", "reports/"):
        rule = rules[prefix]
        assert rule["Status"] == "Enabled"
        assert rule["ExpirationInDays"] == {"Ref": "RetentionDays"}
        # Versioning keeps old versions, which an earlier campaign still reads (follow-ups, letters) when staff
        # upload to the same key again: they live the retention period too, then go (the tick purges each
        # campaign's own version on time; this rule is the backstop).
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == {"Ref": "RetentionDays"}


def test_uploads_notify_the_import_queue_which_lets_only_this_bucket_send(resources):
    bucket = resources["UploadsBucket"]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    assert notification["Queue"] == {"Fn::GetAtt": ["ImportQueue", "Arn"]}
    assert "ImportQueuePolicy" in bucket["DependsOn"]  # S3 checks the destination when the bucket is created
    policy = resources["ImportQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "ImportQueue"}]
    (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    bucket_arn = allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert bucket_arn == "arn:${AWS::Partition}:s3:::" + bucket["Properties"]["BucketName"]["Fn::Sub"]


def test_table_is_on_demand_with_ttl_point_in_time_recovery_and_encryption(resources):
    props = resources["Table"]["Properties"]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert resources["Table"]["DeletionPolicy"] == "Retain"


# -- queues and event sources -------------------------------------------------------------------------------------


def test_every_queue_is_encrypted_and_every_work_queue_has_a_dead_letter_queue(resources):
    queues = _of_type(resources, "AWS::SQS::Queue")
    dead_letter = set()
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props["KmsMasterKeyId"] == {"Ref": "DataKey"} and "SqsManagedSseEnabled" not in props, name
        if "RedrivePolicy" in props:
            dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert queues[dlq]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
            assert 1 < props["RedrivePolicy"]["maxReceiveCount"] <= 10
            dead_letter.add(dlq)
    consumed = {_arn_ref(source["Queue"]) for _, source in _sqs_sources(resources)}
    assert consumed == {"ImportQueue", "SendQueue"}
    assert all("RedrivePolicy" in queues[q]["Properties"] for q in consumed)
    assert dead_letter == {"ImportDeadLetterQueue", "SendDeadLetterQueue"}
    assert set(queues) == {"ImportQueue", "SendQueue"} | DEAD_LETTER_QUEUES
    for dlq in DEAD_LETTER_QUEUES:
        assert queues[dlq]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, dlq


def test_every_sqs_event_source_reports_partial_failures_and_caps_concurrency(resources):
    sources = _sqs_sources(resources)
    assert {fn for fn, _ in sources} == {"ImportRecipients", "SendNotifications"}
    for fn, source in sources:
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"], fn
        assert "MaximumConcurrency" in source["ScalingConfig"], fn


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(resources):
    for fn, source in _sqs_sources(resources):
        queue = resources[_arn_ref(source["Queue"])]["Properties"]
        timeout = resources[fn]["Properties"]["Timeout"]
        assert queue["VisibilityTimeout"] >= 6 * timeout, fn


def test_sender_concurrency_setting_is_the_event_source_maximum(resources):
    send = resources["SendNotifications"]["Properties"]
    scaling = send["Events"]["SendNotificationsSqsEventSource"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == send["Environment"]["Variables"]["NOTIS_SEND_CONCURRENCY"]


def test_sender_batch_size_is_a_parameter_with_the_batching_window_lambda_requires_above_ten(template, resources):
    source = resources["SendNotifications"]["Properties"]["Events"]["SendNotificationsSqsEventSource"]["Properties"]
    assert source["BatchSize"] == {"Ref": "SendBatchSize"}
    assert source["MaximumBatchingWindowInSeconds"] >= 1  # Lambda refuses a BatchSize over 10 without one
    parameter = template["Parameters"]["SendBatchSize"]
    assert parameter["Default"] == 10 and 1 <= parameter["MinValue"] and parameter["MaxValue"] <= 10_000


# -- SES, events, logs, alarms ------------------------------------------------------------------------------------


def test_ses_events_flow_through_eventbridge_to_the_events_handler(resources):
    destination = resources["ConfigurationSetEvents"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "ConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert set(event_destination["MatchingEventTypes"]) == {
        "send", "reject", "bounce", "complaint", "delivery", "deliveryDelay"
    }
    assert event_destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"].endswith(":event-bus/default")
    (rule,) = resources["SesEvents"]["Properties"]["Events"].values()
    assert rule["Type"] == "EventBridgeRule"
    pattern = rule["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.ses"]
    assert pattern["detail"]["mail"]["tags"]["ses:configuration-set"] == [{"Ref": "ConfigurationSet"}]


def test_sending_domain_has_easy_dkim_mail_from_and_the_configuration_set(template, resources):
    identity = resources["SenderDomainIdentity"]
    assert identity["Type"] == "AWS::SES::EmailIdentity"
    assert identity["Condition"] == "CreateSenderIdentity"
    # kept when the stack goes (or CreateSenderIdentity turns false): new DKIM keys would mean new DNS records
    assert identity["DeletionPolicy"] == "Retain" and identity["UpdateReplacePolicy"] == "Retain"
    assert template["Parameters"]["CreateSenderIdentity"]["Default"] == "true"
    assert template["Conditions"]["CreateSenderIdentity"] == {"Fn::Equals": [{"Ref": "CreateSenderIdentity"}, "true"]}
    props = identity["Properties"]
    assert props["EmailIdentity"] == {"Ref": "SenderIdentity"}
    assert props["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}  # Easy DKIM, not BYODKIM
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    assert props["MailFromAttributes"] == {
        "MailFromDomain": {"Fn::Sub": "${MailFromSubdomain}.${SenderIdentity}"},
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    assert template["Parameters"]["MailFromSubdomain"]["Default"] == "bounce"
    assert props["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": "ConfigurationSet"}}


def test_configuration_set_keeps_reputation_metrics(resources):
    props = resources["ConfigurationSet"]["Properties"]
    assert props["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert props["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]


def _dns_outputs(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in template["Outputs"].items() if k.startswith("Dns")}


def test_every_dns_record_staff_must_create_is_an_output(template):
    """`notis dns` prints these: each value is `name TYPE data`, each description says what the record is for."""
    outputs = _dns_outputs(template)
    assert set(outputs) == {"DnsDkim1", "DnsDkim2", "DnsDkim3", "DnsMailFromMx", "DnsMailFromSpf", "DnsDmarc",
                            "DnsPageDomain"}
    for name, output in outputs.items():
        assert len(output["Description"]) > 30, name
    for i in (1, 2, 3):
        output = outputs[f"DnsDkim{i}"]
        assert output["Condition"] == "CreateSenderIdentity"  # the tokens exist only when the stack owns the identity
        assert output["Value"] == {"Fn::Join": [" ", [
            {"Fn::GetAtt": ["SenderDomainIdentity", f"DkimDNSTokenName{i}"]}, "CNAME",
            {"Fn::GetAtt": ["SenderDomainIdentity", f"DkimDNSTokenValue{i}"]},
        ]]}
    assert outputs["DnsMailFromMx"]["Value"] == {
        "Fn::Sub": "${MailFromSubdomain}.${SenderIdentity} MX 10 feedback-smtp.${AWS::Region}.amazonses.com"}
    assert outputs["DnsMailFromSpf"]["Value"] == {
        "Fn::Sub": '${MailFromSubdomain}.${SenderIdentity} TXT "v=spf1 include:amazonses.com ~all"'}
    dmarc = json.dumps(outputs["DnsDmarc"]["Value"])
    assert "Condition" not in outputs["DnsDmarc"]  # wanted whoever manages the identity
    assert "_dmarc.${SenderIdentity} TXT" in dmarc and "v=DMARC1; p=none" in dmarc
    assert "rua=mailto:${DmarcReportAddress}" in dmarc and "rua=mailto:${AlarmEmail}" in dmarc
    assert outputs["DnsPageDomain"]["Condition"] == "HasPageDomain"
    assert outputs["DnsPageDomain"]["Value"] == {"Fn::Sub": "${PageDomain} CNAME ${PageDistribution.DomainName}"}


def test_cloudfront_fronts_the_regional_api_stage_when_asked(template, resources):
    assert template["Parameters"]["UseCloudFront"]["Default"] == "true"
    assert template["Conditions"]["UseCloudFront"] == {"Fn::Equals": [{"Ref": "UseCloudFront"}, "true"]}
    assert resources["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"  # no AWS-run edge in between
    distribution = resources["PageDistribution"]
    assert distribution["Condition"] == "UseCloudFront" and resources["PageCachePolicy"]["Condition"] == "UseCloudFront"
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["OriginPath"] == "/" + json.loads((ROOT / ".chalice" / "config.json").read_text())[
        "stages"]["prod"]["api_gateway_stage"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    # the app links without the stage prefix when this header says the public paths have none
    assert origin["OriginCustomHeaders"] == [{"HeaderName": "X-Notis-Public-Base", "HeaderValue": "/"}]
    assert config["HttpVersion"] == "http2and3"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["Compress"] is True
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == {"Ref": "PageCachePolicy"}
    # no origin request policy: API Gateway needs its own Host header, and the origin gets only the key's values
    assert "OriginRequestPolicyId" not in behaviour


def test_cache_policy_honours_the_origin_and_keys_on_the_language(resources):
    policy = resources["PageCachePolicy"]["Properties"]["CachePolicyConfig"]
    # TTLs: the origin's Cache-Control decides (max-age 60 for pages); nothing without one is cached
    assert (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0)
    assert policy["MaxTTL"] >= 86400  # the stylesheet says max-age=86400
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Accept-Language"]}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["lang"]}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}


def test_custom_page_domain_uses_an_acm_certificate_with_tls_1_2(template, resources):
    config = resources["PageDistribution"]["Properties"]["DistributionConfig"]
    condition, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasPageDomain"
    assert custom == {"AcmCertificateArn": {"Ref": "PageCertificateArn"}, "SslSupportMethod": "sni-only",
                      "MinimumProtocolVersion": "TLSv1.2_2021"}
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"] == {"Fn::If": ["HasPageDomain", [{"Ref": "PageDomain"}], {"Ref": "AWS::NoValue"}]}
    assert ":acm:us-east-1:" in template["Parameters"]["PageCertificateArn"]["AllowedPattern"]
    rules = template["Rules"]
    assert rules["PageDomainNeedsCertificate"]["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PageCertificateArn"}, ""]}]}


def test_the_page_address_output_is_cloudfront_not_execute_api(template):
    outputs = template["Outputs"]
    condition, custom, rest = outputs["PageAddress"]["Value"]["Fn::If"]
    assert condition == "HasPageDomain" and custom == {"Fn::Sub": "https://${PageDomain}/"}
    assert rest["Fn::If"][:2] == ["UseCloudFront", {"Fn::Sub": "https://${PageDistribution.DomainName}/"}]
    assert "execute-api" in json.dumps(rest["Fn::If"][2])  # only without CloudFront
    assert "not the page" in outputs["EndpointURL"]["Description"]


def test_every_function_logs_to_its_own_group_with_retention(resources):
    functions = _of_type(resources, "AWS::Serverless::Function")
    assert set(functions) == {"APIHandler", "ImportRecipients", "SendNotifications", "SesEvents", "Tick", "Verify"}
    groups = set()
    for name, fn in functions.items():
        group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        logs = [s for p in resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                if any(a.startswith("logs:") for a in _listify(s["Action"]))]
        assert [s["Resource"] for s in logs] == [{"Fn::GetAtt": [group, "Arn"]}], name
        groups.add(group)
    assert len(groups) == len(functions)


def test_alarms_watch_dead_letter_queues_and_function_errors(resources):
    alarms = list(_of_type(resources, "AWS::CloudWatch::Alarm").values())
    watched_queues = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched_queues == DEAD_LETTER_QUEUES
    watched_functions = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["Properties"]["MetricName"] == "Errors"
    }
    assert watched_functions == set(_of_type(resources, "AWS::Serverless::Function"))
    (stopped,) = [a["Properties"] for a in alarms if a["Properties"]["MetricName"] == "SendingStopped"]
    assert (stopped["Namespace"], stopped["Dimensions"], stopped["Statistic"], stopped["Period"]) == (
        "Notis", [{"Name": "service", "Value": "notis-sender"}], "Sum", 300)
    assert stopped["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert stopped["TreatMissingData"] == "notBreaching"
    reputation = {a["Properties"]["MetricName"]: a["Properties"]["Threshold"] for a in alarms
                  if a["Properties"]["Namespace"] == "AWS/SES"}
    # SES reviews an account at 5 % bounces or 0.1 % complaints; an old breach list can get there: warn before
    assert reputation == {"Reputation.BounceRate": 0.04, "Reputation.ComplaintRate": 0.0008}
    for alarm in alarms:
        if alarm["Properties"]["Namespace"] != "AWS/SES" and alarm["Properties"]["MetricName"] != "VerifyMiss":
            assert alarm["Properties"]["Threshold"] == 1
        assert alarm["Properties"]["AlarmActions"]["Fn::If"][0] == "HasAlarmEmail"


def test_ses_events_failures_land_in_alarmed_encrypted_queues(resources):
    rule = resources["SesEvents"]["Properties"]["Events"]["SesEventsEvent"]["Properties"]
    assert rule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SesEventsDeadLetterQueue", "Arn"]}}
    assert rule["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    policy = resources["SesEventsDeadLetterQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "SesEventsDeadLetterQueue"}]
    (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(":rule/" + rule["RuleName"])
    (invoke,) = _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
    props = invoke["Properties"]
    assert props["FunctionName"] == {"Ref": "SesEvents"} and props["Qualifier"] == "$LATEST"
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["SesEventsFailedQueue", "Arn"]}
    sends = [s for p in resources["SesEventsRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
             if "sqs:SendMessage" in _listify(s["Action"])]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": ["SesEventsFailedQueue", "Arn"]}]


def test_reserved_concurrency_for_the_sender_import_and_events(template, resources):
    expected = {"SendNotifications": "SendReservedConcurrency", "ImportRecipients": "ImportReservedConcurrency",
                "SesEvents": "SesEventsReservedConcurrency"}
    for fn, parameter in expected.items():
        assert resources[fn]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": parameter}, fn
        assert template["Parameters"][parameter]["MinValue"] >= 1, parameter
    parameters = template["Parameters"]
    assert parameters["SendReservedConcurrency"]["Default"] >= parameters["SendConcurrency"]["Default"]
    assert parameters["ImportReservedConcurrency"]["Default"] >= 2  # the import event source's maximum
    assert "ReservedConcurrentExecutions" not in resources["APIHandler"]["Properties"]


def _java_pattern(template: dict[str, Any]) -> re.Pattern[str]:
    """CloudFormation matches AllowedPattern with Java regex over the whole value: the constructs used here mean
    the same in Python; fullmatch stands for Java's matches()."""
    return re.compile(template["Parameters"]["SenderAddress"]["AllowedPattern"])


GOOD_SENDERS = ["Körkortsportalen Service AB. <notice@x.se>", '"Kundtjänst, Körkortsportalen" <notice@x.se>',
                "notice@x.se", "Korkortsportalen <dataskydd@example.se>", "<notice@x.se>",
                "K. O'Brien <a.b+c@mail.x.se>"]
BAD_SENDERS = ["", "notice", "notice@x", "Name notice@x.se", "<notice@x.se", "a@b.se, c@d.se", "Name <a@b.se> x",
               "Name\r\nBcc: a@b.se <a@b.se>", "Kund <a b@x.se>", "Kund <@x.se>", 'Kund "a" <a@x.se>', "a@@x.se"]


@pytest.mark.parametrize("sender", GOOD_SENDERS)
def test_sender_address_pattern_accepts_what_staff_write(template, sender: str):
    assert _java_pattern(template).fullmatch(sender), sender
    assert template["Parameters"]["SenderAddress"]["ConstraintDescription"]


@pytest.mark.parametrize("sender", BAD_SENDERS)
def test_sender_address_pattern_refuses_garbage(template, sender: str):
    assert not _java_pattern(template).fullmatch(sender), sender


# -- IAM ----------------------------------------------------------------------------------------------------------


def test_no_statement_allows_a_wildcard_action(resources):
    for name, statement in _statements(resources):
        if statement["Effect"] != "Allow":
            continue  # a Deny of s3:* / sqs:* without TLS is meant to be wide
        for action in _listify(statement["Action"]):
            assert "*" not in action, (name, statement.get("Sid"), action)
        assert "NotAction" not in statement and "NotResource" not in statement, name


def test_resource_star_only_where_unavoidable(resources):
    found = set()
    for name, statement in _statements(resources):
        if statement["Effect"] == "Allow" and "*" in _listify(statement["Resource"]):
            found.add((name, statement["Sid"]))
    assert found == RESOURCE_STAR_ALLOWED


def test_key_policy_trusts_only_this_account_and_cloudwatch(resources):
    for statement in resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]:
        principal = statement["Principal"]
        assert principal in (
            {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            {"Service": "cloudwatch.amazonaws.com"},
            {"Service": "s3.amazonaws.com"},  # the upload notification into the encrypted import queue
            {"Service": "events.amazonaws.com"},  # the SES rule's dead letters into an encrypted queue
        )
        if "Service" in principal:  # services use the key only for this account's resources
            assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
            assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_each_function_role_allows_exactly_what_the_function_uses(resources):
    functions = _of_type(resources, "AWS::Serverless::Function")
    roles = {fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()}
    assert roles == set(EXPECTED_ACTIONS)
    for role, expected in EXPECTED_ACTIONS.items():
        assert _role_actions(resources, role) == expected, role
        assert resources[role]["Properties"].get("ManagedPolicyArns") is None, role
    assert all("Policies" not in fn["Properties"] for fn in functions.values())


def test_ses_sending_is_scoped_to_the_identity_and_configuration_set(resources):
    for role in ("SendNotificationsRole", "TickRole"):
        statements = [
            s for p in resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
            if "ses:SendEmail" in _listify(s["Action"])
        ]
        (statement,) = statements
        arns = sorted(r["Fn::Sub"] for r in statement["Resource"])
        assert arns == [
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${ConfigurationSet}",
            "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}",
        ]


def test_data_access_is_scoped_to_prefixes_and_the_table(resources):
    for role in EXPECTED_ACTIONS:
        for policy in resources[role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = _listify(statement["Action"])
                resources_ = _listify(statement["Resource"])
                if any(a in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject") for a in actions):
                    for r in resources_:
                        assert r["Fn::Sub"].endswith(("/uploads/*", "/reports/*")), (role, r)
                if "s3:ListBucket" in actions:
                    assert set(statement["Condition"]["StringLike"]["s3:prefix"]) == {"uploads/*", "reports/*"}
                if any(a.startswith("dynamodb:") for a in actions):
                    assert resources_ == [{"Fn::GetAtt": ["Table", "Arn"]}], role
    assert "s3:PutObject" not in _role_actions(resources, "TickRole")


def test_staff_policy_is_an_output_and_grants_only_the_staff_tasks(template, resources):
    assert template["Outputs"]["StaffPolicyArn"]["Value"] == {"Ref": "StaffPolicy"}
    statements = resources["StaffPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert "s3:PutObject" in by_sid["UploadRecipientLists"]["Action"]
    assert by_sid["UploadRecipientLists"]["Resource"]["Fn::Sub"].endswith("/uploads/*")
    assert by_sid["ReadReports"]["Action"] == ["s3:GetObject"]
    assert by_sid["ReadReports"]["Resource"]["Fn::Sub"].endswith("/reports/*")
    statements = [s for s in statements if s["Effect"] == "Allow"]  # the audit Deny: see the test above
    actions = {a for s in statements for a in _listify(s["Action"])}
    assert {"dynamodb:GetItem", "dynamodb:Query", "kms:GenerateDataKey", "sqs:StartMessageMoveTask"} <= actions
    # staff never write to the send queue (a message there is mailed as it is): they feed the import queue only
    senders = [s for s in statements if "sqs:SendMessage" in _listify(s["Action"])]
    assert [s["Resource"] for s in senders] == [{"Fn::GetAtt": ["ImportQueue", "Arn"]}]
    moves = [s for s in statements if "sqs:StartMessageMoveTask" in _listify(s["Action"])]
    assert [s["Resource"] for s in moves] == [{"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]}]
    table_reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                   "dynamodb:DescribeTable"}
    writes = [s for s in statements if any(a.startswith("dynamodb:") and a not in table_reads
                                           for a in _listify(s["Action"]))]
    # the table writes are limited to campaign records (approve, letters posted), code records (letters) and the
    # letters' household index: never the ledger or suppressions
    assert [(s["Action"], s["Condition"]) for s in writes] == [
        # notis letters --pdf records each letter's reference code for the /verify page, and nothing else
        (["dynamodb:PutItem"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["code#*"]}}),
        # each household's letter code and posting day per send (chalicelib/campaigns/lettercodes.py)
        (["dynamodb:UpdateItem"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["letters#*"]}}),
        (["dynamodb:UpdateItem"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["campaign#*"]}})
    ]
    assert not {"s3:DeleteObject", "s3:DeleteObjectVersion", "dynamodb:DeleteItem"} & actions
    # notis dns reads this stack's outputs, and no other stack's
    assert by_sid["ReadStackOutputs"]["Action"] == ["cloudformation:DescribeStacks"]
    assert by_sid["ReadStackOutputs"]["Resource"] == {"Ref": "AWS::StackId"}
    assert {a for a in actions if a.startswith("cloudformation:")} == {"cloudformation:DescribeStacks"}
    assert not {a for a in actions if a.startswith(("ses:", "iam:"))}
    # staff read the uploads' addresses anyway; the pseudonym key lets them find who is new and who needs a letter
    assert by_sid["ReadHmacKey"] == {"Sid": "ReadHmacKey", "Effect": "Allow", "Action": [
        "secretsmanager:GetSecretValue"], "Resource": {"Ref": "HmacKeySecret"}}
    assert [s for s in statements if "secretsmanager:GetSecretValue" in _listify(s["Action"])] == [
        by_sid["ReadHmacKey"]]


# -- configuration reaching the functions -------------------------------------------------------------------------


def test_event_functions_get_the_real_resource_names_and_no_plain_secret(resources):
    expected = {
        "NOTIS_BUCKET": {"Ref": "UploadsBucket"},
        "NOTIS_TABLE": {"Ref": "Table"},
        "NOTIS_IMPORT_QUEUE": {"Fn::GetAtt": ["ImportQueue", "QueueName"]},
        "NOTIS_IMPORT_DLQ": {"Fn::GetAtt": ["ImportDeadLetterQueue", "QueueName"]},
        "NOTIS_SEND_QUEUE": {"Fn::GetAtt": ["SendQueue", "QueueName"]},
        "NOTIS_SEND_DLQ": {"Fn::GetAtt": ["SendDeadLetterQueue", "QueueName"]},
        "NOTIS_SES_CONFIGURATION_SET": {"Ref": "ConfigurationSet"},
        "NOTIS_SENDER": {"Ref": "SenderAddress"},
        "SES_MAX_SEND_RATE": {"Ref": "SesMaxSendRate"},
    }
    for fn in ("ImportRecipients", "SendNotifications", "SesEvents", "Tick"):
        variables = resources[fn]["Properties"]["Environment"]["Variables"]
        assert {k: variables.get(k) for k in expected} == expected, fn
        assert variables["NOTIS_STAGE"] == "prod"
        assert "NOTIS_HMAC_KEY" not in variables, fn
        # the secret (and its grant) only where addresses are hashed: the import and the tick's follow-ups
        hashes = fn in ("ImportRecipients", "Tick")
        assert (variables.get("NOTIS_HMAC_KEY_SECRET") == {"Ref": "HmacKeySecret"}) is hashes, fn
        role = resources[fn]["Properties"]["Role"]["Fn::GetAtt"][0]
        assert ("secretsmanager:GetSecretValue" in _role_actions(resources, role)) is hashes, fn
    tick = resources["Tick"]["Properties"]["Environment"]["Variables"]
    assert tick["NOTIS_EVENTS_DLQ"] == {"Fn::GetAtt": ["SesEventsDeadLetterQueue", "QueueName"]}
    assert tick["NOTIS_EVENTS_FAILED_QUEUE"] == {"Fn::GetAtt": ["SesEventsFailedQueue", "QueueName"]}
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert not any(k.startswith("NOTIS_HMAC") for k in api)  # the page path never fetches a secret (cold start)
    assert resources["HmacKeySecret"]["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}


def test_queue_names_the_app_uses_are_the_template_queues(resources):
    from chalicelib.config import Settings

    defaults = Settings()
    names = {q["Properties"]["QueueName"] for q in _of_type(resources, "AWS::SQS::Queue").values()}
    assert names == {defaults.import_queue, defaults.import_dlq, defaults.send_queue, defaults.send_dlq,
                     defaults.events_dlq, defaults.events_failed_queue}


def test_hmac_key_is_read_from_the_secret_when_configured(aws, monkeypatch):
    from chalicelib.aws import client
    from chalicelib.config import load_settings

    arn = client("secretsmanager").create_secret(Name="notis/hmac", SecretString="s3cr3t-from-secrets-manager")["ARN"]
    monkeypatch.setenv("NOTIS_HMAC_KEY", "ignored-when-a-secret-is-set")
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", arn)
    assert load_settings().hmac_key == b"s3cr3t-from-secrets-manager"
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", arn.replace("hmac", "missing"))
    settings = load_settings()  # read on first use, not at start (tests/test_config.py)
    with pytest.raises(client("secretsmanager").exceptions.ResourceNotFoundException):
        assert settings.hmac_key is None  # never reached: no silent fall-back to the development key


# -- the zip ------------------------------------------------------------------------------------------------------


def _runtime_files() -> set[str]:
    lib = ROOT / "chalicelib"
    files = {p for p in (lib / "templates").rglob("*") if p.is_file() and "_compiled" not in p.parts}
    files |= set((lib / "incidents").glob("*/incident.yaml"))
    return {p.relative_to(ROOT).as_posix() for p in files if "__pycache__" not in p.parts}


def test_zip_holds_every_template_and_incident_the_functions_read(package: Path):
    names = set(zipfile.ZipFile(package / "deployment.zip").namelist())
    runtime = _runtime_files()
    assert any(n.startswith("chalicelib/templates/mail/") for n in runtime)
    assert "chalicelib/incidents/korkortsportalen-2024/incident.yaml" in runtime
    assert runtime <= names, sorted(runtime - names)
    assert {"app.py", "jinja2/__init__.py", "yaml/__init__.py", "markdown_it/__init__.py"} <= names
    assert not any(n.startswith(("tests/", "notis_cli/", ".chalice/", "bench/")) for n in names)
    assert any(n.startswith("chalicelib/templates/_compiled/page-") for n in names), "page templates precompiled"


def test_app_serves_pages_and_parses_templates_from_the_zip_alone(package: Path, tmp_path: Path):
    """Unpack the zip and run it with no site-packages, as Lambda would: pages render, templates parse."""
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(tmp_path)
    script = textwrap.dedent(
        """
        import sys, json
        sys.path.insert(0, ".")
        import jinja2
        compiled = []
        original = jinja2.Environment.compile
        def counting(self, *args, **kwargs):
            compiled.append(1)
            return original(self, *args, **kwargs)
        jinja2.Environment.compile = counting
        import app
        from jinja2 import Environment, FileSystemLoader
        env = Environment(loader=FileSystemLoader("chalicelib/templates"))
        # parse only: the mail renderer registers its own filters
        names = [n for n in env.list_templates() if not n.startswith("_compiled/")]
        parsed = [env.parse(env.loader.get_source(env, name)[0]) for name in names]

        class Context:
            function_name = "APIHandler"; aws_request_id = "r"; memory_limit_in_mb = 512

        def get(resource, path, params=None):
            event = {"resource": resource, "path": path, "httpMethod": "GET",
                     "headers": {"Accept": "text/html"}, "multiValueHeaders": {"Accept": ["text/html"]},
                     "queryStringParameters": None, "multiValueQueryStringParameters": None,
                     "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
                     "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path,
                                        "stage": "api", "requestId": "r", "identity": {"sourceIp": "192.0.2.1"}}}
            response = app.app(event, Context())
            return response["statusCode"], response["body"]

        slug = "korkortsportalen-2024"
        home = get("/", "/")
        page = get("/incidents/{slug}", "/incidents/" + slug, {"slug": slug})
        print(json.dumps({"home": home[0], "page": page[0], "has_title": "<h1" in page[1],
                          "templates": len(parsed), "boto3": "boto3" in sys.modules, "compiled": len(compiled)}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], cwd=tmp_path, env={"PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected_templates = sum(1 for n in _runtime_files() if n.startswith("chalicelib/templates/"))
    assert report == {"home": 200, "page": 200, "has_title": True, "templates": expected_templates, "boto3": False,
                      "compiled": 0}, "pages render from the precompiled templates: no compiling at cold start"


PREBUILT_CHECK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, ".")
    from chalicelib.web import prebuilt
    table = prebuilt.ANSWERS
    assert table is not None, "no prebuilt table in the zip"

    def event(resource, value, lang, base, method, headers):
        path = resource.replace("{proxy+}", "a/b").replace("{slug}", value or "finns-inte")
        params = {"slug": value or "finns-inte"} if "{slug}" in resource else None
        return {"resource": resource, "path": path, "httpMethod": method, "headers": headers,
                "multiValueHeaders": {k: [v] for k, v in headers.items()},
                "queryStringParameters": {"lang": lang}, "multiValueQueryStringParameters": {"lang": [lang]},
                "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
                "requestContext": {"resourcePath": resource, "httpMethod": method, "path": base + path,
                                   "stage": "api", "requestId": "r", "identity": {"sourceIp": "192.0.2.1"}}}

    events = []
    for (resource, value, lang, base), (full, _, etag) in table.answers.items():
        for method in ("GET", "HEAD"):
            for headers in ({}, {"If-None-Match": etag}, {"Accept-Language": "en", "If-None-Match": "*"}):
                events.append(event(resource, value, lang, base, method, headers))
    events.append(event("/api/incidents/{slug}", "<finns inte>", "sv", "", "GET", {}))
    served = [prebuilt.handler(json.loads(json.dumps(e)), None) for e in events]
    heavy = sorted(m for m in ("app", "chalice", "jinja2", "yaml", "markdown_it", "boto3", "botocore")
                   if m in sys.modules)
    import app
    mismatches = [e["path"] for e, got in zip(events, served)
                  if json.dumps(got) != json.dumps(app.app(json.loads(json.dumps(e)), None))]
    print(json.dumps({"events": len(events), "answers": len(table.answers), "heavy": heavy,
                      "mismatches": mismatches, "statuses": sorted({r["statusCode"] for r in served})}))
    """
)


def test_page_function_serves_the_prebuilt_answers_and_the_others_run_app_py(resources):
    from notis_cli.prebuild import HANDLER

    handlers = {name: res["Properties"]["Handler"]
                for name, res in _of_type(resources, "AWS::Serverless::Function").items()}
    assert handlers.pop("APIHandler") == HANDLER == "chalicelib.web.prebuilt.handler"
    assert handlers and all(h.startswith("app.") for h in handlers.values()), handlers


def test_zip_holds_the_prebuilt_page_and_unchecked_bytecode_for_the_runtime(package: Path, resources):
    runtime = resources["APIHandler"]["Properties"]["Runtime"]
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}", "bytecode needs the same Python"
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        listed = archive.namelist()
        names = set(listed)
        assert len(names) == len(listed), "no file twice (the checkout's own __pycache__ is left out)"
        assert "chalicelib/web/_responses.py" in names
        for module in ("app", "chalicelib/web/prebuilt", "chalicelib/web/_responses", "chalicelib/web/negotiate",
                       "jinja2/environment", "yaml/__init__"):
            folder, _, name = module.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{name}.{tag}.pyc"
            assert pyc in names, pyc
            flags = int.from_bytes(archive.read(pyc)[4:8], "little")
            assert flags == 0b01, "hash-based and unchecked (PEP 552): used as is from a read-only folder"


def test_zip_page_answers_every_request_as_its_live_app_does_without_importing_the_renderer(
        package: Path, tmp_path: Path):
    """Unpacked and run with no site-packages and no bytecode writing, as Lambda does: every prebuilt answer (GET,
    HEAD, 304, other languages) is the zip's own live app's answer, and serving them imported neither Chalice nor
    Jinja, Markdown, YAML or boto3. The table's source is overwritten first: its bytecode is what runs."""
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        archive.extractall(tmp_path)
    (tmp_path / "chalicelib" / "web" / "_responses.py").write_text("raise SystemExit('source read')\n")
    result = subprocess.run(
        [sys.executable, "-S", "-B", "-c", PREBUILT_CHECK], cwd=tmp_path, env={"PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [] and report["mismatches"] == []
    assert report["events"] == 6 * report["answers"] + 1 and report["answers"] >= 4 * 18
    assert report["statuses"] == [200, 204, 304, 404]


def test_api_gateway_sends_every_unknown_path_to_the_app_for_its_404_page(resources):
    """`/{proxy+}` is greedy in API Gateway: /a/b/c reaches the app (its 404 page), not API Gateway's 403."""
    (api,) = _of_type(resources, "AWS::Serverless::Api").values()
    paths = api["Properties"]["DefinitionBody"]["paths"]
    import app as notis_app
    from chalicelib.verify.handler import ROUTES

    assert set(paths) == set(notis_app.app.routes) | set(ROUTES), "every route of the app and the verify function's"
    for method in ("get", "head"):
        integration = paths["/{proxy+}"][method]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert "${APIHandler.Arn}" in integration["uri"]["Fn::Sub"]


PARAMETER_EXAMPLES = {
    "MailFromSubdomain": (["bounce", "mail-from", "b"], ["", "bounce.example", "-bounce", "bounce-", "a b"]),
    "PageDomain": (["", "incident.example.se", "status.xn--krkort-wxa.se"],
                   ["Incident.Example.se", "https://incident.example.se", "incident", "incident.example.se/"]),
    "PageCertificateArn": (["", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"],
                           ["arn:aws:acm:eu-north-1:123456789012:certificate/0a1b2c3d",
                            "arn:aws:acm:us-east-1:123:certificate/x", "incident.example.se"]),
}


@pytest.mark.parametrize("name", sorted(PARAMETER_EXAMPLES))
def test_new_parameters_accept_what_staff_write_and_refuse_mistakes(template, name: str):
    pattern = re.compile(template["Parameters"][name]["AllowedPattern"])  # Java's matches(): the whole value
    good, bad = PARAMETER_EXAMPLES[name]
    assert all(pattern.fullmatch(value) for value in good), name
    assert not any(pattern.fullmatch(value) for value in bad), name
    assert template["Parameters"][name]["ConstraintDescription"]


def test_the_public_check_is_its_own_function_reading_code_records_only_and_throttled(template, resources):
    from chalicelib.verify.handler import API_ROUTE, MISS_METRIC, PAGE_ROUTE, POWERTOOLS_SERVICE

    (api,) = _of_type(resources, "AWS::Serverless::Api").values()
    paths = api["Properties"]["DefinitionBody"]["paths"]
    for route in (PAGE_ROUTE, API_ROUTE):
        for method in ("get", "head"):
            assert "${Verify.Arn}" in paths[route][method]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    assert resources["Verify"]["Properties"]["Handler"] == "app.verify"
    allowed = {p["Properties"]["SourceArn"]["Fn::Sub"][0].rsplit("/*/*/", 1)[1]
               for p in _of_type(resources, "AWS::Lambda::Permission").values()
               if p["Properties"]["FunctionName"] == {"Ref": "Verify"}}
    assert allowed == {"verify", "api/verify/*"}
    # GetItem on the table, only where the partition key is code#<...> (IAM: dynamodb:LeadingKeys)
    [read] = [s for p in resources["VerifyRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
              if "dynamodb:GetItem" in _listify(s["Action"])]
    assert read["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["code#*"]}}
    # method throttling on exactly the verify routes (MethodSetting ResourcePath encodes "/" as "~1")
    throttled = {(m["ResourcePath"], m["HttpMethod"]) for m in api["Properties"]["MethodSettings"]
                 if "ThrottlingRateLimit" in m and "ThrottlingBurstLimit" in m}
    assert throttled == {("/" + r.replace("/", "~1"), m)
                         for r in (PAGE_ROUTE, API_ROUTE) for m in ("GET", "HEAD")}
    assert template["Parameters"]["VerifyRateLimit"]["Default"] <= 100
    # behind CloudFront: never cached (managed CachingDisabled), the query string (?code=) reaches the origin
    behaviours = resources["PageDistribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
    assert {b["PathPattern"] for b in behaviours} == {"/verify", "/api/verify/*"}
    assert {b["CachePolicyId"] for b in behaviours} == {"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
    # failed lookups: a metric, and an alarm on a spike
    [spike] = [a["Properties"] for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
               if a["Properties"]["MetricName"] == MISS_METRIC]
    assert spike["Namespace"] == "Notis" and spike["Dimensions"] == [{"Name": "service", "Value": POWERTOOLS_SERVICE}]
    assert spike["Statistic"] == "Sum" and spike["Threshold"] == {"Ref": "VerifyMissAlarmThreshold"}
