"""One e-mail through SES v2 SendEmail (raw MIME), with errors sorted by what the caller must do next.

- transient (throttling: v2 TooManyRequestsException / HTTP 429, v1 Throttling; 5xx; a connection that was
  never made): SES did not take the message, so it is retried here with exponential backoff and full jitter
  until the invocation's deadline;
- permanent for this recipient (MessageRejected, an invalid address): never retried, the person gets a letter;
- account-wide (account suspended, sending paused, MAIL FROM domain not verified, daily quota used up,
  configuration set missing, access denied): stop sending altogether, mark nobody failed;
- unknown outcome (the request went out but no answer came back: read timeout, connection dropped): SES may
  have accepted it, so it is *not* retried here; the ledger's lease decides (see worker.py).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequests"}
)
TRANSIENT_CODES = THROTTLING_CODES | frozenset(
    {"InternalFailure", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"}
)
RECIPIENT_CODES = frozenset({"MessageRejected", "InvalidParameterValue", "BadRequestException"})
ACCOUNT_REJECTIONS = re.compile(r"not verified|sandbox", re.IGNORECASE)
ACCOUNT_CODES = frozenset(
    {
        "AccountSuspendedException",
        "AccountSendingPausedException",
        "SendingPausedException",
        "ConfigurationSetSendingPausedException",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "LimitExceededException",  # v2: the 24-hour quota is used up
        "NotFoundException",  # v2: e.g. the configuration set does not exist
        "ConfigurationSetDoesNotExist",
        "AccessDeniedException",
        "AccessDenied",
    }
)


class SendError(Exception):
    """SES did not send; `kind` says what to do: transient, recipient, account or unknown."""

    def __init__(self, kind: str, code: str, message: str = ""):
        super().__init__(f"{kind}: {code}")
        self.kind = kind
        self.code = code
        self.detail = message[:200]


def classify(exc: Exception) -> SendError:
    """Map a botocore exception to a SendError. Messages are kept short: SES may echo an address in them."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in THROTTLING_CODES or status == 429:
            return SendError("transient", code or "429")
        if code in ACCOUNT_CODES:
            return SendError("account", code)
        if code == "MessageRejected" and ACCOUNT_REJECTIONS.search(str(error.get("Message", ""))):
            # The SES sandbox ("Email address is not verified") or an unverified sender refuses every
            # recipient alike: stop, mark nobody failed, so the list still goes out once production access
            # is granted (otherwise everyone would be settled as a letter and never mailed).
            return SendError("account", "MessageRejected: not verified (SES sandbox or sender identity)")
        if code in RECIPIENT_CODES:
            return SendError("recipient", code, without_addresses(str(error.get("Message", ""))))
        if code in TRANSIENT_CODES or status >= 500:
            return SendError("transient", code or str(status))
        return SendError("account", code or str(status))  # an unknown refusal: stop rather than mark people
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return SendError("transient", type(exc).__name__)
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
        return SendError("unknown", type(exc).__name__)
    return SendError("unknown", type(exc).__name__)


def without_addresses(message: str) -> str:
    """SES error messages can contain the address; keep only words without '@'."""
    return " ".join(w for w in message.split() if "@" not in w)[:200]


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with full jitter (AWS Architecture Blog), bounded by a deadline."""

    base: float = 0.05
    cap: float = 2.0
    max_attempts: int = 8

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        return rand() * min(self.cap, self.base * (2**attempt))


def build_request(
    raw: bytes, *, sender: str, to: str, send_id: str, key: str, configuration_set: str = ""
) -> dict[str, Any]:
    """The SendEmail arguments: raw content, tags that bring SES events back to the ledger entry."""
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {"Raw": {"Data": raw}},
        "EmailTags": [{"Name": "notis_send", "Value": send_id}, {"Name": "notis_key", "Value": key}],
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return request


def send(
    client: Any,
    request: dict[str, Any],
    *,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    retry: Retry = Retry(),
    before_attempt: Callable[[], None] | None = None,
    on_throttle: Callable[[], None] | None = None,
) -> str:
    """Send once, retrying transient errors until the deadline; return the SES message id or raise SendError.

    `before_attempt` runs before every call (the rate limiter: a retry is a send too, as far as SES counts).
    """
    attempt = 0
    while True:
        if before_attempt is not None:
            before_attempt()
        try:
            return str(client.send_email(**request)["MessageId"])
        except Exception as exc:
            error = classify(exc)
            if error.kind != "transient":
                raise error from None
            if error.code in THROTTLING_CODES or error.code == "429":
                if on_throttle is not None:
                    on_throttle()
            attempt += 1
            pause = retry.delay(attempt)
            if attempt >= retry.max_attempts or clock() + pause > deadline:
                raise error from None
            sleep(pause)
