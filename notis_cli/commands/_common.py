"""Helpers shared by the staff commands: which AWS we talk to (on stderr), queue URLs, campaign requests."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
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


def ask_importer(settings: Any, request: dict[str, str]) -> None:
    """Put a staff request on the import queue (staff write only there, never to the send queue). The importer
    acts on it and records it in the audit trail, with the SQS SenderId as who: staff cannot write the trail."""
    from chalicelib import aws

    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url(sqs, settings.import_queue), MessageBody=json.dumps(request))


def campaign_arguments(sub: Any, name: str, help: str, run: Any) -> None:
    """`notis NAME CAMPAIGN [--yes]`: the shape of every command that asks the importer to act on a campaign."""
    p = sub.add_parser(name, help=help)
    p.add_argument("campaign", help="the campaign id (see notis status)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(run=run)


@dataclass
class CampaignRequest:
    """One campaign as staff act on it: its record, the store, the settings."""

    campaign_id: str
    record: dict[str, Any]
    store: Any
    settings: Any

    @classmethod
    def load(cls, campaign_id: str) -> CampaignRequest | None:
        """The campaign's record, or None after saying on stderr that there is no such campaign."""
        from chalicelib import aws
        from chalicelib.campaigns.store import CampaignStore
        from chalicelib.config import load_settings

        settings = load_settings()
        describe_target()
        store = CampaignStore(aws.client("dynamodb"), settings.table)
        record = store.get(campaign_id)
        if record is None:
            print(f"notis: no campaign {campaign_id!r}", file=sys.stderr)
            return None
        return cls(campaign_id, record, store, settings)

    def send(self, action: str) -> None:
        """Ask the importer, which acts and adds the request to the audit trail."""
        ask_importer(self.settings, {"notis": action, "campaign": self.campaign_id})


def confirmed(args: argparse.Namespace, question: str, refused: str) -> bool:
    """`--yes`, or the staff member types yes; otherwise say `refused` on stderr."""
    if args.yes or input(f"{question} Type yes: ").strip().lower() == "yes":
        return True
    print(f"notis: {refused}", file=sys.stderr)
    return False
