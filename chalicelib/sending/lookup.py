"""Every e-mail sent to one person, for support on the phone ("did you write to me, and when?").

A person is found by their recipient key, the keyed HMAC of the normalised address (as in the ledger), so nothing
new stores the address: the key comes from the address staff type, or from a reference code's record (the public
check writes it: chalicelib/verify/codes.py). Then one GetItem
per send id the deployment knows (the first notice of each campaign's incident and audience, and each follow-up or
update notice a campaign started, from the follow-up markers): no Scan of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from chalicelib.sending.ledger import SUPPRESS_PK, ledger_pk, ledger_sk
from chalicelib.sending.status import needs_letter
from chalicelib.verify.codes import LOCAL_TIME

_DE = TypeDeserializer()

OUTCOMES = {
    "claimed": "being sent right now",
    "sent": "accepted by SES (no delivery report yet)",
    "delivered": "delivered to the person's mail server",
    "bounced": "bounced: the mail server refused it",
    "complained": "delivered; the person marked it as spam",
    "failed": "not sent: refused",
    "suppressed": "not sent: this address bounced or complained earlier",
    "expired": "not sent: it was too late (past its deadline)",
}


@dataclass(frozen=True)
class Notice:
    """One e-mail to the person, in the words support needs."""

    incident: str
    audience: str
    kind: str  # first notice | follow-up | update notice | test
    name: str  # the follow-up's or update's id ("" for the first notice)
    send_id: str
    campaign: str
    state: str
    outcome: str
    claimed_at: str | None
    sent_at: str | None
    settled_at: str | None  # delivered, bounced or complained, when SES told us
    message_id: str
    reference: str
    letter_needed: bool
    letter_reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def known_send_ids(campaigns: Iterable[dict[str, Any]], markers: Iterable[dict[str, Any]]) -> list[str]:
    """Each send id once: every campaign's first notice, then every follow-up and update notice started."""
    from chalicelib.campaigns.importer import first_notice_send_id

    found: dict[str, None] = {}
    for campaign in campaigns:
        send_id = campaign.get("send_id") or (
            first_notice_send_id(str(campaign["incident"]), str(campaign["audience"]))
            if campaign.get("incident") and campaign.get("audience") else None)
        if send_id:
            found[str(send_id)] = None
    for marker in markers:
        if marker.get("send_id"):
            found[str(marker["send_id"])] = None
    return list(found)


def notices_for(client: Any, table: str, key: str, send_ids: Iterable[str]) -> list[Notice]:
    """Every ledger entry of this person among `send_ids`, oldest first."""
    found = []
    for send_id in send_ids:
        out = client.get_item(TableName=table, ConsistentRead=True,
                              Key={"pk": {"S": ledger_pk(send_id)}, "sk": {"S": ledger_sk(key)}})
        if "Item" in out:
            found.append(notice(send_id, {k: _DE.deserialize(v) for k, v in out["Item"].items()}))
    return sorted(found, key=lambda n: (n.sent_at or n.claimed_at or "", n.send_id))


def suppression(client: Any, table: str, key: str) -> str | None:
    """Why e-mail to this person is suppressed (bounce, complaint), else None."""
    found = client.get_item(TableName=table, Key={"pk": {"S": SUPPRESS_PK}, "sk": {"S": key}}).get("Item")
    return str(_DE.deserialize(found["reason"])) if found and "reason" in found else None


def notice(send_id: str, entry: dict[str, Any]) -> Notice:
    incident, audience, kind, name = describe_send(send_id)
    state = str(entry.get("state", ""))
    letter = needs_letter(entry)
    outcome = OUTCOMES.get(state, state or "unknown")
    if state == "bounced" and entry.get("bounce_type"):
        outcome += f" ({entry['bounce_type']})"
    if state == "failed" and entry.get("reason"):
        outcome += f" ({entry['reason']})"
    settled = entry.get("delivered_at") or entry.get("bounced_at") or entry.get("complained_at")
    return Notice(incident, audience, kind, name, send_id, str(entry.get("campaign", "")), state, outcome,
                  _when(entry.get("claimed_at")), _when(entry.get("sent_at")), _when(settled),
                  str(entry.get("message_id", "")), str(entry.get("reference", "")), bool(letter), letter or "")


def describe_send(send_id: str) -> tuple[str, str, str, str]:
    """(incident, audience, kind, name) of a send id `<incident>.<audience>.notice|f-<id>|u-<id>|test-<hex>`."""
    parts = send_id.split(".")
    if len(parts) == 3:
        incident, audience, last = parts
        if last.startswith("f-"):
            return incident, audience, "follow-up", last[2:]
        if last.startswith("u-"):
            return incident, audience, "update notice", last[2:]
        if last.startswith("test-"):
            return incident, audience, "test", last[5:]
        return incident, audience, "first notice", ""
    return "", "", "notice", send_id  # an older send id named after its campaign


def _when(value: Any) -> str | None:
    """Epoch seconds (the ledger's numbers) or an ISO string -> ISO 8601 in UTC, to the second."""
    from decimal import Decimal

    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float | Decimal):
        return datetime.fromtimestamp(float(value), UTC).isoformat(timespec="seconds")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")


# Said when an address finds nothing: the list may have held it missing or mistyped (`name(at)example.se`),
# which nobody can e-mail; that person was sent a letter, and the letter's code finds it.
NOT_FOUND_HINT = ("Someone whose address in the uploaded list was missing or not valid was not e-mailed and got a "
                  "letter instead: ask for the reference code printed on the letter and look it up with notis "
                  "lookup CODE.")


def lookup_text(who: str, notices: list[Notice], *, suppressed: str | None = None, hint: bool = False) -> str:
    """One screen in plain words: `who` is what staff typed (an address or a code), never anything stored;
    `hint`: an address was typed, so an empty answer says where else the person may be."""
    campaigns = len({n.campaign for n in notices})
    if not notices:
        lines = [f"{who}: no e-mail from us found."] + ([NOT_FOUND_HINT] if hint else [])
    else:
        lines = [f"{who}: {len(notices)} e-mail(s) from us" + (f", in {campaigns} campaigns" if campaigns > 1 else "")
                 + "."]
    for i, n in enumerate(notices, 1):
        what = n.kind.capitalize() + (f" {n.name}" if n.name else "")
        where = f"{n.incident} / {n.audience}" if n.incident else "campaign"
        lines += [
            "",
            f"{i}. {what}, {where}, campaign {n.campaign or '?'}",
            f"   Sent {_short(n.sent_at) or 'not sent'}: {n.outcome}"
            + (f" ({_short(n.settled_at)})" if n.settled_at else "") + ".",
            f"   Reference code {n.reference or '-'}. Letter needed: "
            + (f"yes, {n.letter_reason} (notis letters {n.campaign} --pdf FILE, then --mark-posted)."
               if n.letter_needed else "no."),
            f"   SES message id {n.message_id or '-'} (claimed {_short(n.claimed_at) or '-'})",
        ]
    if suppressed:
        lines += ["", f"No more e-mail goes to this person: {'a bounce' if suppressed == 'bounce' else 'a complaint'}"
                      " was recorded."]
    return "\n".join(lines) + "\n"


def _short(iso: str | None) -> str:
    """`2026-12-04 11:00 Swedish time`: what support reads out on the phone to a caller whose mail shows it so
    (the JSON keeps UTC)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M Swedish time")
