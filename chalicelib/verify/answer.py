"""The public answer to "did you send a message with this code?": only what the reader's message already says.

From a code record it takes the send id (which incident, which kind of message) and the day; never the
recipient key, the campaign or anything else that could tell whether some person is affected.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.verify.codes import CodeRecord

# chalicelib/sending/ids.py: `<incident>.<audience>.notice|f-<id>|u-<id>|test-<hex>`; a bare campaign id
# (legacy, `c<20 hex>[.suffix]`) names no incident, and its answer says null rather than guess.
_SEND_ID = re.compile(
    r"^([a-z0-9-]{1,63})\.[a-z0-9-]{1,63}\.(notice|f-[a-z0-9-]{1,63}|u-[a-z0-9-]{1,63}|test-[0-9a-f]{16})$"
)
KINDS = {"notice": "notice", "f": "follow-up", "u": "update", "test": "notice"}


@dataclass(frozen=True)
class Answer:
    code: str | None
    genuine: bool
    incident: str | None = None
    title: str | None = None
    sent_on: str | None = None
    kind: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def incident_and_kind(send_id: str) -> tuple[str | None, str | None]:
    """The incident slug and the kind of message a send id names, or (None, None) for a bare campaign id."""
    found = _SEND_ID.match(send_id)
    if not found:
        return None, None
    return found.group(1), KINDS[found.group(2).split("-")[0]]


def answer(code: str | None, record: CodeRecord | None, titles: dict[str, str]) -> Answer:
    """`titles`: incident slug -> title in the reader's language (the published content)."""
    if record is None:
        return Answer(code=code, genuine=False)
    slug, kind = incident_and_kind(record.send_id)
    return Answer(code=code, genuine=True, incident=slug, title=titles.get(slug) if slug else None,
                  sent_on=record.sent_on, kind=kind)
