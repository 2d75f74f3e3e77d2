"""`notis info [--json]`: which AWS the commands talk to, and the names of the bucket, queues and table they use.

The names are the settings every other command uses (NOTIS_* variables, or the local stack's), so what this
prints is what `notis upload` would write to. Queue URLs are looked up, and shown as unreachable when they are not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from notis_cli.commands._common import describe_target

QUEUES = (("import", "import_queue"), ("import_dlq", "import_dlq"), ("send", "send_queue"), ("send_dlq", "send_dlq"))


def gather(settings: Any, *, endpoint: str | None, local: dict[str, Any] | None, sqs: Any = None,
           sts: Any = None, account: str | None = None) -> dict[str, Any]:
    """One object describing the target; AWS calls that fail leave their field null rather than fail."""
    account = account or (local or {}).get("account")
    if account is None and sts is not None:
        try:
            account = sts.get_caller_identity()["Account"]
        except Exception:  # informative only: no credentials, no network
            account = None
    queues: dict[str, dict[str, str | None]] = {}
    for label, attr in QUEUES:
        name = getattr(settings, attr)
        url = None
        if sqs is not None:
            try:
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except Exception:  # not there, or not reachable: say so, go on
                url = None
        queues[label] = {"name": name, "url": url}
    return {
        "endpoint": endpoint or None,
        "local_stack": local is not None,
        "page": (local or {}).get("page"),
        "region": settings.region,
        "account": account,
        "bucket": settings.bucket,
        "queues": queues,
        "table": settings.table,
        "configuration_set": settings.configuration_set or None,
        "sender": settings.sender,
    }


def text(info: dict[str, Any]) -> str:
    if info["endpoint"]:
        kind = "the local stack" if info["local_stack"] else "an AWS emulator"
        where = f"{kind} at {info['endpoint']}"
    else:
        where = "AWS"
    lines = [f"AWS       {where} (region {info['region']}, account {info['account'] or 'unknown'})"]
    if info["page"]:
        lines.append(f"page      {info['page']}")
    lines += [f"bucket    {info['bucket']}", f"table     {info['table']}"]
    width = max(len(q["name"]) for q in info["queues"].values())
    for n, (label, queue) in enumerate(info["queues"].items()):
        url = queue["url"] or "(not reachable)"
        lines.append(f"{'queues' if n == 0 else '':10}{label:11} {queue['name']:{width}}  {url}")
    lines.append(f"SES       sender {info['sender']}, configuration set {info['configuration_set'] or '(none)'}")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="which AWS notis talks to, and the bucket, queues and table it uses")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.config import load_settings
    from notis_cli.target import read_state

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    state = read_state() if endpoint else None
    local = state if state and state.get("endpoint") == endpoint else None
    account = None
    if not endpoint:
        # On AWS the account is the answer staff came for: no credentials (or no network) is an error with the
        # one line every command prints (notis_cli.main.aws_problem), not "unknown account" and exit 0.
        account = aws.client("sts").get_caller_identity()["Account"]
    describe_target()
    info = gather(load_settings(), endpoint=endpoint, local=local, sqs=_client(aws, "sqs"), sts=_client(aws, "sts"),
                  account=account)
    print(json.dumps(info, indent=2) if args.json else text(info))
    return 0


def _client(aws: Any, name: str) -> Any:
    try:
        return aws.client(name)
    except Exception:  # e.g. no region or a broken profile: info still prints the names
        print(f"notis: no {name} client ({sys.exc_info()[0].__name__}); URLs are left out", file=sys.stderr)
        return None
