"""Send ids and recipient keys as they travel: in send-queue messages and in SES message tags.

A send id names "the same mail" (docs/internals.md): `<incident>.<audience>.notice|f-<id>|u-<id>`, or a bare
campaign id (optionally with a suffix). `<incident>.<audience>.test-<16 hex>` is one `notis test-send`: its
own mail, so it is never counted with (or claimed against) the real notice. SES v2 allows only ASCII letters,
digits, `_` and `-` in a message tag value, at most 256 characters (SES API v2 reference, `MessageTag`:
"Value ... can only contain ASCII letters (a–z, A–Z), numbers (0–9), underscores (_), or dashes (-)"), and
answers BadRequestException to anything else: a send id with its dots cannot go into a tag as it is.
`tag_value` escapes it reversibly.
"""

from __future__ import annotations

import re

SEND_ID_RE = re.compile(
    r"^(c[0-9a-f]{20}(\.[A-Za-z0-9_-]{1,100})?"
    r"|[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}\.(notice|[fu]-[a-z0-9-]{1,63}|test-[0-9a-f]{16}))$"
)
KEY_RE = re.compile(r"^[0-9a-f]{16,128}$")
TAG_VALUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # the documented MessageTag value rule
_ESCAPES = {"_": "_u", ".": "_d"}
_UNESCAPE = re.compile(r"_(.)")


def tag_value(send_id: str) -> str:
    """The send id as an SES tag value: `_` becomes `_u` and `.` becomes `_d` (nothing else can occur)."""
    if not SEND_ID_RE.match(send_id):
        raise ValueError("not a send id")
    return "".join(_ESCAPES.get(c, c) for c in send_id)


def send_id_from_tag(value: str) -> str | None:
    """The send id a `tag_value` came from, or None for anything that is not one."""
    if not isinstance(value, str) or not TAG_VALUE_RE.match(value):
        return None
    if value.endswith("_") or any(e not in ("u", "d") for e in _UNESCAPE.findall(value)):
        return None
    decoded = _UNESCAPE.sub(lambda m: "_" if m.group(1) == "u" else ".", value)
    if not SEND_ID_RE.match(decoded):
        return None
    return decoded
