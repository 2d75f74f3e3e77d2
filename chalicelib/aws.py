"""AWS clients, created lazily in one place.

boto3 is imported here and nowhere on the public page path (cold start). Setting AWS_ENDPOINT_URL points
every client at a local emulator (moto server) without further plumbing.

SES clients make exactly one HTTP attempt per call: botocore's default retries re-POST SendEmail after a read
timeout or a dropped connection, which can mail a person up to three times and bypasses the rate limiter.
Every SES retry decision is chalicelib/sending/ses.py's (it retries only what SES certainly did not take).
"""

from __future__ import annotations

import functools
import os
from typing import Any

SES_SERVICES = frozenset({"ses", "sesv2"})
SES_READ_TIMEOUT = 10.0  # seconds; SES answers SendEmail in well under a second
SES_CONNECT_TIMEOUT = 5.0


def client_config(service: str) -> Any:
    """The botocore Config for a service's client, or None for botocore's defaults."""
    if service not in SES_SERVICES:
        return None
    from botocore.config import Config

    return Config(
        retries={"total_max_attempts": 1},
        read_timeout=SES_READ_TIMEOUT,
        connect_timeout=SES_CONNECT_TIMEOUT,
    )


@functools.cache
def client(service: str) -> Any:
    import boto3  # deferred: ~200 ms that the page handler must never pay

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-north-1"
    return boto3.session.Session().client(service, region_name=region, config=client_config(service))


def reset_clients() -> None:
    """Forget cached clients (tests start moto after import; a client made before moto is not mocked)."""
    client.cache_clear()
