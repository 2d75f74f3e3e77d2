"""SES clients make one HTTP attempt per call: botocore's retries would re-POST SendEmail after a read timeout
(a second or third copy of the notice, outside the rate limiter). Retry decisions are chalicelib/sending/ses.py's."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib import aws as aws_clients
from chalicelib.sending.ses import classify


@pytest.mark.parametrize("service", ["sesv2", "ses"])
def test_ses_clients_never_retry_and_time_out_soon(aws: dict[str, Any], service: str) -> None:
    config = aws_clients.client(service).meta.config
    assert config.retries["total_max_attempts"] == 1
    assert config.read_timeout <= 15 and config.connect_timeout <= 10


def test_other_clients_keep_botocore_retries(aws: dict[str, Any]) -> None:
    """DynamoDB and SQS calls are idempotent here (conditional writes, at-least-once queues): retries help."""
    assert "total_max_attempts" not in (aws_clients.client("dynamodb").meta.config.retries or {})


@pytest.fixture
def silent_server() -> Iterator[dict[str, Any]]:
    """A local HTTP endpoint that reads requests and never answers; it counts the POSTs it was sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    seen: dict[str, Any] = {"posts": 0, "port": server.getsockname()[1], "conns": []}
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen["conns"].append(conn)
            conn.settimeout(0.1)
            data = b""
            while not stop.is_set() and b"\r\n\r\n" not in data:
                try:
                    data += conn.recv(65536)
                except OSError:
                    continue
            if data.startswith(b"POST "):
                seen["posts"] += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield seen
    stop.set()
    thread.join(timeout=5)
    for conn in seen["conns"]:
        conn.close()
    server.close()


def test_a_read_timeout_posts_sendemail_exactly_once(
    silent_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "5"}.items():
        monkeypatch.setenv(name, value)  # AWS_MAX_ATTEMPTS: an environment asking for retries must not win
    from botocore.config import Config

    config = aws_clients.client_config("sesv2").merge(Config(read_timeout=0.3, connect_timeout=1))
    ses = boto3.session.Session().client(
        "sesv2", region_name="eu-north-1", endpoint_url=f"http://127.0.0.1:{silent_server['port']}", config=config
    )
    with pytest.raises(ReadTimeoutError) as caught:
        ses.send_email(
            FromEmailAddress="notis@example.org",
            Destination={"ToAddresses": ["anna@example.se"]},
            Content={"Raw": {"Data": b"Subject: x\r\n\r\nx"}},
        )
    assert silent_server["posts"] == 1
    assert classify(caught.value).kind == "unknown"  # the worker keeps the claim: no retry in the invocation
