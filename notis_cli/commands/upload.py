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
    if not args.no_check and not _check(args.file, settings):
        return 1
    describe_target()
    key = f"uploads/{args.incident}/{args.audience}/{_safe_name(args.file.name)}"
    upload = _upload(args.file, settings.bucket, key)
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


def _check(path: Path, settings) -> bool:
    from chalicelib.recipients import UnusableFile, read_recipients

    try:
        with path.open("rb") as stream:
            result = read_recipients(stream, max_bytes=settings.max_upload_bytes, hmac_key=settings.hmac_key)
    except UnusableFile as exc:
        print(f"notis: {path.name} cannot be used: {exc.reason}", file=sys.stderr)
        return False
    print(f"checked {path.name}: {result.rows} rows, {result.deliverable} e-mails to send, "
          f"{result.duplicates_merged} duplicates merged, {result.rejected_count} rejected, "
          f"{result.letters_count} need a letter, {result.warnings_count} warnings")
    for issue in sorted(result.rejected + result.warnings, key=lambda i: i.line)[:10]:
        print(f"  line {issue.line}: {issue.reason}")
    share = result.rejected_count / result.rows if result.rows else 0.0
    if share > settings.hold_threshold:
        print(f"  {share:.0%} of rows are rejected: the campaign will be held until you run notis approve")
    return True


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
            sys.stderr.write(f"\r  [{bar:<30}] {share:4.0%} {self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _upload(path: Path, bucket: str, key: str):
    from chalicelib import aws
    from chalicelib.campaigns.uploads import Upload

    s3 = aws.client("s3")
    # No encryption header: the bucket's default (the stack's own KMS key) applies; "aws:kms" without a key
    # id would pick the account's aws/s3 key instead.
    s3.upload_file(str(path), bucket, key, Callback=_Progress(os.path.getsize(path)))
    head = s3.head_object(Bucket=bucket, Key=key)
    return Upload(bucket, key, version=head.get("VersionId") or "", etag=head.get("ETag", ""))
