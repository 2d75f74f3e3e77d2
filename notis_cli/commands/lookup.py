"""`notis lookup ADDRESS|CODE [--json]`: did we write to this person, and when? (support on the phone)

Every first notice, follow-up and update notice to one person across campaigns: kind, campaign, when claimed
and sent, what SES said, whether a letter is needed, the reference code and SES message id. The person is found
by the keyed HMAC of the address typed (or by the reference code a caller reads out), never by a stored address;
the address is printed only because the staff member typed it (chalicelib/sending/lookup.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any

_AT_SPELLED_OUT = re.compile(r"\S\s*[(\[{<]\s*(?:at|snabel-a)\s*[)\]}>]\s*\S+\.\S", re.IGNORECASE)
now: Callable[[], float] = time.time  # a record past its retention counts as gone (tests set the clock)


EXIT_STATUS = """exit status:
  0  looked up: the answer is printed (also "no e-mail from us found" and "no message of ours carries this code")
  1  the table could not be read (AWS or the local stack: the reason is printed)
  2  what was typed is neither an e-mail address nor a reference code (the reason is printed)"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lookup", help="every e-mail we sent one person (by e-mail address or reference code): "
                                      "when, what SES said, letter needed",
                       epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("who", metavar="ADDRESS|CODE", nargs="+",
                   help="the person's e-mail address, or the reference code in the e-mail or letter (e.g. "
                        "K7QX-2M9D-PA4T4; any case; spaces allowed, also unquoted: notis lookup k7qx 2m9d pa4t4)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of text")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.mail.reference import normalise_reference, why_not_a_code
    from chalicelib.recipients import InvalidEmail, UnsendableEmail, normalise_email, recipient_key
    from chalicelib.sending import lookup
    from chalicelib.verify.codes import CodeBook

    typed = " ".join(args.who).strip()
    code = None if "@" in typed else normalise_reference(typed)
    if "@" not in typed and code is None:
        if _AT_SPELLED_OUT.search(typed):  # henrik.dahl(at)example.se: as some lists hold it
            print("notis: this looks like an e-mail address with its @ written out: type it with @. (An address "
                  "written like this in the uploaded list is not usable: that person got a letter, whose code "
                  "notis lookup CODE finds.)", file=sys.stderr)
            return 2
        print(f"notis: not a reference code: {why_not_a_code(typed)}. Give the person's e-mail address, or the "
              "code of 13 letters and digits (such as K7QX-2M9D-PA4T4)", file=sys.stderr)
        return 2
    ctx = _Context()
    query: dict[str, str]
    letter: dict[str, Any] = {}  # the code was printed in a letter: which, and when it was made
    if code is None:
        try:
            address = normalise_email(typed)
        except UnsendableEmail as exc:
            return _unsendable(typed, str(exc), args.json)
        except InvalidEmail as exc:
            print(f"notis: not a usable e-mail address: {exc}", file=sys.stderr)
            return 2
        key, who, query = recipient_key(address, ctx.settings.hmac_key), typed, {"address": typed}
    else:
        record = CodeBook(ctx.ddb, ctx.settings.table).read(code, now=now())
        query = {"code": code}
        if record is None:
            return _unknown_code(code, args.json)
        if record.channel == "letter":
            if not record.key:
                return _letter_only(code, record, args.json)
            letter = {"known_code": True, "channel": "letter", "send_id": record.send_id,
                      ("posted_on" if record.posted else "made_on"): record.sent_on}
        key, who = record.key, f"The person with reference code {code}"
    notices = lookup.notices_for(ctx.ddb, ctx.settings.table, key, ctx.send_ids())
    suppressed = lookup.suppression(ctx.ddb, ctx.settings.table, key)
    if args.json:
        hint = {"hint": lookup.NOT_FOUND_HINT} if code is None and not notices else {}
        print(json.dumps({"query": query, **letter, "found": len(notices), "suppressed": suppressed, **hint,
                          "notices": [n.as_dict() for n in notices]}, ensure_ascii=False, indent=2))
        return 0
    if letter:  # once, on stdout, before the e-mails to the same household
        print(f"{code}: a genuine letter from us ({letter['send_id']}, {_made(record)}) to a household "
              "where someone has an e-mail address; what was e-mailed to them follows.\n")
    print(lookup.lookup_text(who, notices, suppressed=suppressed, hint=code is None), end="")
    return 0


def _unsendable(typed: str, reason: str, as_json: bool) -> int:
    """An address SES cannot send to: nobody is e-mailed there, which is the answer (the person gets a letter)."""
    if as_json:
        print(json.dumps({"query": {"address": typed}, "found": 0, "unsendable": reason, "notices": []},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{typed}: no e-mail from us found. {reason[:1].upper() + reason[1:]}: nobody is e-mailed at such an "
              "address, so the person is on the letter list (notis letters CAMPAIGN --list).")
    return 0


def _unknown_code(code: str, as_json: bool) -> int:
    """A code no message of ours carries (or whose record has expired): say so plainly; it may be phishing. An
    answer like "no e-mail found" for an address, so the same exit status (0)."""
    if as_json:
        print(json.dumps({"query": {"code": code}, "found": 0, "known_code": False, "notices": []}, indent=2))
    else:
        print(f"{code}: no e-mail or letter from us carries this code (or it is older than the retention period). "
              "A message showing it may not be from us: ask the caller not to click links in it.")
    return 0


def _letter_only(code: str, record: Any, as_json: bool) -> int:
    """A letter to a household where nobody has an e-mail address: no e-mail to list, and that is the answer."""
    if as_json:
        print(json.dumps({"query": {"code": code}, "found": 0, "known_code": True, "channel": "letter",
                          "send_id": record.send_id, ("posted_on" if record.posted else "made_on"): record.sent_on,
                          "notices": []}, indent=2))
    else:
        print(f"{code}: a genuine letter from us ({record.send_id}, {_made(record)}) to a household with no "
              "e-mail address, so no e-mail went to them.")
    return 0


def _made(record: Any) -> str:
    """When the letter went: posted on (after --mark-posted), else the day its PDF was made."""
    return f"{'posted' if record.posted else 'made'} {record.sent_on}"


class _Context:
    """Settings and the table, read once; says on stderr which AWS it talks to."""

    def __init__(self) -> None:
        from chalicelib import aws
        from chalicelib.config import load_settings
        from notis_cli.commands._common import describe_target

        self.settings = load_settings()
        describe_target()
        self.ddb = aws.client("dynamodb")

    def send_ids(self) -> list[str]:
        """Every send id of every campaign (first notices, and follow-ups and update notices started)."""
        from chalicelib.campaigns.store import CampaignStore
        from chalicelib.followups.markers import Markers
        from chalicelib.sending.lookup import known_send_ids

        campaigns = CampaignStore(self.ddb, self.settings.table).list()
        markers = Markers(self.ddb, self.settings.table).load(str(c["campaign"]) for c in campaigns)
        return known_send_ids(campaigns, markers.values())
