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
