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


StaffRequest = Approval | Retry | Resume
_STAFF_REQUESTS: dict[str, type[Approval] | type[Retry] | type[Resume]] = {
    "approve": Approval, "retry": Retry, "resume": Resume,
}
CAMPAIGN_ID = re.compile(r"^c[0-9a-f]{20}$")


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
    request `{"notis": "approve" | "retry" | "resume", "campaign": "<campaign id>"}`. Anything else: nothing."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError, RecursionError):
        return []
    if not isinstance(doc, dict):
        return []
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
    )
