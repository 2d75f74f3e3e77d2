"""`notis outbox [--show N] [--save DIR]`: the e-mails the local stack's SES accepted, to read them as recipients will.

The embedded AWS (moto server) keeps every message it accepted; its API (`/moto-api/data.json`) lists them. Real
SES keeps no copy, so on AWS this command says it only works against the local stack.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from notis_cli.commands._common import describe_target
from notis_cli.private import NotAFolder, open_private, private_dir

LOCAL_ONLY = ("notis outbox works only against the local stack (make run): SES on AWS keeps no copy of the mail "
              "it sends")


class OutboxUnavailable(RuntimeError):
    """The endpoint is not an embedded moto server (no /moto-api/data.json)."""


@dataclass(frozen=True)
class SentMail:
    number: int
    message_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    sent: str  # the Date header in this machine's time zone, "YYYY-MM-DD HH:MM:SS CET", or "" when it has none
    text: str
    html: str | None
    raw: bytes


def fetch_model_data(endpoint: str, timeout: float = 10.0) -> dict[str, Any]:
    url = endpoint.rstrip("/") + "/moto-api/data.json"
    if not url.startswith(("http://", "https://")):
        raise OutboxUnavailable(f"{endpoint} is not an http(s) endpoint")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OutboxUnavailable(
            f"{endpoint} does not answer /moto-api/data.json ({type(exc).__name__}): the outbox needs the embedded "
            "AWS that make run starts"
        ) from None


def _local_time(date_header: str) -> str:
    try:
        return parsedate_to_datetime(date_header).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    except (TypeError, ValueError, IndexError):
        return ""


def _part(msg: EmailMessage, kind: str) -> str | None:
    body = msg.get_body(preferencelist=(kind,))
    if body is None:
        return None
    try:
        return str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset: show what is there rather than nothing
        payload = body.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)


def _from_raw(number: int, item: dict[str, Any]) -> SentMail:
    raw_data = item.get("raw_data") or ""
    raw = raw_data.encode("utf-8", "surrogateescape") if isinstance(raw_data, str) else bytes(raw_data)
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    to = tuple(a.addr_spec for a in getattr(msg["To"], "addresses", ())) if msg["To"] else ()
    if not to:
        to = tuple(dict.fromkeys(str(d) for d in item.get("destinations") or []))  # moto may list one twice
    return SentMail(
        number=number,
        message_id=str(item.get("id", "")),
        sender=str(msg["From"] or item.get("source", "")),
        to=to,
        subject=str(msg["Subject"] or ""),
        sent=_local_time(str(msg["Date"] or "")),
        text=_part(msg, "plain") or "",
        html=_part(msg, "html"),
        raw=raw,
    )


def _from_simple(number: int, item: dict[str, Any]) -> SentMail:
    destinations = item.get("destinations") or {}
    to = tuple(destinations.get("ToAddresses", [])) if isinstance(destinations, dict) else ()
    msg = EmailMessage()
    msg["From"] = str(item.get("source", ""))
    msg["To"] = ", ".join(to)
    msg["Subject"] = str(item.get("subject", ""))
    msg.set_content(str(item.get("body", "")))
    return SentMail(number, str(item.get("id", "")), msg["From"], to, msg["Subject"], "",
                    str(item.get("body", "")), None, msg.as_bytes())


def sent_mail(model_data: dict[str, Any]) -> list[SentMail]:
    """Raw messages (what notis sends) in the order SES accepted them, then any simple ones; numbered from 1."""
    ses = model_data.get("ses") or {}
    out: list[SentMail] = []
    for item in ses.get("RawMessage") or []:
        out.append(_from_raw(len(out) + 1, item))
    for item in ses.get("Message") or []:
        out.append(_from_simple(len(out) + 1, item))
    return out


def listing(mails: list[SentMail]) -> str:
    if not mails:
        return "the outbox is empty: the local SES has accepted no e-mail yet"
    width = max(len(", ".join(m.to)) for m in mails)
    lines = [f"{'#':>4}  {'time':24}  {'to':{width}}  subject"]
    lines += [f"{m.number:>4}  {m.sent or '-':24}  {', '.join(m.to):{width}}  {m.subject}" for m in mails]
    lines.append(f"{len(mails)} e-mail(s); read one with: notis outbox --show N")
    return "\n".join(lines)


def show(mail: SentMail) -> str:
    head = [f"From:    {mail.sender}", f"To:      {', '.join(mail.to)}", f"Subject: {mail.subject}",
            f"Date:    {mail.sent or '-'}", ""]
    return "\n".join(head) + mail.text


def save(mails: list[SentMail], directory: Path) -> list[Path]:
    """NNN.eml (the whole message, opens in a mail program) and NNN.html (the HTML part, opens in a browser)."""
    private_dir(directory)
    written = []
    for mail in mails:
        eml = directory / f"{mail.number:03d}.eml"
        with open_private(eml) as out:
            out.write(mail.raw)
        written.append(eml)
        if mail.html is not None:
            html = directory / f"{mail.number:03d}.html"
            with open_private(html, "w", encoding="utf-8") as out:
                out.write(mail.html)
            written.append(html)
    return written


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outbox", help="the e-mails the local stack's SES accepted (local stack only)")
    p.add_argument("--show", type=int, metavar="N", help="print e-mail N as text")
    p.add_argument("--save", type=Path, metavar="DIR", help="write each e-mail (or only N) as .eml and .html")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        print(f"notis: {LOCAL_ONLY}", file=sys.stderr)
        return 1
    describe_target()
    try:
        mails = sent_mail(fetch_model_data(endpoint))
    except OutboxUnavailable as exc:
        print(f"notis: {exc}", file=sys.stderr)
        return 1
    chosen = mails
    if args.show is not None:
        if not 1 <= args.show <= len(mails):
            print(f"notis: there is no e-mail {args.show} (the outbox holds {len(mails)})", file=sys.stderr)
            return 1
        chosen = [mails[args.show - 1]]
    if args.save is not None:
        try:
            written = save(chosen, args.save)
        except (NotAFolder, OSError) as exc:
            print(f"notis: cannot save into {args.save}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 1
        for path in written:
            print(path)
        print(f"notis: {len(written)} file(s) in {args.save.resolve()}, readable only by you: they hold names and "
              "addresses; delete them when done", file=sys.stderr)
        return 0
    print(show(chosen[0]) if args.show is not None else listing(mails))
    return 0
