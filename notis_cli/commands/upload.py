"""`notis upload FILE --incident SLUG --audience NAME`: check a recipient file here, then upload it.

The same checks run again in the import handler; running them here first lets staff see rejected rows before
the file leaves their machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from notis_cli.commands._common import describe_target


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upload", help="check and upload a recipient file (CSV) for an incident and audience")
    p.add_argument("file", type=Path, help="the CSV exported from your system")
    p.add_argument("--incident", required=True, help="the incident's slug (see notis check-content)")
    p.add_argument("--audience", required=True, help="who the file lists, e.g. customers or schools")
    p.add_argument("--no-check", action="store_true", help="skip the local check (the import checks anyway)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.config import load_settings

    settings = load_settings()
    problem = _target_problem(args.incident, args.audience)
    if problem:
        print(f"notis: {problem}", file=sys.stderr)
        return 1
    if not args.file.is_file():
        print(f"notis: no such file: {args.file}", file=sys.stderr)
        return 1
    result = None
    if not args.no_check:
        result = _check(args.file, settings)
        if result is None:
            return 1
    describe_target()
    key = f"uploads/{args.incident}/{args.audience}/{_safe_name(args.file.name)}"
    digest = _sha256(args.file)
    same = _same_file(settings, key, digest)
    if same is not None and same.get("state") != "failed":
        print(f"notis: {args.file.name} is the same file as campaign {same['campaign']} "
              f"({_state_words(same, settings)}); nothing uploaded. Follow it with: notis status {same['campaign']}",
              file=sys.stderr)
        return 0
    if same is not None:
        print(f"the same file as campaign {same['campaign']}, whose import failed: uploading it again imports it again")
    if result is not None:
        _already_notified(settings, args.incident, args.audience, result)
    upload = _upload(args.file, settings.bucket, key, digest)
    print(f"uploaded: s3://{settings.bucket}/{key}")
    print(f"campaign: {upload.campaign_id}")
    print(f"follow it with: notis status {upload.campaign_id} --watch")
    return 0


def _target_problem(incident_slug: str, audience: str) -> str:
    from chalicelib.content.loader import ContentError, load_incidents
    from chalicelib.content.published import content_dir

    try:
        incidents = {i.slug: i for i in load_incidents(content_dir())}
    except ContentError as exc:
        return str(exc)
    incident = incidents.get(incident_slug)
    if incident is None:
        return f"there is no incident {incident_slug!r} (known: {', '.join(sorted(incidents))})"
    if incident.audience(audience) is None:
        names = ", ".join(a.name for a in incident.audiences) or "none"
        return f"incident {incident_slug!r} declares no audience {audience!r} (declared: {names})"
    return ""


def _check(path: Path, settings):
    """The import's own checks, here: the result (with recipient keys), or None when the file is unusable."""
    from chalicelib.recipients import UnusableFile, read_recipients

    try:
        with path.open("rb") as stream:
            result = read_recipients(stream, max_bytes=settings.max_upload_bytes, hmac_key=settings.hmac_key)
    except UnusableFile as exc:
        print(f"notis: {path.name} cannot be used: {exc.reason}", file=sys.stderr)
        return None
    from chalicelib.sending.status import rows_in_words

    print(f"checked {path.name}: " + rows_in_words(result.rows, result.deliverable, result.duplicates_merged,
                                                    result.letters_count, result.rejected_count,
                                                    result.warnings_count))
    if result.unreachable_count:
        print(f"  {result.unreachable_count} of the letters have no usable postal address: find them another way")
    for issue in sorted(result.rejected + result.warnings + result.unreachable, key=lambda i: i.line)[:10]:
        print(f"  line {issue.line}: {issue.reason}")
    share = result.rejected_count / result.rows if result.rows else 0.0
    if share > settings.hold_threshold:
        print(f"  {share:.0%} of rows are rejected: the campaign will be held until you run notis approve")
    return result


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _same_file(settings, key: str, digest: str) -> dict | None:
    """The campaign made from this very file under this key, if any, by the object's `sha256` metadata (written
    by notis upload; a file copied with another client is not recognised, and the import still mails nobody
    twice)."""
    from chalicelib import aws
    from chalicelib.campaigns.store import CampaignStore

    s3 = aws.client("s3")
    for campaign in reversed(CampaignStore(aws.client("dynamodb"), settings.table).list()):
        if campaign.get("key") != key:
            continue
        params = {"Bucket": str(campaign.get("bucket") or settings.bucket), "Key": key}
        if campaign.get("version"):
            params["VersionId"] = str(campaign["version"])
        try:
            head = s3.head_object(**params)
        except s3.exceptions.ClientError:  # gone (retention) or not readable: not provably the same file
            head = {}
        if head.get("Metadata", {}).get("sha256") == digest:
            return campaign
    return None


def _state_words(campaign: dict, settings) -> str:
    """Where that campaign stands, in the words of notis status."""
    from chalicelib import aws
    from chalicelib.sending.ledger import Ledger
    from chalicelib.sending.status import send_status

    cid, send_id = str(campaign["campaign"]), str(campaign.get("send_id") or "")
    ledger = Ledger(aws.client("dynamodb"), settings.table)
    entries = [e for e in ledger.entries(send_id) if e.get("campaign", cid) == cid] if send_id else []
    s = send_status(campaign, entries, now=0.0, configured_rate=0.0, earlier=ledger.seen(cid, send_id or cid))
    if s.done:
        return f"already done: all {s.recipients} recipient(s) settled, {s.sent} e-mailed"
    if s.progress in ("queued", "sending"):
        return f"already {s.progress}: {s.settled} of {s.recipients} settled"
    if s.progress == "held":
        return f"already uploaded and held until approved: check its report, then notis approve {cid}"
    if s.progress == "stopped":
        return f"already uploaded; sending stopped: {campaign.get('stop_reason', '?')}; then notis resume {cid}"
    return f"already uploaded, {s.progress}"


def _already_notified(settings, incident: str, audience: str, result) -> None:
    """Before anything leaves this machine: how many in the file are new and how many an earlier upload of the
    same incident and audience already settled (the ledger of the first notice, read by recipient key)."""
    import os

    from chalicelib import aws
    from chalicelib.campaigns.importer import first_notice_send_id
    from chalicelib.sending.ledger import Ledger
    from notis_cli.commands._common import on_local_stack

    if not (settings.hmac_key_secret or os.environ.get("NOTIS_HMAC_KEY") or on_local_stack()):
        print("  how many are new cannot be told here (the recipient key is not available to staff); "
              "the import counts them, and nobody already mailed is mailed twice")
        return
    settled = {str(e.get("key")) for e in Ledger(aws.client("dynamodb"), settings.table).entries(
        first_notice_send_id(incident, audience)) if e.get("state") not in ("claimed", "expired")}
    if not settled:
        return
    keys = set(result.recipients)
    old = len(keys & settled)
    print(f"  {len(keys) - old} new, {old} already notified (by an earlier upload for {incident} / {audience}; "
          "they are not mailed again)")


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-")
    return cleaned or "recipients.csv"


class _Progress:
    """A progress bar on stderr for large files (boto3 calls it from several threads)."""

    def __init__(self, total: int):
        self.total, self.done, self.lock = max(total, 1), 0, threading.Lock()

    def __call__(self, chunk: int) -> None:
        with self.lock:
            self.done += chunk
            share = self.done / self.total
            bar = "#" * int(share * 30)
            sys.stderr.write(f"\r  [{bar:<30}] {share:4.0%} {size(self.done)}/{size(self.total)}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def size(n: int) -> str:
    """Bytes in the unit that shows them: a 2 kB list is not "0.0/0.0 MB"."""
    if n < 1000:
        return f"{n} bytes"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1e6:.1f} MB"


def _upload(path: Path, bucket: str, key: str, digest: str):
    from chalicelib import aws
    from chalicelib.campaigns.uploads import Upload

    s3 = aws.client("s3")
    # No encryption header: the bucket's default (the stack's own KMS key) applies; "aws:kms" without a key
    # id would pick the account's aws/s3 key instead. The SHA-256 lets a later upload tell the same file again
    # (the ETag of a KMS-encrypted object is not the file's MD5).
    s3.upload_file(str(path), bucket, key, Callback=_Progress(os.path.getsize(path)),
                   ExtraArgs={"Metadata": {"sha256": digest}})
    head = s3.head_object(Bucket=bucket, Key=key)
    return Upload(bucket, key, version=head.get("VersionId") or "", etag=head.get("ETag", ""))
