"""Settings read from the environment, in one place, so handlers and the CLI agree on names and defaults."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

DEV_HMAC_KEY = "notis-local-development-key-not-secret"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@functools.cache
def _secret_key(secret: str) -> bytes:
    """One Secrets Manager read per process and secret: the key does not change while campaigns run."""
    from chalicelib.aws import client  # boto3 only where the key is needed (never the page handler)

    return client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"].encode()


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    region: str = "eu-north-1"
    bucket: str = "notis-uploads"
    table: str = "notis"
    import_queue: str = "notis-import"
    import_dlq: str = "notis-import-dlq"
    send_queue: str = "notis-send"
    send_dlq: str = "notis-send-dlq"
    # The recipient-pseudonym key: NOTIS_HMAC_KEY_SECRET (a Secrets Manager ARN, set by the deployment only on
    # the functions that hash addresses) wins over NOTIS_HMAC_KEY. Read on first use of `hmac_key`, not at
    # import: the other functions never fetch the secret and need no permission to.
    hmac_key_secret: str = ""
    local_hmac_key: bytes = DEV_HMAC_KEY.encode()
    sender: str = "Notis <notis@example.org>"
    reply_to: str = ""
    configuration_set: str = ""
    max_send_rate: float = 14.0
    send_concurrency: int = 2
    hold_threshold: float = 0.10
    # 200 MB is about 1.7 million rows of a Swedish shop export: the import (1 GB, 300 s) reads, checks and
    # queues that with room to spare (bench/README.md, "Import"); raise both together for larger lists.
    max_upload_bytes: int = 200 * 1024 * 1024
    staff_email: str = ""
    events_dlq: str = "notis-events-dlq"
    events_failed_queue: str = "notis-events-failed"

    @property
    def hmac_key(self) -> bytes:
        """The key, from the secret when one is configured; a failure to read it fails the caller, never falls
        back to the development key."""
        return _secret_key(self.hmac_key_secret) if self.hmac_key_secret else self.local_hmac_key


def load_settings() -> Settings:
    """Build settings from the environment; the defaults are the local development stack's."""
    return Settings(
        stage=_env("NOTIS_STAGE", "dev"),
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-north-1")),
        bucket=_env("NOTIS_BUCKET", "notis-uploads"),
        table=_env("NOTIS_TABLE", "notis"),
        import_queue=_env("NOTIS_IMPORT_QUEUE", "notis-import"),
        import_dlq=_env("NOTIS_IMPORT_DLQ", "notis-import-dlq"),
        send_queue=_env("NOTIS_SEND_QUEUE", "notis-send"),
        send_dlq=_env("NOTIS_SEND_DLQ", "notis-send-dlq"),
        hmac_key_secret=_env("NOTIS_HMAC_KEY_SECRET", ""),
        local_hmac_key=_env("NOTIS_HMAC_KEY", DEV_HMAC_KEY).encode(),
        sender=_env("NOTIS_SENDER", "Notis <notis@example.org>"),
        reply_to=_env("NOTIS_REPLY_TO", ""),
        configuration_set=_env("NOTIS_SES_CONFIGURATION_SET", ""),
        max_send_rate=_float("SES_MAX_SEND_RATE", 14.0),
        send_concurrency=max(1, int(_float("NOTIS_SEND_CONCURRENCY", 2))),
        hold_threshold=_float("NOTIS_HOLD_THRESHOLD", 0.10),
        max_upload_bytes=int(_float("NOTIS_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)),
        staff_email=_env("NOTIS_STAFF_EMAIL", ""),
        events_dlq=_env("NOTIS_EVENTS_DLQ", "notis-events-dlq"),
        events_failed_queue=_env("NOTIS_EVENTS_FAILED_QUEUE", "notis-events-failed"),
    )
