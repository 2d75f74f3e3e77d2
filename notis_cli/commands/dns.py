"""`notis dns`: the DNS records the deployment needs, as a zone-file snippet to paste or hand to whoever runs DNS.

The records come from the deployed stack's outputs (`Dns*` in .chalice/resources.json: the three DKIM CNAMEs
SES generated for the sending domain, the MAIL FROM MX and SPF, a first DMARC record, and the page's CNAME when
it has its own host name). Each output's value is `name TYPE data` and its description says what the record is
for, so the template stays the one place that knows them. The local stack has no domain and no stack: there is
nothing to print there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

from notis_cli.commands._common import describe_target

DEFAULT_STACK = "notis"
TTL = 1800
_ORDER = ("DnsDkim1", "DnsDkim2", "DnsDkim3", "DnsMailFromMx", "DnsMailFromSpf", "DnsDmarc", "DnsPageDomain")


@dataclass(frozen=True)
class Record:
    name: str  # fully qualified, with the final dot
    type: str
    value: str  # as a zone file writes it: host names end with a dot, TXT data in double quotes
    purpose: str
    output: str  # the stack output it came from
    ttl: int = TTL

    def zone_line(self) -> str:
        return f"{self.name} {self.ttl} IN {self.type} {self.value}"


class NoStack(LookupError):
    """The stack does not exist where the command looked (wrong account, region or name, or the local stack)."""


def _fqdn(name: str) -> str:
    name = name.strip()
    return name if name.endswith(".") else name + "."


def parse_output(key: str, value: str, description: str = "") -> Record:
    """One `name TYPE data` output as a zone-file record; ValueError when it is not one."""
    parts = value.split(None, 2)
    if len(parts) != 3:
        raise ValueError(f"stack output {key} is not 'name TYPE data'")
    name, kind, data = parts
    kind = kind.upper()
    if kind == "CNAME":
        data = _fqdn(data)
    elif kind == "MX":
        priority, _, host = data.partition(" ")
        data = f"{priority} {_fqdn(host)}"
    elif kind == "TXT":
        data = data if data.startswith('"') else json.dumps(data)
    else:
        raise ValueError(f"stack output {key} has an unexpected record type {kind}")
    return Record(_fqdn(name), kind, data, description.strip(), key)


def records(outputs: list[dict[str, Any]]) -> list[Record]:
    """The `Dns*` outputs of a stack (DescribeStacks' `Outputs`), in a fixed order: DKIM, MAIL FROM, DMARC, page."""
    found = [parse_output(o["OutputKey"], o["OutputValue"], o.get("Description", ""))
             for o in outputs if str(o.get("OutputKey", "")).startswith("Dns")]
    rank = {key: i for i, key in enumerate(_ORDER)}
    return sorted(found, key=lambda r: (rank.get(r.output, len(rank)), r.output))


def stack_outputs(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's outputs; NoStack when CloudFormation does not know it here."""
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationError":  # "Stack with id X does not exist"
            raise NoStack(stack) from exc
        raise
    if not found:
        raise NoStack(stack)
    return list(found[0].get("Outputs") or [])


def zone_snippet(found: list[Record], *, identity_in_stack: bool = True) -> str:
    lines = ["; DNS records for notis (from the deployed stack). Paste into the zone, or give to whoever runs DNS."]
    if not identity_in_stack:
        lines.append("; The sending domain is managed outside this stack (CreateSenderIdentity=false): its DKIM and "
                     "MAIL FROM records are in `aws sesv2 get-email-identity --email-identity <domain>`.")
    for record in found:
        lines.append(f"; {record.purpose}" if record.purpose else f"; {record.output}")
        lines.append(record.zone_line())
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dns", help="print the DNS records the deployment needs (DKIM, MAIL FROM, DMARC, the page) "
                                   "as a zone-file snippet")
    p.add_argument("--stack", default=os.environ.get("NOTIS_STACK") or DEFAULT_STACK,
                   help=f"the CloudFormation stack's name (default: NOTIS_STACK or {DEFAULT_STACK})")
    p.add_argument("--json", action="store_true", help="the records as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws

    local = bool(os.environ.get("AWS_ENDPOINT_URL"))
    try:
        outputs = stack_outputs(aws.client("cloudformation"), args.stack)
    except NoStack:
        if local:
            print("notis dns: the local stack has no sending domain and no DNS records; run this against the "
                  "deployment's AWS account and region", file=sys.stderr)
        else:
            print(f"notis dns: there is no stack called {args.stack!r} in this account and region (deployed under "
                  "another name? use --stack NAME)", file=sys.stderr)
        return 1
    describe_target()  # after the stack is found: where there is none, the one line above says all
    found = records(outputs)
    if not found:
        print(f"notis dns: the stack {args.stack!r} has no DNS record outputs; deploy the current template first",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(r) for r in found], indent=2, ensure_ascii=False))
        return 0
    identity_in_stack = any(r.output.startswith("DnsDkim") for r in found)
    sys.stdout.write(zone_snippet(found, identity_in_stack=identity_in_stack))
    return 0
