"""The audit trail: one append-only record per action that changes what is sent (docs/internals.md).

Item: pk `audit#<campaign-id>`, sk `<ISO time>#<suffix>` (time first, so a Query lists a campaign's actions in
order), action, campaign, by, at, details (counts and fixed names only), expires_at (the incident's retention,
counted from the action).

Who writes, and who "by" is: only the functions. The importer records an upload with the S3 event's
`userIdentity.principalId`, and each staff request (approve, retry, resume, redrive, follow-up run: `notis` puts
them on the import queue) with the SQS message's `SenderId`, which SQS sets from the caller's credentials (SQS API
Reference, ReceiveMessage); the suffix is the SQS message id and the time its SentTimestamp, so a redelivered
message stays one record. The tick records what it does (follow-ups and update notices started, messages
redriven, purges) under its function name, with 16 random hex digits as the suffix.

Written only by PutItem with `attribute_not_exists(pk)`: a record is added, never replaced by this code. The staff
policy cannot write, change or delete `audit#*` items at all; the function roles are denied UpdateItem,
DeleteItem and BatchWriteItem there, and the sender and the SES-events function PutItem too (.chalice/resources.json;
tests/test_iam_matches_code.py evaluates it). IAM cannot require the condition on a PutItem, so the importer and
the tick could in principle replace a record: only their code (deployed by CloudFormation, reviewed) does, and
point-in-time recovery and CloudTrail data events are the backstop (docs/deploy.md, "The audit trail").

No personal data: `details` accept numbers, booleans and short names made of `A-Za-z0-9._-` only (an incident,
an audience, a marker, a state), so an address, a name or a file name cannot get in by mistake.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

AUDIT_PREFIX = "audit#"
DEFAULT_KEEP_DAYS = 90  # the retention's default (chalicelib/followups/retention.py) when the incident is unknown
UPLOAD, APPROVE, RETRY, RESUME = "upload", "approve", "retry", "resume"
REDRIVE, REDRIVEN = "redrive", "redriven"  # staff ask (CLI); the tick moves the messages back
FOLLOWUP_RUN, FOLLOWUP_START, PURGE = "followup-run", "followup-start", "purge"
LETTERS_POSTED = "letters-posted"  # staff (notis letters --mark-posted): how many letters, to how many, when
ACTIONS = frozenset({UPLOAD, APPROVE, RETRY, RESUME, REDRIVE, REDRIVEN, FOLLOWUP_RUN, FOLLOWUP_START, PURGE,
                     LETTERS_POSTED})
SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{0,128}$")
MAX_BY_CHARS = 512
_DE = TypeDeserializer()

Detail = int | bool | str


def audit_pk(campaign: str) -> str:
    return f"{AUDIT_PREFIX}{campaign}"


def keep_days(incident: Any) -> int:
    """How long a record is kept: the incident's retention period, else the default."""
    days = getattr(incident, "retention_days", None)
    return int(days) if isinstance(days, int) and days > 0 else DEFAULT_KEEP_DAYS


def scheduled_actor() -> str:
    """Who a scheduled run is: the function's own name (Lambda sets AWS_LAMBDA_FUNCTION_NAME)."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "notis scheduled handler (local)"


def record(client: Any, table: str, *, action: str, campaign: str, by: str, at: datetime,
           keep: int = DEFAULT_KEEP_DAYS, details: Mapping[str, Detail] | None = None,
           once: str | None = None) -> bool:
    """Add one record; False only when `once` is given and that record exists already (a redelivered upload).

    `once` makes the sort key `<at>#<once>`, so the same event recorded twice stays one record; otherwise the
    sort key ends in 16 random hex digits and a clash (never expected) is retried with fresh ones.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    item = {
        "pk": {"S": audit_pk(campaign)},
        "action": {"S": action},
        "campaign": {"S": campaign},
        "by": {"S": (by or "unknown")[:MAX_BY_CHARS]},
        "at": {"S": _iso(at)},
        "details": {"M": _details(details or {})},
        "expires_at": {"N": str(int(at.timestamp()) + keep * 86400)},
    }
    for _attempt in range(3):
        item["sk"] = {"S": f"{_iso(at, precise=True)}#{once or secrets.token_hex(8)}"}
        try:
            # Append-only: never replace a record (DynamoDB API Reference, PutItem: ConditionExpression).
            client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return True
        except client.exceptions.ConditionalCheckFailedException:
            if once:
                return False
    raise RuntimeError("three random audit keys clashed")


def records(client: Any, table: str, campaign: str) -> list[dict[str, Any]]:
    """Every record of one campaign, oldest first."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": audit_pk(campaign)}},
    }
    while True:
        out = client.query(**kwargs)
        for item in out.get("Items", []):
            plain = {k: _DE.deserialize(v) for k, v in item.items()}
            found.append({
                "at": str(plain.get("at", "")), "action": str(plain.get("action", "")),
                "campaign": str(plain.get("campaign", campaign)), "by": str(plain.get("by", "")),
                "details": {k: _number(v) for k, v in sorted((plain.get("details") or {}).items())},
                "sk": str(plain.get("sk", "")),
            })
        if "LastEvaluatedKey" not in out:
            return sorted(found, key=lambda r: r["sk"])
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def describe(row: Mapping[str, Any]) -> str:
    """One record in words: `2026-12-04T10:00:00+00:00  approve  by arn:…  (deliverable 24, rejected 6)`."""
    details = ", ".join(f"{k.replace('_', ' ')} {str(v).lower() if isinstance(v, bool) else v}"
                        for k, v in row.get("details", {}).items())
    return f"{row['at']}  {row['action']}  by {row['by']}" + (f"  ({details})" if details else "")


def _details(details: Mapping[str, Detail]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in details.items():
        if not SAFE_NAME.match(name) or not name:
            raise ValueError("an audit detail's name must be a plain word")
        if isinstance(value, bool):
            out[name] = {"BOOL": value}
        elif isinstance(value, int):
            out[name] = {"N": str(value)}
        elif isinstance(value, str) and SAFE_NAME.match(value):
            out[name] = {"S": value}
        else:  # an address, a name or a file name never goes into the audit trail
            raise ValueError(f"audit detail {name!r} is not a number or a plain name")
    return out


def _iso(at: datetime, *, precise: bool = False) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds" if precise else "seconds")


def _number(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
