"""The strict-AWS contract layer: botocore hooks that refuse what real AWS refuses and moto accepts.

moto is a convenience, the AWS API reference is the contract (docs/internals.md). Code proven only against moto
fails on its first real run when it breaks a documented limit moto does not check (an SES tag value with a dot,
an SQS body measured in characters instead of bytes). `install()` wraps botocore's `Session.create_client`, so
every client created afterwards, by any boto3 or botocore session, gets one pair of handlers per checked
operation:

- `before-parameter-build.<service>.<Operation>` runs the rule on the caller's own parameters and, on a breach,
  stores the refusal in the request context;
- `before-call.<service>.<Operation>` then answers with an HTTP 400 and a parsed error, which short-circuits the
  request before anything is sent (moto's stub hooks `before-send`, later) and makes botocore raise the client's
  modeled exception (`client.exceptions.BadRequestException`, ...), exactly as for a real error response.

The layer only checks and refuses; moto does everything else. It is never deployed (not under chalicelib/).
Each rule, its source and its error code: the modules by service and the table in docs/internals.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_CONTEXT_KEY = "notis_contract_violation"


@dataclass(frozen=True)
class Violation:
    """A call real AWS refuses: the error code it returns, and why."""

    code: str
    message: str
    status: int = 400
    query_code: str | None = None  # SQS (JSON with query-compatible errors): the modeled exception's name


# A rule takes the client (some need to look a limit up, e.g. a queue's MaximumMessageSize) and the caller's
# parameters, and returns the first breach or None. Rules must tolerate malformed parameters: botocore's own
# validation runs after them and gives the better message.
Rule = Callable[[Any, Mapping[str, Any]], Violation | None]

_lock = threading.Lock()
_original_create_client: Callable[..., Any] | None = None
_active = False


def _rules() -> dict[str, dict[str, Rule]]:
    from notis_cli.contract import dynamodb, events, s3, ses, sqs

    return {
        "sesv2": ses.RULES_V2,
        "sqs": sqs.RULES,
        "dynamodb": dynamodb.RULES,
        "s3": s3.RULES,
        "events": events.RULES,
    }


def install() -> None:
    """Hold every botocore client created from now on to the contract (idempotent)."""
    global _original_create_client, _active
    import botocore.session

    with _lock:
        _active = True
        if _original_create_client is not None:
            return
        original = botocore.session.Session.create_client
        rules = _rules()

        def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(self, *args, **kwargs)
            service_rules = rules.get(client.meta.service_model.service_name)
            if service_rules:
                attach(client, service_rules)
            return client

        _original_create_client = original
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def uninstall() -> None:
    """Stop checking: new clients are raw again, and clients already hooked let every call through."""
    global _original_create_client, _active
    import botocore.session

    with _lock:
        _active = False
        if _original_create_client is not None:
            botocore.session.Session.create_client = _original_create_client  # type: ignore[method-assign]
            _original_create_client = None


def is_installed() -> bool:
    return _active


def attach(client: Any, rules: Mapping[str, Rule]) -> None:
    """Register the rules on one client (install() does this for every new client)."""
    service_id = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    for operation, rule in rules.items():
        events.register(f"before-parameter-build.{service_id}.{operation}", _checker(client, rule),
                        unique_id=f"notis-contract-check-{service_id}-{operation}")
        events.register(f"before-call.{service_id}.{operation}", _refuse,
                        unique_id=f"notis-contract-refuse-{service_id}-{operation}")


def _checker(client: Any, rule: Rule) -> Callable[..., None]:
    def check(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not _active:
            return
        violation = rule(client, params)
        if violation is not None:
            context[_CONTEXT_KEY] = violation

    return check


def _refuse(context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    violation: Violation | None = context.pop(_CONTEXT_KEY, None)
    if violation is None:
        return None
    from botocore.awsrequest import AWSResponse

    error: dict[str, Any] = {"Code": violation.code, "Message": f"{violation.message} [notis contract layer]"}
    if violation.query_code:
        error["QueryErrorCode"] = violation.query_code  # botocore maps SQS errors to their classes by this
    headers = {"x-notis-contract": "refused"}
    parsed = {
        "Error": error,
        "ResponseMetadata": {"HTTPStatusCode": violation.status, "HTTPHeaders": headers, "RetryAttempts": 0},
    }
    return AWSResponse("https://notis-contract.invalid/", violation.status, headers, None), parsed


def utf8_len(value: Any) -> int:
    """Bytes of a str in UTF-8 (AWS measures sizes in bytes, not characters); bytes as they are."""
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return len(str(value).encode("utf-8", "surrogatepass"))
