"""S3 PutObject / CreateMultipartUpload / CopyObject: user metadata size and key length (moto checks neither)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notis_cli.contract import Rule, Violation, utf8_len

# S3 User Guide, Working with object metadata (User-defined object metadata): "the user-defined metadata is
# limited to 2 KB in size. The size of user-defined metadata is measured by taking the sum of the number of bytes
# in the UTF-8 encoding of each key and value." Error: MetadataTooLarge, 400 ("Your metadata headers exceed the
# maximum allowed metadata size", S3 API Reference, Error responses).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
MAX_METADATA_BYTES = 2 * 1024

# S3 User Guide, Naming Amazon S3 objects: "The object key name is a sequence of Unicode characters with UTF-8
# encoding of up to 1,024 bytes long." Error: KeyTooLongError, 400 ("Your key is too long").
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
MAX_KEY_BYTES = 1024


def metadata_size(metadata: Mapping[str, Any]) -> int:
    return sum(utf8_len(k) + utf8_len(v) for k, v in metadata.items())


def _object(_client: Any, params: Mapping[str, Any]) -> Violation | None:
    key = params.get("Key")
    if isinstance(key, str) and utf8_len(key) > MAX_KEY_BYTES:
        return Violation("KeyTooLongError", f"Your key is too long ({utf8_len(key)} bytes; at most {MAX_KEY_BYTES})")
    metadata = params.get("Metadata")
    if isinstance(metadata, Mapping):
        size = metadata_size(metadata)
        if size > MAX_METADATA_BYTES:
            return Violation("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size "
                             f"({size} bytes; at most {MAX_METADATA_BYTES})")
    return None


RULES: dict[str, Rule] = {
    "PutObject": _object,
    "CreateMultipartUpload": _object,
    "CopyObject": _object,
}
