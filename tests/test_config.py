"""Settings: the HMAC key is read from Secrets Manager on first use only, by the functions that hash addresses."""

from __future__ import annotations

import pytest

from chalicelib import config
from chalicelib.config import DEV_HMAC_KEY, Settings, load_settings


def test_loading_settings_reads_no_secret_and_the_key_is_read_once_on_first_use(aws, monkeypatch):
    from chalicelib.aws import client

    arn = client("secretsmanager").create_secret(Name="notis/lazy", SecretString="lazy-key")["ARN"]
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", arn)
    reads: list[str] = []
    original = config._secret_key.__wrapped__

    @config.functools.cache
    def counting(secret: str) -> bytes:
        reads.append(secret)
        return original(secret)

    monkeypatch.setattr(config, "_secret_key", counting)
    settings = load_settings()
    assert reads == [] and settings.hmac_key_secret == arn  # the sender, the events handler: never fetched
    assert settings.hmac_key == b"lazy-key" and settings.hmac_key == b"lazy-key"
    assert load_settings().hmac_key == b"lazy-key"
    assert reads == [arn]  # one read per process


def test_an_unreadable_secret_fails_the_caller_not_the_start(aws, monkeypatch):
    from chalicelib.aws import client

    monkeypatch.setenv("NOTIS_HMAC_KEY", "ignored-when-a-secret-is-set")
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", "arn:aws:secretsmanager:eu-north-1:123456789012:secret:missing")
    settings = load_settings()  # the function starts: only the code that hashes needs the key
    with pytest.raises(client("secretsmanager").exceptions.ResourceNotFoundException):
        assert settings.hmac_key is None  # never reached: no silent fall-back to the development key


def test_without_a_secret_the_environment_key_or_the_development_key_is_used(monkeypatch):
    monkeypatch.delenv("NOTIS_HMAC_KEY_SECRET", raising=False)
    monkeypatch.delenv("NOTIS_HMAC_KEY", raising=False)
    assert load_settings().hmac_key == DEV_HMAC_KEY.encode() == Settings().hmac_key
    monkeypatch.setenv("NOTIS_HMAC_KEY", "local")
    assert load_settings().hmac_key == b"local"
