"""Helpers shared by the staff commands: which AWS we talk to (on stderr), queue URLs."""

from __future__ import annotations

import os
import sys
from typing import Any


def register(sub: Any) -> None:
    """Not a command: the CLI discovers every module here, this one adds nothing."""


def describe_target() -> str:
    """Say on stderr which AWS the command talks to, so staff never act on the wrong account by surprise."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-north-1"
    if endpoint:
        where = f"AWS endpoint {endpoint} (region {region})"
    else:
        try:
            from chalicelib import aws

            account = aws.client("sts").get_caller_identity()["Account"]
        except Exception:
            account = "unknown account"
        where = f"AWS account {account}, region {region}"
    print(f"notis: talking to {where}", file=sys.stderr)
    return where


def queue_url(sqs: Any, name: str) -> str:
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def on_local_stack() -> bool:
    """True when the command talks to an emulated AWS (the local stack, or any AWS_ENDPOINT_URL): there, SES
    delivery events are never simulated, which staff must know before reading "delivered"."""
    return bool(os.environ.get("AWS_ENDPOINT_URL"))


def local_warning() -> str:
    """The warning the read views print on the local stack ("" elsewhere)."""
    if not on_local_stack():
        return ""
    from chalicelib.sending.status import NO_DELIVERY_EVENTS

    return NO_DELIVERY_EVENTS


def whoami() -> str:
    """The caller's AWS principal (ARN), recorded with a staff action so the evidence says who did it."""
    try:
        from chalicelib import aws

        return str(aws.client("sts").get_caller_identity()["Arn"])
    except Exception as exc:  # recording who must never block the action itself
        return f"unknown ({type(exc).__name__})"


def now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
