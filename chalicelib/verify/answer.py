"""The public answer to "did you send a message with this code?": only what the reader's message already says.

From a code record it takes the send id (which incident, which kind of message) and the day; never the
recipient key, the campaign or anything else that could tell whether some person is affected. What is wrong
with a code that is not one of ours (`problem`) comes from the typed text alone, never from the records.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib.mail.reference import Parsed, check_symbol, group
from chalicelib.verify.codes import CodeRecord

# chalicelib/sending/ids.py: `<incident>.<audience>.notice|f-<id>|u-<id>|test-<hex>`; a bare campaign id
# (legacy, `c<20 hex>[.suffix]`) names no incident, and its answer says null rather than guess.
_SEND_ID = re.compile(
    r"^([a-z0-9-]{1,63})\.[a-z0-9-]{1,63}\.(notice|f-[a-z0-9-]{1,63}|u-[a-z0-9-]{1,63}|test-[0-9a-f]{16})$"
)
KINDS = {"notice": "notice", "f": "follow-up", "u": "update", "test": "notice"}

# The example printed on the page (strings.py `{example}`): a code in the real shape, check symbol included, so
# it shows what to look for. Typed in, it is answered as the example, never looked up (a real message holding it
# is a 1 in 29^12 draw). The 12-symbol example the page showed before the check symbol counts too.
_EXAMPLE_SYMBOLS = "ABCD2345EFGH"
EXAMPLE = group(_EXAMPLE_SYMBOLS + check_symbol(_EXAMPLE_SYMBOLS))  # ABCD-2345-EFGHX
_EXAMPLES = {EXAMPLE, group(_EXAMPLE_SYMBOLS)}
# `problem` in an answer: the parse outcome for a code that is not a valid one, or "example"; null for a valid
# code (genuine or not).
PROBLEMS = ("typo", "wrong_characters", "wrong_length", "empty", "example")


@dataclass(frozen=True)
class Answer:
    code: str | None
    genuine: bool
    incident: str | None = None
    title: str | None = None
    sent_on: str | None = None
    kind: str | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def incident_and_kind(send_id: str) -> tuple[str | None, str | None]:
    """The incident slug and the kind of message a send id names, or (None, None) for a bare campaign id."""
    found = _SEND_ID.match(send_id)
    if not found:
        return None, None
    return found.group(1), KINDS[found.group(2).split("-")[0]]


def is_example(parsed: Parsed) -> bool:
    """The page's own example code (or the older one), typed in by someone trying the form."""
    return parsed.read in _EXAMPLES


def code_to_read(parsed: Parsed) -> str | None:
    """The code whose record to read: None (the dummy key) for anything but a valid code that is not the example."""
    return None if is_example(parsed) else parsed.code


def answer(parsed: Parsed, record: CodeRecord | None, titles: dict[str, str]) -> Answer:
    """`titles`: incident slug -> title in the reader's language (the published content)."""
    if is_example(parsed):
        return Answer(code=None, genuine=False, problem="example")
    if record is None or not parsed.valid:
        return Answer(code=parsed.code, genuine=False, problem=None if parsed.valid else parsed.outcome.value)
    slug, kind = incident_and_kind(record.send_id)
    return Answer(code=parsed.code, genuine=True, incident=slug, title=titles.get(slug) if slug else None,
                  sent_on=record.sent_on, kind=kind)
