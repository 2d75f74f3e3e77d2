"""`notis dns`: the deployed stack's DNS outputs as a zone-file snippet (moto's CloudFormation holds the stack)."""

from __future__ import annotations

import json

import pytest

from notis_cli.commands.dns import parse_output, records
from notis_cli.main import main
from notis_cli.provision import load_template

REGION = "eu-north-1"
DKIM = [(f"tok{i}abc._domainkey.example.se", f"tok{i}abc.dkim.amazonses.com") for i in (1, 2, 3)]


def _stack_template(*, with_identity: bool = True, page: bool = False) -> dict:
    """A small stack whose outputs look like the deployment's: values as the real template's intrinsics give them."""
    real = load_template()["Outputs"]
    values = {
        **{f"DnsDkim{i}": f"{name} CNAME {value}" for i, (name, value) in enumerate(DKIM, start=1)},
        "DnsMailFromMx": f"bounce.example.se MX 10 feedback-smtp.{REGION}.amazonses.com",
        "DnsMailFromSpf": 'bounce.example.se TXT "v=spf1 include:amazonses.com ~all"',
        "DnsDmarc": '_dmarc.example.se TXT "v=DMARC1; p=none; rua=mailto:drift@example.se"',
        "DnsPageDomain": "incident.example.se CNAME d111111abcdef8.cloudfront.net",
    }
    if not with_identity:
        values = {k: v for k, v in values.items() if not k.startswith(("DnsDkim", "DnsMailFrom"))}
    if not page:
        values.pop("DnsPageDomain")
    outputs = {key: {"Value": value, "Description": real[key]["Description"]} for key, value in values.items()}
    outputs["StaffPolicyArn"] = {"Value": "arn:aws:iam::123456789012:policy/x"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dns-test"}}},
        "Outputs": outputs,
    }


def _deploy(name: str = "notis", **kwargs) -> None:
    from chalicelib import aws

    aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(_stack_template(**kwargs)))


def test_prints_every_record_as_a_zone_file_line_with_its_purpose(aws, capsys):
    _deploy(page=True)
    assert main(["dns"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if not line.startswith(";")]
    assert lines == [
        *(f"{name}. 1800 IN CNAME {value}." for name, value in DKIM),
        f"bounce.example.se. 1800 IN MX 10 feedback-smtp.{REGION}.amazonses.com.",
        'bounce.example.se. 1800 IN TXT "v=spf1 include:amazonses.com ~all"',
        '_dmarc.example.se. 1800 IN TXT "v=DMARC1; p=none; rua=mailto:drift@example.se"',
        "incident.example.se. 1800 IN CNAME d111111abcdef8.cloudfront.net.",
    ]
    comments = out.splitlines()
    for i, line in enumerate(comments):  # each record follows one comment saying what it is for
        if not line.startswith(";"):
            assert comments[i - 1].startswith("; ") and len(comments[i - 1]) > 20, line
    assert "DKIM key 1 of 3" in out and "DMARC" in out and "MAIL FROM" in out


def test_json_lists_the_same_records(aws, capsys):
    _deploy()
    assert main(["dns", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [r["output"] for r in found] == ["DnsDkim1", "DnsDkim2", "DnsDkim3", "DnsMailFromMx", "DnsMailFromSpf",
                                           "DnsDmarc"]
    assert found[0] == {"name": DKIM[0][0] + ".", "type": "CNAME", "value": DKIM[0][1] + ".", "ttl": 1800,
                        "output": "DnsDkim1", "purpose": found[0]["purpose"]}
    assert all(r["purpose"] for r in found)


def test_identity_managed_elsewhere_says_where_its_records_are(aws, capsys):
    _deploy(with_identity=False)
    assert main(["dns"]) == 0
    out = capsys.readouterr().out
    assert "CreateSenderIdentity=false" in out and "aws sesv2 get-email-identity" in out
    assert "_dmarc.example.se. 1800 IN TXT" in out and "CNAME" not in out


def test_another_stack_name(aws, capsys, monkeypatch):
    _deploy("notis-prod")
    assert main(["dns"]) == 1
    assert "no stack called 'notis'" in capsys.readouterr().err
    assert main(["dns", "--stack", "notis-prod"]) == 0
    monkeypatch.setenv("NOTIS_STACK", "notis-prod")
    assert main(["dns"]) == 0


def test_local_stack_one_plain_line_and_exit_1(aws, capsys, monkeypatch):
    """The local stack's emulator knows no CloudFormation stack: one plain line, exit 1."""
    from chalicelib import aws as clients

    clients.client("cloudformation")  # made (moto) before the endpoint is set, as the local stack's own would be
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")  # what the local stack sets
    assert main(["dns"]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("notis dns: the local stack has no sending domain")
    assert captured.out == ""


@pytest.mark.parametrize("value", ["example.se CNAME", "x A 192.0.2.1", ""])
def test_an_output_that_is_not_a_record_is_refused(value):
    with pytest.raises(ValueError):
        parse_output("DnsX", value)


def test_only_dns_outputs_count_and_unquoted_txt_is_quoted():
    found = records([{"OutputKey": "TableName", "OutputValue": "notis"},
                     {"OutputKey": "DnsDmarc", "OutputValue": "_dmarc.x.se TXT v=DMARC1; p=none"}])
    assert [r.zone_line() for r in found] == ['_dmarc.x.se. 1800 IN TXT "v=DMARC1; p=none"']
