"""Build the RFC 5322 message (bytes for SES v2 SendEmail `Content.Raw`) with the standard `email` package.

Names never reach a header: they are only in the body, so a hostile name cannot inject headers. The
recipient address is checked for line breaks and other control characters before it is used.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from chalicelib.mail.render import Composed

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def build_mime(
    composed: Composed,
    *,
    sender: str,
    to: str,
    reply_to: str = "",
    message_id_domain: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """multipart/alternative (text/plain + text/html, UTF-8, quoted-printable) with headers set for a notice.

    Date and Message-ID make the message complete (previews, moto, any other transport); SES overwrites
    both with its own values ("Amazon SES header fields" in the SES developer guide), so the ledger keeps
    the MessageId that SendEmail returns. `message_id_domain` defaults to the sender's domain, because
    `make_msgid()` without one asks the resolver for this host's name: slow, and meaningless in Lambda.
    SES refuses a message with a repeated header such as Auto-Submitted; each is set exactly once here.
    """
    to_header = _address(to, "recipient")
    from_header = _configured_address(sender, "sender")
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_header
    msg["To"] = to_header
    if reply_to:
        msg["Reply-To"] = _configured_address(reply_to, "reply-to")
    msg["Subject"] = _header_text(composed.subject)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    domain = message_id_domain or from_header.rpartition("@")[2].rstrip(">") or "notis.invalid"
    msg["Message-ID"] = make_msgid(domain=_header_text(domain))
    # An automatic message: auto-responders (RFC 3834) and Exchange out-of-office replies stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    # No List-Unsubscribe: this is a notice the controller must give under GDPR Art. 34, not a mailing
    # list; offering to unsubscribe would be misleading and would let people opt out of legally required
    # follow-ups. Bounces and complaints still suppress an address (see the sender).
    msg.set_content(composed.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(composed.html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = _header_text(composed.lang)  # after the parts: set_content() moves Content-* headers down
    return msg.as_bytes()


@functools.lru_cache(maxsize=16)
def _configured_address(value: str, role: str) -> str:
    """Sender and reply-to come from settings and repeat in every message: check them once."""
    return _address(value, role)


def _header_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("header text contains a line break or control character")
    return value


def _address(value: str, role: str) -> str:
    """One address, `a@b.example` or `Name <a@b.example>`; anything that could add a header is refused."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the {role} address is empty")
    if _CONTROL.search(value):
        raise ValueError(f"the {role} address contains a line break or control character")
    try:
        header = policy.default.header_factory("To", value)
        found = header.addresses
    except Exception as exc:  # the stdlib parser raises IndexError and others on some malformed input
        raise ValueError(f"the {role} address is not a single e-mail address") from exc
    if len(found) != 1 or header.defects or not found[0].username or not found[0].domain:
        raise ValueError(f"the {role} address is not a single e-mail address")
    display, local, domain = found[0].display_name, found[0].username, found[0].domain
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"the {role} address has an invalid domain") from exc
    if not local.isascii():
        raise ValueError(f"the {role} address has a non-ASCII local part (SMTPUTF8 is not supported)")
    return str(Address(display_name=display, username=local, domain=domain))
