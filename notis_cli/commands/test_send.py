"""`notis test-send ADDRESS`: one real notice to one staff address, through the deployed path, outside every campaign.

Staff may not write to the send queue (whatever is there is mailed as it is), so the command asks the import
function, as `notis approve` does: a `test-send` request on the import queue. The import checks what staff
cannot go around (a published incident and audience, one valid address, a few test sends an hour), records a
campaign record of kind `test` (which `notis status`, the digest and follow-ups never list) and queues one send
message under its own send id, so the mail counts in no campaign. The command then watches that record for a
while and says what became of the request.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from typing import Any

from notis_cli.commands._common import describe_target, queue_url

DEFAULT_WAIT_SECONDS = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test-send", help="send one real notice to your own address (counted in no campaign)")
    p.add_argument("address", help="one e-mail address of yours (or success@simulator.amazonses.com)")
    p.add_argument("--incident", help="the incident (default: the only published one)")
    p.add_argument("--audience", help="the audience whose notice to send (default: the incident's first)")
    p.add_argument("--lang", choices=("sv", "en"), default="sv", help="the notice's language (default: sv)")
    p.add_argument("--wait", type=float, default=DEFAULT_WAIT_SECONDS,
                   help=f"seconds to wait for the import to take the request (default: {DEFAULT_WAIT_SECONDS:g}; "
                        "0: do not wait)")
    p.set_defaults(run=run)


def request_body(token: str, incident: str, audience: str, address: str, lang: str) -> str:
    """The import-queue message (chalicelib/campaigns/uploads.py parses it)."""
    return json.dumps({"notis": "test-send", "token": token, "incident": incident, "audience": audience,
                       "email": address, "lang": lang})


def _defaults(incident: str | None, audience: str | None) -> tuple[str, str] | str:
    """(incident, audience) from the arguments or the published content; or why they cannot be chosen."""
    from chalicelib.content.published import published_incidents

    incidents = published_incidents()
    if incident is None:
        if len(incidents) != 1:
            return f"say which incident with --incident (published: {', '.join(sorted(incidents)) or 'none'})"
        incident = next(iter(incidents))
    found = incidents.get(incident)
    if audience is None:
        if found is None or not found.audiences:
            return f"say which audience with --audience (no published incident {incident!r} here to take it from)"
        audience = found.audiences[0].name
    return incident, audience


def run(args: argparse.Namespace) -> int:
    from chalicelib import aws
    from chalicelib.campaigns.store import FAILED, QUEUED, CampaignStore
    from chalicelib.campaigns.uploads import SLUG, TestSend
    from chalicelib.config import load_settings
    from chalicelib.recipients import InvalidEmail, normalise_email

    address = args.address.strip()
    if any(c in address for c in ",; ") or address.count("@") != 1:
        print("notis: give exactly one e-mail address", file=sys.stderr)
        return 2
    try:
        normalise_email(address)
    except InvalidEmail as exc:
        print(f"notis: {exc}", file=sys.stderr)
        return 2
    chosen = _defaults(args.incident, args.audience)
    if isinstance(chosen, str):
        print(f"notis: {chosen}", file=sys.stderr)
        return 2
    incident, audience = chosen
    if not SLUG.match(incident) or not SLUG.match(audience):
        print("notis: incident and audience are names like korkortsportalen-2024 and customers", file=sys.stderr)
        return 2

    settings = load_settings()
    describe_target()
    token = secrets.token_hex(8)
    request = TestSend(token, incident, audience, address, args.lang)
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url(sqs, settings.import_queue),
                     MessageBody=request_body(token, incident, audience, address, args.lang))
    print(f"asked for a test send of {incident} / {audience} ({args.lang}) to {address}: {request.campaign_id}")
    if args.wait <= 0:
        return 0
    record = _wait(CampaignStore(aws.client("dynamodb"), settings.table), request.campaign_id, args.wait)
    state = (record or {}).get("state")
    if state == QUEUED:
        print("queued: the mail goes out within a minute or two. It counts in no campaign.")
        return 0
    if state == FAILED:
        print(f"notis: refused: {record.get('error') if record else ''}", file=sys.stderr)
        return 1
    print(f"notis: the import has not taken the request after {args.wait:g} s (it may be busy, or the import "
          "queue's messages are failing: see `notis redrive`); if the request is valid the mail still goes out",
          file=sys.stderr)
    return 1


def _wait(store: Any, campaign_id: str, seconds: float, *, step: float = 1.0) -> dict[str, Any] | None:
    """The test send's record once the import has settled it (queued or failed), or as it is at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        record = store.get(campaign_id)
        if record and record.get("state") in ("queued", "failed"):
            return record
        if time.monotonic() >= deadline:
            return record
        time.sleep(step)
