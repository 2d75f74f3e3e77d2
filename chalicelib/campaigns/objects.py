"""Open exactly the uploaded object a campaign was made from, even after the key was uploaded to again."""

from __future__ import annotations

from typing import Any


class UploadGone(LookupError):
    """The campaign's version of the file no longer exists (expired, purged or deleted)."""


def open_upload(s3: Any, bucket: str, key: str, *, version: str = "", etag: str = "") -> Any:
    """The object's streaming body: by version id when known, else the current object if its ETag still
    matches, else the older version with that ETag (S3 notifications name no version in moto, and a
    notification from an unversioned bucket never does)."""
    if version:
        return _get(s3, Bucket=bucket, Key=key, VersionId=version)
    if not etag:
        return _get(s3, Bucket=bucket, Key=key)
    try:
        return s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"]
    except s3.exceptions.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("PreconditionFailed", "NoSuchKey", "412", "404"):
            raise
    wanted = etag.strip('"')
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key)
    for page in pages:
        for found in page.get("Versions", []):
            if found["Key"] == key and found.get("ETag", "").strip('"') == wanted:
                return _get(s3, Bucket=bucket, Key=key, VersionId=found["VersionId"])
    raise UploadGone(f"the uploaded file {key} with ETag {wanted} no longer exists")


def _get(s3: Any, **kwargs: Any) -> Any:
    try:
        return s3.get_object(**kwargs)["Body"]
    except s3.exceptions.ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "NoSuchVersion", "404"):
            raise UploadGone(f"the uploaded file {kwargs['Key']} no longer exists") from None
        raise
