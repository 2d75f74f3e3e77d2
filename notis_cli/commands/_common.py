"""Helpers shared by the staff commands: which AWS we talk to (on stderr), queue URLs, campaign requests."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

FULL_CAMPAIGN_ID = re.compile(r"c[0-9a-f]{20}")  # as chalicelib.campaigns.uploads.CAMPAIGN_ID


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


MIN_PREFIX = 5  # "c" and 4 hex digits: short enough to type, long enough to be unique among a few campaigns


class CampaignNotResolved(Exception):
    """The CAMPAIGN typed names no campaign, or several; `code` is the exit status (1 none, 2 ambiguous)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def resolve_campaign(typed: str, known: Callable[[], Iterable[str]]) -> str:
    """The campaign id a staff member means: the id itself, or a unique prefix of at least MIN_PREFIX
    characters (ids are `c` + 20 hex digits, easy to mistype); `known()` lists the ids, asked only for a prefix.

    Raises CampaignNotResolved saying why (no match: exit 1, as for an unknown id; several: exit 2, listing them).
    """
    wanted = typed.strip().lower()
    if FULL_CAMPAIGN_ID.fullmatch(wanted):
        return wanted  # the command says itself if there is no such campaign
    if len(wanted) < MIN_PREFIX:
        raise CampaignNotResolved(f"{typed!r} is too short for a campaign id: give the id (c + 20 hex digits) or "
                                  f"at least its first {MIN_PREFIX} characters (see notis status)", 2)
    found = sorted({i for i in known() if i.startswith(wanted)})
    if not found:
        raise CampaignNotResolved(f"no campaign {typed!r} (no campaign id begins so; see notis status)", 1)
    if len(found) > 1:
        raise CampaignNotResolved(f"{typed!r} begins {len(found)} campaign ids: {', '.join(found)}; type more of "
                                  "the one you mean", 2)
    return found[0]


def campaign_argument(args: argparse.Namespace) -> int:
    """Replace a command's CAMPAIGN (positional, or `--campaign`) by the id it names; 0, or the exit status after
    saying why on stderr. Every command taking a campaign gets this from notis_cli.main, once."""
    typed = getattr(args, "campaign", None)
    if not typed:
        return 0

    def known() -> list[str]:
        from chalicelib import aws
        from chalicelib.campaigns.store import CampaignStore
        from chalicelib.config import load_settings

        store = CampaignStore(aws.client("dynamodb"), load_settings().table)
        return [str(c.get("campaign", "")) for c in store.list()]

    try:
        args.campaign = resolve_campaign(typed, known)
    except CampaignNotResolved as exc:
        print(f"notis: {exc}", file=sys.stderr)
        return exc.code
    if args.campaign != typed.strip().lower():
        print(f"notis: campaign {args.campaign}", file=sys.stderr)  # which one the prefix named
    return 0


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
    p.add_argument("campaign", help="the campaign id, or its first 5 or more characters (see notis status)")
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
