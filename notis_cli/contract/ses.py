"""SES v2 SendEmail (and CreateConfigurationSet): what the SES API v2 reference documents and moto does not check.

SES v1 sending (SendEmail/SendRawEmail) is not used by the project (v1 only verifies the sender identity in
notis_cli/provision.py), so only v2 is held here. SES v2 answers invalid input with BadRequestException (400).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses
from typing import Any

from notis_cli.contract import Rule, Violation

BAD_REQUEST = "BadRequestException"

# SES v2 API Reference, MessageTag (Name, Value): "It can only contain ASCII letters (a–z, A–Z), numbers (0–9),
# underscores (_), or dashes (-). It can contain no more than 256 characters."
# https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html
TAG = re.compile(r"[A-Za-z0-9_-]{1,256}")

# SES v2 API Reference, CreateConfigurationSet / ConfigurationSetName: "up to 64 alphanumeric characters,
# including letters, numbers, hyphens (-) and underscores (_) only."
# https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html
CONFIGURATION_SET = re.compile(r"[A-Za-z0-9_-]{1,64}")

# SES Developer Guide, Service quotas (https://docs.aws.amazon.com/ses/latest/dg/quotas.html): "Using the SES v2
# API or SMTP - Maximum message size (including attachments): 40 MB per message (after base64 encoding)". SES v1's
# refusal reads "Message length is more than 10485760 bytes" for its "10 MB", so MB here is MiB.
MAX_RAW_BASE64_BYTES = 40 * 1024 * 1024

# Same page: "Maximum number of recipients per message: 50" (To, CC and BCC together).
MAX_RECIPIENTS = 50


def _address_problem(value: Any, field: str) -> str | None:
    """Why SES refuses this address, or None.

    SES v2 API Reference, Destination / SendEmail FromEmailAddress, ReplyToAddresses: "Amazon SES does not support
    the SMTPUTF8 extension, as described in RFC6531. For this reason, the email address string must be 7-bit
    ASCII. If you want to send to or from email addresses that contain Unicode characters in the domain part of an
    address, you must encode the domain using Punycode. Punycode is not permitted in the local part of the email
    address (the part before the @ sign) nor in the "friendly from" name. If you want to use Unicode characters in
    the "friendly from" name, you must encode the "friendly from" name using MIME encoded-word syntax".
    https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html
    """
    if not isinstance(value, str):
        return None  # botocore's validation answers this
    if not value.isascii():
        return f"{field}: the address string must be 7-bit ASCII (IDN domains in Punycode, names RFC 2047-encoded)"
    pairs = getaddresses([value])
    if len(pairs) != 1 or not pairs[0][1]:
        return f"{field}: exactly one e-mail address expected"
    addr = pairs[0][1]
    try:
        parsed = Address(addr_spec=addr)
    except (HeaderParseError, ValueError, IndexError):
        return f"{field}: malformed e-mail address"
    if not parsed.username or "." not in parsed.domain or parsed.domain.startswith(".") or ".." in parsed.domain:
        return f"{field}: malformed e-mail address"
    if parsed.username.lower().startswith("xn--"):
        return f"{field}: Punycode is not permitted in the local part"
    return None


def _addresses(values: Any) -> Iterable[Any]:
    return values if isinstance(values, list | tuple) else ()


def check_tags(tags: Any) -> Violation | None:
    for tag in _addresses(tags):
        if not isinstance(tag, Mapping):
            continue
        for part in ("Name", "Value"):
            value = tag.get(part)
            if isinstance(value, str) and not TAG.fullmatch(value):
                return Violation(BAD_REQUEST, f"Invalid message tag {part.lower()} {value[:40]!r}: only A-Z a-z "
                                 "0-9 _ - and at most 256 characters")
    return None


def check_configuration_set(name: Any) -> Violation | None:
    if isinstance(name, str) and not CONFIGURATION_SET.fullmatch(name):
        return Violation(BAD_REQUEST, f"Invalid configuration set name {name[:70]!r}")
    return None


def send_email(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    """SES v2 API Reference, SendEmail: tags, addresses, raw size, configuration set."""
    violation = check_tags(params.get("EmailTags"))
    if violation:
        return violation
    violation = check_configuration_set(params.get("ConfigurationSetName"))
    if violation:
        return violation
    problem = _address_problem(params.get("FromEmailAddress"), "FromEmailAddress")
    for address in _addresses(params.get("ReplyToAddresses")):
        problem = problem or _address_problem(address, "ReplyToAddresses")
    destination = params.get("Destination")
    recipients = 0
    if isinstance(destination, Mapping):
        for field in ("ToAddresses", "CcAddresses", "BccAddresses"):
            for address in _addresses(destination.get(field)):
                recipients += 1
                problem = problem or _address_problem(address, field)
    if problem:
        return Violation(BAD_REQUEST, problem)
    if recipients > MAX_RECIPIENTS:
        return Violation(BAD_REQUEST, f"{recipients} recipients: at most {MAX_RECIPIENTS} per message")
    content = params.get("Content")
    raw = content.get("Raw") if isinstance(content, Mapping) else None
    data = raw.get("Data") if isinstance(raw, Mapping) else None
    if isinstance(data, bytes | bytearray | str):
        size = len(data.encode("utf-8") if isinstance(data, str) else data)
        encoded = 4 * ((size + 2) // 3)
        if encoded > MAX_RAW_BASE64_BYTES:
            return Violation(BAD_REQUEST, f"Message length is more than {MAX_RAW_BASE64_BYTES} bytes long "
                             f"({encoded} after base64 encoding)")
    return None


def create_configuration_set(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    return check_configuration_set(params.get("ConfigurationSetName"))


RULES_V2: dict[str, Rule] = {
    "SendEmail": send_email,
    "CreateConfigurationSet": create_configuration_set,
}
