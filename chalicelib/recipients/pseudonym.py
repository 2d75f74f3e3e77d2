"""The recipient key: the pseudonym under which the ledger, logs and suppression list know an address."""

from __future__ import annotations

import hmac


def recipient_key(email: str, hmac_key: bytes) -> str:
    """Hex HMAC-SHA256 of the trimmed, lower-cased address. Pass the normalised address (Recipient.email)."""
    return hmac.digest(hmac_key, email.strip().lower().encode("utf-8"), "sha256").hex()
