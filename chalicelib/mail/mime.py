"""Build the RFC 5322 message (bytes for SES v2 SendEmail `Content.Raw`).

Names never reach a header: they are only in the body, so a hostile name cannot inject headers. The
recipient address is checked for line breaks and other control characters before it is used.
"""

from __future__ import annotations

import binascii
import functools
import re
import secrets
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, make_msgid

from chalicelib.mail.render import Composed
from chalicelib.recipients.email import ses_destination

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


class AddressError(ValueError):
    """An address that cannot be put in a message; `role` says whose (recipient, sender, reply-to)."""

    def __init__(self, message: str, role: str):
        super().__init__(message)
        self.role = role


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

    Written out by hand rather than through `EmailMessage`, whose header registry cost ~2 ms per message
    (most of the sender's CPU at hundreds of e-mails per second); tests parse every result back with the
    `email` package. Date and Message-ID make the message complete (previews, moto, any other transport);
    SES overwrites both with its own values ("Amazon SES header fields" in the SES developer guide), so the
    ledger keeps the MessageId that SendEmail returns. `message_id_domain` defaults to the sender's domain,
    because `make_msgid()` without one asks the resolver for this host's name: slow, and meaningless in Lambda.
    SES refuses a message with a repeated header such as Auto-Submitted; each is set exactly once here.
    """
    to_header = _recipient(to)
    from_header = _configured_address(sender, "sender")
    domain = message_id_domain or from_header.rpartition("@")[2].rstrip(">") or "notis.invalid"
    boundary = "=_notis_" + secrets.token_hex(12)
    headers = [
        ("From", from_header),
        ("To", to_header),
        *([("Reply-To", _configured_address(reply_to, "reply-to"))] if reply_to else []),
        ("Subject", _encoded_word(_header_text(composed.subject))),
        ("Date", format_datetime(now or datetime.now(UTC))),
        ("Message-ID", make_msgid(domain=_header_text(domain))),
        # An automatic message: auto-responders stay quiet (RFC 3834). No X- headers: receiving servers trust
        # a plain, standard message more, and nothing here needs a private extension.
        ("Auto-Submitted", "auto-generated"),
        # No List-Unsubscribe: this is a notice the controller must give under GDPR Art. 34, not a mailing
        # list; offering to unsubscribe would be misleading and would let people opt out of legally required
        # follow-ups. Bounces and complaints still suppress an address (see the sender).
        ("Content-Language", _header_text(composed.lang)),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative;\r\n boundary="{boundary}"'),
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    parts = b"".join(
        b"--" + boundary.encode() + b"\r\n"
        + f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\n".encode()
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + _quoted_printable(body) + b"\r\n"
        for subtype, body in (("plain", composed.text), ("html", composed.html))
    )
    return head + b"\r\n" + parts + b"--" + boundary.encode() + b"--\r\n"


def _quoted_printable(text: str) -> bytes:
    """RFC 2045 quoted-printable with CRLF line ends (binascii's C encoder; lines at most 76 characters)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    if not normalised.endswith("\n"):
        normalised += "\n"
    encoded = binascii.b2a_qp(normalised.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n")


def _encoded_word(text: str) -> str:
    """A header value: ASCII as is, else RFC 2047 encoded words (so å ä ö survive every mail client)."""
    if text.isascii() and len(text) < 900:
        return text
    return Header(text, "utf-8", maxlinelen=76, header_name="Subject").encode(linesep="\r\n")


_SIMPLE_ADDRESS = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
# `Name <addr>` as staff write it: everything before the one angle-bracketed address is the display name,
# so a comma or a full stop in it needs no quoting (RFC 5322 would read `A, B <x@y>` as two addresses).
_NAMED = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]+)>\s*$")


def _recipient(value: str) -> str:
    """The To address: the common plain ASCII form passes straight through, anything else is parsed."""
    if isinstance(value, str) and len(value) <= 254 and _SIMPLE_ADDRESS.match(value):
        return value
    return _address(value, "recipient")


@functools.lru_cache(maxsize=16)
def sender_address(value: str, role: str = "sender") -> str:
    """A configured From or Reply-To, formatted by the standard library (`email.utils.formataddr`): a name
    with a comma, a full stop or quotes is quoted, a non-ASCII name is an RFC 2047 encoded word (SES's
    `FromEmailAddress` requires exactly that), the domain is punycode. One line: SES takes it as it is."""
    display, local, domain = _parts(value, role)
    return formataddr((display, f"{local}@{domain}"), charset="utf-8") if display else f"{local}@{domain}"


def _configured_address(value: str, role: str) -> str:
    """Sender and reply-to as a header line (checked and formatted once per process, see sender_address)."""
    return _folded(sender_address(value, role))


def _header_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("header text contains a line break or control character")
    return value


def _address(value: str, role: str) -> str:
    """One address, `a@b.example` or `Name <a@b.example>`; anything that could add a header is refused."""
    display, local, domain = _parts(value, role)
    return _folded(formataddr((display, f"{local}@{domain}"), charset="utf-8") if display else f"{local}@{domain}")


def _folded(formatted: str) -> str:
    """A long `Name <addr>` folded before the address, so header lines stay under 78 characters."""
    name, _, addr = formatted.rpartition(" <")
    return f"{name}\r\n <{addr}" if name and len(formatted) > 70 else formatted


def _parts(value: str, role: str) -> tuple[str, str, str]:
    """(display name, ASCII local part, punycode domain) of one address, or ValueError in plain words."""
    if not isinstance(value, str) or not value.strip():
        raise AddressError(f"the {role} address is empty", role)
    if _CONTROL.search(value):
        raise AddressError(f"the {role} address contains a line break or control character", role)
    named = _NAMED.match(value)
    display, spec = (named["name"].strip(), named["addr"].strip()) if named else ("", value.strip())
    if len(display) >= 2 and display[0] == display[-1] == '"':
        display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    try:
        address = Address(addr_spec=spec)
    except Exception as exc:  # the stdlib parser raises ValueError, IndexError and others on malformed input
        raise AddressError(f"the {role} address is not a single e-mail address", role) from exc
    local, domain = address.username, address.domain
    if not local or not domain or "." not in domain:
        raise AddressError(f"the {role} address is not a single e-mail address", role)
    if not local.isascii():
        raise AddressError(f"the {role} address has a non-ASCII local part (SES cannot send to it)", role)
    try:  # the same punycode as the Destination SES gets (IDNA 2008, chalicelib.recipients.email)
        domain = ses_destination(f"{local}@{domain}").rpartition("@")[2]
    except ValueError as exc:
        raise AddressError(f"the {role} address has an invalid domain", role) from exc
    return display, local, domain
