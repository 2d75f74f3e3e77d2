"""One e-mail through SES v2 SendEmail (raw MIME), with errors sorted by what the caller must do next.

- transient (throttling: v2 TooManyRequestsException / HTTP 429, v1 Throttling; 5xx; a connection that was
  never made): SES did not take the message, so it is retried here with exponential backoff and full jitter
  until the invocation's deadline;
- account-wide (account suspended, sending paused, MAIL FROM domain not verified, daily quota used up,
  configuration set missing, access denied, the SES sandbox): stop sending altogether, mark nobody failed;
- suspect (BadRequestException, MessageRejected, InvalidParameterValue, any refusal we do not know): SendEmail
  names no recipient-only error, and these same codes come back for a bad tag, a malformed sender or a
  refused configuration, which hit every recipient alike. So a suspect refusal fails nobody by itself: the
  worker holds the claim and decides per batch (worker.py: a few distinct recipients refused and none
  accepted is the campaign's fault and stops it; refusals beside accepted mail are about those people);
- unknown outcome (the request went out but no answer came back: read timeout, connection dropped): SES may
  have accepted it, so it is *not* retried here; the ledger's lease decides (see worker.py).

SES's error messages are never kept: they can quote the address. The plain words of `REASONS` are.
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
SUSPECT_CODES = frozenset({"MessageRejected", "InvalidParameterValue", "BadRequestException"})
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


SANDBOX = "MessageRejected: not verified"
# What staff read in `notis status` when sending stops: the cause in plain words, never SES's own message.
REASONS = {
    "AccountSuspendedException": "SES has suspended sending for this AWS account",
    "AccountSendingPausedException": "sending is paused for this AWS account in SES",
    "SendingPausedException": "sending is paused for this AWS account in SES",
    "ConfigurationSetSendingPausedException": "sending is paused for the SES configuration set",
    "MailFromDomainNotVerifiedException": "the MAIL FROM domain is not verified in SES",
    "MailFromDomainNotVerified": "the MAIL FROM domain is not verified in SES",
    "LimitExceededException": "the SES sending quota for the last 24 hours is used up",
    "NotFoundException": "SES does not know the configuration set the sender names",
    "ConfigurationSetDoesNotExist": "SES does not know the configuration set the sender names",
    "AccessDeniedException": "the sender function is not allowed to send with SES (IAM)",
    "AccessDenied": "the sender function is not allowed to send with SES (IAM)",
    SANDBOX: "SES refuses: the sender identity is not verified, or the account is still in the SES sandbox",
}


def plain_reason(code: str) -> str:
    """The stop reason staff read for an account-wide SES error code."""
    return REASONS.get(code, f"SES refused to send ({code})")


class SendError(Exception):
    """SES did not send; `kind` says what to do: transient, suspect, account or unknown."""

    def __init__(self, kind: str, code: str):
        super().__init__(f"{kind}: {code}")
        self.kind = kind
        self.code = code


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
            return SendError("account", SANDBOX)
        if code in SUSPECT_CODES:
            return SendError("suspect", code)
        if code in TRANSIENT_CODES or status >= 500:
            return SendError("transient", code or str(status))
        return SendError("suspect", code or str(status))  # an unknown refusal: never a person's failure alone
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return SendError("transient", type(exc).__name__)
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
        return SendError("unknown", type(exc).__name__)
    return SendError("unknown", type(exc).__name__)


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
    """The SendEmail arguments: raw content, tags that bring SES events back to the ledger entry.

    `sender` is the formatted From (mime.sender_address: RFC 2047 for a non-ASCII name, as SES requires) and
    `to` goes into Destination, which SES wants in 7-bit ASCII: an IDN domain is sent as punycode
    (recipients.email.ses_destination, as the import checked it); the To header says the same.
    """
    from chalicelib.recipients.email import ses_destination
    from chalicelib.sending.ids import tag_value

    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [ses_destination(to)]},
        "Content": {"Raw": {"Data": raw}},
        "EmailTags": [{"Name": "notis_send", "Value": tag_value(send_id)}, {"Name": "notis_key", "Value": key}],
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
