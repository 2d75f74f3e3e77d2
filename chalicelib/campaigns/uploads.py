"""What an upload is: the object an S3 notification names, and the incident and audience its key declares."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

UPLOAD_KEY = re.compile(r"^uploads/(?P<incident>[^/]+)/(?P<audience>[^/]+)/(?P<name>[^/]+)$")


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    version: str = ""
    etag: str = ""
    size: int = 0
    principal: str = ""  # who uploaded it: the S3 event's userIdentity.principalId, for the audit trail

    @property
    def campaign_id(self) -> str:
        """Derived from the object (bucket, key, content ETag), so a redelivered notification names the same
        campaign, and `notis upload` can name it too: S3 notifications carry the ETag always but the version id
        only from versioned buckets (and moto never), so the version is the fallback, not the key."""
        identity = "\n".join((self.bucket, self.key, self.etag.strip('"') or self.version))
        return "c" + hashlib.sha256(identity.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Approval:
    """Staff approved a held campaign (`notis approve`): queue it now."""

    campaign_id: str


@dataclass(frozen=True)
class Retry:
    """Staff asked to import a failed campaign again (`notis retry`), e.g. once its incident is deployed."""

    campaign_id: str


@dataclass(frozen=True)
class Resume:
    """Staff asked to send a stopped campaign again (`notis resume`) once the fault that stopped it is fixed."""

    campaign_id: str


@dataclass(frozen=True)
class Redrive:
    """Staff asked for a campaign's dead send messages to go back (`notis redrive`): the tick moves them; this
    message only puts the request in the audit trail."""

    campaign_id: str


@dataclass(frozen=True)
class FollowupRun:
    """Staff asked to start a follow-up or update notice by hand (`notis followups run`): the tick (or the command,
    with --here) starts it; this message only puts the request in the audit trail."""

    campaign_id: str
    marker: str


@dataclass(frozen=True)
class LettersPosted:
    """Staff recorded a batch of letters as posted (`notis letters --mark-posted`): the command writes the batch
    record itself (chalicelib/campaigns/posted.py); this message only puts it in the audit trail. Counts only."""

    campaign_id: str
    send_id: str
    letters: int
    people: int
    posted_on: str  # YYYY-MM-DD


@dataclass(frozen=True)
class TestSend:
    """Staff asked for one real notice to one address of theirs (`notis test-send`), outside every campaign.

    `token` (16 hex digits, made by the command) names it: the campaign record of kind `test`, the send id
    `<incident>.<audience>.test-<token>`, so a redelivered request sends nothing twice.
    """

    __test__ = False  # not a pytest test class, whatever its name

    token: str
    incident: str
    audience: str
    email: str
    lang: str

    @property
    def campaign_id(self) -> str:
        return campaign_id_of_test_send(self.token)

    @property
    def send_id(self) -> str:
        return f"{self.incident}.{self.audience}.test-{self.token}"


def campaign_id_of_test_send(token: str) -> str:
    """The campaign id of a test send (same shape as an upload's, so every tool reads it as one)."""
    return "c" + hashlib.sha256(f"test-send\n{token}".encode()).hexdigest()[:20]


StaffRequest = Approval | Retry | Resume | Redrive | FollowupRun | LettersPosted | TestSend
_STAFF_REQUESTS: dict[str, type[Approval] | type[Retry] | type[Resume] | type[Redrive]] = {
    "approve": Approval, "retry": Retry, "resume": Resume, "redrive": Redrive,
}
MARKER = re.compile(r"^[fu]-[a-z0-9-]{1,63}$")  # a follow-up's or update notice's marker id
CAMPAIGN_ID = re.compile(r"^c[0-9a-f]{20}$")
TEST_SEND_TOKEN = re.compile(r"^[0-9a-f]{16}$")
SLUG = re.compile(r"^[a-z0-9-]{1,63}$")  # an incident's or audience's name as a send id holds it
TEST_SEND_FIELDS = frozenset({"notis", "token", "incident", "audience", "email", "lang"})
LETTERS_POSTED_FIELDS = frozenset({"notis", "campaign", "send_id", "letters", "people", "posted_on"})
SEND_ID = re.compile(r"^[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}\.[a-z0-9-]{1,70}$")  # <incident>.<audience>.<kind>
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LETTERS = 10_000_000
TEST_SEND_LANGUAGES = ("sv", "en")
MAX_TEST_ADDRESS_CHARS = 320


class BadKey(ValueError):
    """An upload path that does not say which incident and audience it is for."""


def parse_key(key: str) -> tuple[str, str]:
    """(incident slug, audience) from `uploads/<incident>/<audience>/<file>`."""
    match = UPLOAD_KEY.match(key)
    if not match:
        raise BadKey(
            "The file must be uploaded as uploads/<incident>/<audience>/<file>.csv "
            "(for example with: notis upload FILE --incident SLUG --audience customers)."
        )
    return match["incident"], match["audience"]


def parse_message(body: str) -> list[Upload | StaffRequest]:
    """What one import-queue message asks: uploads (an S3 notification; none for S3's test event), or a staff
    request `{"notis": "approve" | "retry" | "resume" | "redrive", "campaign": "<campaign id>"}` or
    `{"notis": "followup-run", "campaign", "marker": "f-<id>" | "u-<id>"}`, or a test send
    `{"notis": "test-send", "token", "incident", "audience", "email", "lang"}`. Anything else: nothing."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError, RecursionError):
        return []
    if not isinstance(doc, dict):
        return []
    if doc.get("notis") == "test-send":
        test = _test_send(doc)
        return [test] if test else []
    if doc.get("notis") == "followup-run":
        campaign, marker = doc.get("campaign"), doc.get("marker")
        if set(doc) != {"notis", "campaign", "marker"} or not isinstance(campaign, str) or not isinstance(
                marker, str) or not CAMPAIGN_ID.match(campaign) or not MARKER.match(marker):
            return []
        return [FollowupRun(campaign, marker)]
    if doc.get("notis") == "letters-posted":
        posted = _letters_posted(doc)
        return [posted] if posted else []
    if "notis" in doc:
        kind, campaign = doc.get("notis"), doc.get("campaign")
        request = _STAFF_REQUESTS.get(kind) if isinstance(kind, str) else None
        if request is None or not isinstance(campaign, str) or not CAMPAIGN_ID.match(campaign) or len(doc) != 2:
            return []  # unknown, ambiguous (a notification too) or not a campaign id: nothing, never a guess
        return [request(campaign)]
    if doc.get("Event") == "s3:TestEvent":
        return []
    found: list[Upload | StaffRequest] = []
    for record in doc.get("Records") or []:
        upload = _upload(record)
        if upload:
            found.append(upload)
    return found


def _test_send(doc: dict[str, Any]) -> TestSend | None:
    """Exactly the test-send fields, each well formed; the address is checked by the importer (one address)."""
    if set(doc) != TEST_SEND_FIELDS or not all(isinstance(doc[f], str) for f in TEST_SEND_FIELDS):
        return None
    if not TEST_SEND_TOKEN.match(doc["token"]) or not SLUG.match(doc["incident"]) or not SLUG.match(doc["audience"]):
        return None
    if doc["lang"] not in TEST_SEND_LANGUAGES or not 0 < len(doc["email"]) <= MAX_TEST_ADDRESS_CHARS:
        return None
    return TestSend(doc["token"], doc["incident"], doc["audience"], doc["email"], doc["lang"])


def _letters_posted(doc: dict[str, Any]) -> LettersPosted | None:
    """Exactly the letters-posted fields, each well formed (numbers are counts, the rest plain names)."""
    if set(doc) != LETTERS_POSTED_FIELDS:
        return None
    campaign, send_id, on = doc["campaign"], doc["send_id"], doc["posted_on"]
    counts = [doc["letters"], doc["people"]]
    if not all(isinstance(v, str) for v in (campaign, send_id, on)) or not CAMPAIGN_ID.match(campaign):
        return None
    if not SEND_ID.match(send_id) or not DAY.match(on):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_LETTERS for n in counts):
        return None
    return LettersPosted(campaign, send_id, counts[0], counts[1], on)


def _upload(record: Any) -> Upload | None:
    if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return None
    s3 = record.get("s3") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    if not bucket or not obj.get("key"):
        return None
    return Upload(
        bucket=str(bucket),
        key=unquote_plus(str(obj["key"])),  # S3 notifications carry keys quote_plus-encoded
        version=str(obj.get("versionId") or ""),
        etag=str(obj.get("eTag") or ""),
        size=int(obj.get("size") or 0),
        principal=str((record.get("userIdentity") or {}).get("principalId") or "")[:512],
    )
