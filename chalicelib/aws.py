"""AWS clients, created lazily in one place.

boto3 is imported here and nowhere on the public page path (cold start). Setting AWS_ENDPOINT_URL points
every client at a local emulator (moto server) without further plumbing.
"""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import boto3  # deferred: ~200 ms that the page handler must never pay

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-north-1"
    return boto3.session.Session().client(service, region_name=region)


def reset_clients() -> None:
    """Forget cached clients (tests start moto after import; a client made before moto is not mocked)."""
    client.cache_clear()
