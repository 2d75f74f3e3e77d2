"""`notis evidence CAMPAIGN [--json]`: what the supervisory authority asks for, with no personal data."""

from __future__ import annotations

import argparse
import json
import time

from notis_cli.commands._common import on_local_stack
from notis_cli.commands._sendview import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evidence",
        help="what the authority asks: the file's counts, who approved what and when, every notice, follow-up "
             "and update notice with its counts and message-id log, letters, retention, the audit trail "
             "(no personal data)",
    )
    p.add_argument("campaign", help="campaign id (or its first 5 or more characters)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.audit import records
    from chalicelib.sending.status import evidence, evidence_text

    ctx = Context()
    item = ctx.campaign(args.campaign)
    if item is None:
        return 1
    from chalicelib.campaigns.posted import PostedLetters

    doc = evidence(item, ctx.entries(item), now=time.time(), earlier=ctx.earlier(item), sends=ctx.sends(item),
                   purge=ctx.purge(args.campaign), local=on_local_stack(),
                   audit_trail=records(ctx.ddb, ctx.settings.table, args.campaign),
                   posted=(letters := PostedLetters(ctx.ddb, ctx.settings.table)).load(args.campaign),
                   letters_seen=letters.load_earlier(args.campaign))
    print(
        json.dumps(doc, ensure_ascii=False, indent=2, default=_number) if args.json else evidence_text(doc),
        end="\n" if args.json else "",
    )
    return 0


def _number(value: object) -> object:
    """DynamoDB numbers (Decimal) as JSON numbers; anything else unexpected as text, never a crash."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)
