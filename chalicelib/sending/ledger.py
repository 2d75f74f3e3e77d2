"""The per-recipient send ledger in DynamoDB: claim before SES, mark after, every step a conditional write.

Item layout (docs/internals.md): pk `send#<send-id>`, sk `r#<recipient-key>`, state one of claimed, sent,
failed, delivered, bounced, complained, suppressed, expired (a late follow-up: not sent, claimable again).
A claim is a conditional update that succeeds only when nobody holds the entry (no item, an expired one, or a
claim whose lease has run out); the claimer's random `owner` token makes its later mark-sent/mark-failed/release
apply only if the claim is still its own. Counters on the campaign
item are added only after a state change that happened, so a redelivered event or a retried mark never counts
twice (a crash between the two writes can leave a counter short: the ledger is the truth).

The sender keeps its counts in memory (`batch_counters=True`) and adds them once per invocation and campaign
(`flush_counters`): one write per batch instead of one per e-mail. Exactly what is counted: each conditional
state change that succeeded, once, by the invocation that made it; a redelivered message finds its recipients
settled and counts nothing. The flush is a one-item TransactWriteItems with a ClientRequestToken, so a retry
of a flush whose answer was lost is not applied twice (DynamoDB API Reference, TransactWriteItems:
"multiple identical calls have the same effect as one single call"). A crash before the flush leaves the
counters short by that invocation's counts, never over; `notis status` and `notis evidence` count the ledger.
Only pseudonymous keys are stored here: never an address or a name.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"
DELIVERED, BOUNCED, COMPLAINED, SUPPRESSED = "delivered", "bounced", "complained", "suppressed"
EXPIRED = "expired"  # the send message came after its not_after: nobody was mailed; a later send may claim it
FINAL = frozenset({SENT, FAILED, DELIVERED, BOUNCED, COMPLAINED, SUPPRESSED})
SUPPRESS_PK = "suppress"

log = logging.getLogger("notis.sending")


def ledger_pk(send_id: str) -> str:
    return f"send#{send_id}"


def ledger_sk(key: str) -> str:
    return f"r#{key}"


LEGACY_SEND_ID = re.compile(r"^c[0-9a-f]{20}(\.|$)")


def campaign_of(send_id: str) -> str:
    """The campaign id a legacy send id (`<campaign>` or `<campaign>.<suffix>`) names."""
    return send_id.split(".", 1)[0]


def counters_key(send_id: str, campaign: str | None = None) -> dict[str, str]:
    """Where a send's counters live for one campaign: its record for the first notice, a sibling item otherwise.

    A send id names "the same mail" across campaigns (docs/internals.md), so the campaign comes from the send
    message (or the ledger entry) and not from the send id.
    """
    campaign = campaign or campaign_of(send_id)
    first_notice = send_id == campaign or send_id.endswith(".notice")
    return {"pk": f"campaign#{campaign}", "sk": "meta" if first_notice else f"send#{send_id}"}


def seen_sk(send_id: str, key: str) -> str:
    """The sort key of a campaign's marker for a recipient an earlier campaign settled."""
    return f"seen#{send_id}#{key}"


def seen_counter(state: str) -> str:
    """The counter a `seen#` marker moves: what the later campaign reports for that recipient."""
    return state if state in (SUPPRESSED, EXPIRED) else "already_notified"


def new_owner() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Claim:
    """Result of a claim: `ok` when this caller now holds the entry; else the state found (or `held`)."""

    ok: bool
    state: str
    reference: str = ""
    attempts: int = 0
    campaign: str = ""  # the campaign that holds or settled the entry


class Ledger:
    """DynamoDB operations on ledger, suppression and counter items of one table (a low-level client)."""

    def __init__(self, client: Any, table: str, *, batch_counters: bool = False):
        self.client = client
        self.table = table
        # (send id, campaign) -> counts of state changes made but not yet added (batch_counters only)
        self._pending: dict[tuple[str, str], Counter[str]] | None = {} if batch_counters else None
        self._pending_lock = threading.Lock()

    # -- claiming and marking (the sender) -------------------------------------------------------------

    def claim(
        self,
        send_id: str,
        key: str,
        *,
        owner: str,
        now: float,
        lease: float,
        reference: str,
        expires_at: int,
        campaign: str = "",
    ) -> Claim:
        """Take the entry if free, expired, or if a previous claim's lease ran out; keep an earlier reference."""
        try:
            out = self.client.update_item(
                TableName=self.table,
                Key=_key(send_id, key),
                UpdateExpression=(
                    "SET #s = :claimed, lease_until = :lease, #o = :owner, claimed_at = :now,"
                    " #r = if_not_exists(#r, :ref), expires_at = :exp, campaign = :campaign ADD attempts :one"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#s = :claimed AND lease_until < :now) OR #s = :expired"
                ),
                ExpressionAttributeNames={"#s": "state", "#o": "owner", "#r": "reference"},
                ExpressionAttributeValues={
                    ":claimed": {"S": CLAIMED},
                    ":expired": {"S": EXPIRED},
                    ":lease": {"N": _num(now + lease)},
                    ":owner": {"S": owner},
                    ":now": {"N": _num(now)},
                    ":ref": {"S": reference},
                    ":exp": {"N": str(int(expires_at))},
                    ":campaign": {"S": campaign or campaign_of(send_id)},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            item = self.get(send_id, key) or {}
            state = item.get("state", "")
            return Claim(False, "held" if state == CLAIMED else state, campaign=str(item.get("campaign", "")))
        item = _plain(out["Attributes"])
        return Claim(True, CLAIMED, item.get("reference", reference), int(item.get("attempts", 1)))

    def mark_sent(
        self, send_id: str, key: str, *, owner: str, message_id: str, now: float, campaign: str = ""
    ) -> bool:
        """claimed (by us) -> sent, and count it. False when an SES event or another claimer got there first."""
        return self._transition(
            send_id,
            key,
            "SET #s = :to, message_id = :mid, sent_at = :now REMOVE lease_until",
            "#s = :claimed AND #o = :owner",
            {":to": SENT, ":mid": message_id, ":now": now, ":claimed": CLAIMED, ":owner": owner},
            {"sent": 1},
            campaign=campaign,
        )

    def mark_failed(
        self, send_id: str, key: str, *, owner: str, reason: str, now: float, campaign: str = ""
    ) -> bool:
        """claimed (by us) -> failed with the reason; the recipient joins the letter list."""
        return self._transition(
            send_id,
            key,
            "SET #s = :to, reason = :reason, failed_at = :now REMOVE lease_until",
            "#s = :claimed AND #o = :owner",
            {":to": FAILED, ":reason": reason, ":now": now, ":claimed": CLAIMED, ":owner": owner},
            {"failed": 1, "mail_letters": 1},
            campaign=campaign,
        )

    def release(self, send_id: str, key: str, *, owner: str, forget_reference: bool = False) -> None:
        """Give a claim back when SES certainly did not send (an error reply, or we never called it).

        `forget_reference`: the next claim draws a new code (this one belongs to someone else's message)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(send_id, key),
                UpdateExpression="SET lease_until = :zero" + (" REMOVE #r" if forget_reference else ""),
                ConditionExpression="#s = :claimed AND #o = :owner",
                # `reference` is a DynamoDB reserved word; a name the expressions do not use is refused.
                ExpressionAttributeNames={"#s": "state", "#o": "owner"}
                | ({"#r": "reference"} if forget_reference else {}),
                ExpressionAttributeValues={":zero": {"N": "0"}, ":claimed": {"S": CLAIMED}, ":owner": {"S": owner}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass  # no longer ours: nothing to give back

    def mark_suppressed(
        self, send_id: str, key: str, *, reason: str, now: float, expires_at: int, campaign: str = ""
    ) -> bool:
        """A suppressed address gets no mail: record it once. Bounced or complained, the person still must be
        told (a breach notice is a legal duty, not marketing): the notice goes by letter."""
        counters = {"suppressed": 1} | ({"mail_letters": 1} if reason in ("bounce", "complaint") else {})
        return self._settle_unsent(send_id, key, SUPPRESSED, {"reason": reason}, now=now, expires_at=expires_at,
                                   campaign=campaign, counters=counters)

    def mark_expired(
        self, send_id: str, key: str, *, not_after: float, now: float, expires_at: int, campaign: str = ""
    ) -> bool:
        """A late message's recipient is not mailed: record it once (no letter: the notice was only a follow-up)."""
        details = {"reason": "not sent: the message came after its not-after time", "not_after": float(not_after)}
        return self._settle_unsent(send_id, key, EXPIRED, details, now=now, expires_at=expires_at,
                                   campaign=campaign, counters={"expired": 1})

    def _settle_unsent(
        self,
        send_id: str,
        key: str,
        state: str,
        details: dict[str, Any],
        *,
        now: float,
        expires_at: int,
        campaign: str,
        counters: dict[str, int],
    ) -> bool:
        """Record a recipient who gets no mail in `state`, once: only where nobody holds a live claim."""
        item = {"pk": ledger_pk(send_id), "sk": ledger_sk(key), "state": state, **details, "at": now,
                "expires_at": int(expires_at), "campaign": campaign or campaign_of(send_id)}
        return self._transaction(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _attrs(item),
                    "ConditionExpression": "attribute_not_exists(pk) OR (#s = :claimed AND lease_until < :now)",
                    "ExpressionAttributeNames": {"#s": "state"},
                    "ExpressionAttributeValues": _attrs({":claimed": CLAIMED, ":now": now}),
                }
            },
            send_id,
            counters,
            campaign=campaign,
        )

    def count_already_notified(
        self,
        send_id: str,
        key: str,
        *,
        campaign: str,
        state: str = "",
        by: str = "",
        now: float = 0.0,
        expires_at: int = 0,
    ) -> bool:
        """A later campaign met someone an earlier campaign `by` already settled: count it once for `campaign`.

        The `seen#<send-id>#<key>` marker on the campaign is the record (the staff view counts these); it
        expires with the incident's retention like the ledger entry. Someone the earlier campaign found
        suppressed (or whose message came too late) is counted as `suppressed` (`expired`) here too, everyone
        else as `already_notified`.
        """
        values: dict[str, Any] = {"pk": f"campaign#{campaign}", "sk": seen_sk(send_id, key), "at": now}
        values |= {"state": state} if state else {}
        values |= {"by": by} if by else {}
        values |= {"expires_at": int(expires_at)} if expires_at else {}
        try:
            self.client.put_item(
                TableName=self.table, Item=_attrs(values), ConditionExpression="attribute_not_exists(pk)"
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False  # a redelivery of the same message: already counted
        self._count(send_id, {seen_counter(state): 1}, campaign)
        return True

    def seen(self, campaign: str, send_id: str) -> list[dict[str, Any]]:
        """The campaign's `seen#` markers for one send: recipients an earlier campaign settled."""
        prefix = seen_sk(send_id, "")
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"campaign#{campaign}"}, ":prefix": {"S": prefix}},
        }
        found: list[dict[str, Any]] = []
        while True:
            out = self.client.query(**kwargs)
            for item in out.get("Items", []):
                plain = _plain(item)
                plain["key"] = plain["sk"][len(prefix) :]
                found.append(plain)
            if "LastEvaluatedKey" not in out:
                return found
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    # -- SES events --------------------------------------------------------------------------------------

    def event_transition(
        self, send_id: str, key: str, *, to: str, allowed_from: dict[str, dict[str, int]], sets: dict[str, Any]
    ) -> bool:
        """Move an entry to `to` if it is in one of `allowed_from` (state -> counters to add); idempotent."""
        for _ in range(4):
            item = self.get(send_id, key)
            if item is None:
                return False
            current = item.get("state", "")
            if current not in allowed_from:
                return False
            names = {f"#a{i}": name for i, name in enumerate(sets)}
            values: dict[str, Any] = {f":a{i}": value for i, value in enumerate(sets.values())}
            assigns = ", ".join(f"#a{i} = :a{i}" for i in range(len(sets)))
            update = "SET #s = :to" + (f", {assigns}" if assigns else "")
            if current == CLAIMED:
                update += " REMOVE lease_until"
            if self._transition(
                send_id,
                key,
                update,
                "#s = :from",
                {":to": to, ":from": current, **values},
                allowed_from[current],
                names,
                campaign=str(item.get("campaign", "")),
            ):
                return True
        return False

    def annotate(self, send_id: str, key: str, sets: dict[str, Any]) -> None:
        """Record a detail (e.g. a delivery delay) on an existing entry without changing its state."""
        names = {f"#a{i}": name for i, name in enumerate(sets)}
        values = {f":a{i}": value for i, value in enumerate(sets.values())}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(send_id, key),
                UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_attrs(values),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    # -- suppression ---------------------------------------------------------------------------------------

    def suppress(self, key: str, *, reason: str, now: float) -> None:
        """Never mail this address again (first reason wins; a complaint after a bounce changes nothing)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_attrs({"pk": SUPPRESS_PK, "sk": key, "reason": reason, "at": now}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass

    def suppressed(self, keys: Sequence[str]) -> dict[str, str]:
        """Which of these recipient keys are suppressed, with the reason (BatchGetItem, 100 at a time)."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):
            request = {
                self.table: {
                    "Keys": [{"pk": {"S": SUPPRESS_PK}, "sk": {"S": k}} for k in unique[start : start + 100]],
                    "ProjectionExpression": "sk, reason",
                }
            }
            while request:
                out = self.client.batch_get_item(RequestItems=request)
                for item in out.get("Responses", {}).get(self.table, []):
                    plain = _plain(item)
                    found[plain["sk"]] = plain.get("reason", "")
                request = out.get("UnprocessedKeys") or {}
        return found

    # -- reading -------------------------------------------------------------------------------------------

    def get(self, send_id: str, key: str) -> dict[str, Any] | None:
        out = self.client.get_item(TableName=self.table, Key=_key(send_id, key), ConsistentRead=True)
        return _plain(out["Item"]) if "Item" in out else None

    def entries(self, send_id: str) -> Iterator[dict[str, Any]]:
        """Every ledger entry of a send, as plain dicts with `key` (the recipient key) added."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": ledger_pk(send_id)}},
        }
        while True:
            out = self.client.query(**kwargs)
            for item in out.get("Items", []):
                plain = _plain(item)
                plain["key"] = plain["sk"][2:]
                yield plain
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def counters(self, send_id: str, campaign: str | None = None) -> dict[str, Any]:
        out = self.client.get_item(
            TableName=self.table, Key=_attrs(counters_key(send_id, campaign)), ConsistentRead=True
        )
        return _plain(out["Item"]) if "Item" in out else {}

    # -- internals -----------------------------------------------------------------------------------------

    def _transition(
        self,
        send_id: str,
        key: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        counters: dict[str, int],
        names: dict[str, str] | None = None,
        *,
        campaign: str = "",
    ) -> bool:
        return self._transaction(
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(send_id, key),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#s": "state", "#o": "owner", **(names or {})},
                    "ExpressionAttributeValues": _attrs(values),
                }
            },
            send_id,
            counters,
            campaign=campaign,
        )

    def _transaction(
        self, first: dict[str, Any], send_id: str, counters: dict[str, int], *, campaign: str = ""
    ) -> bool:
        """The conditional state change, then (only if it happened) the counter ADD; False if the condition failed.

        Not one TransactWriteItems on purpose: the ledger entry is the truth and the counters are a progress
        view, so a crash between the two writes can leave a counter one short, never one over; `notis status`
        and `notis evidence` recount from the ledger. (A transaction would double the write cost per e-mail.)
        """
        kind, op = next(iter(first.items()))
        # DynamoDB rejects names that the expressions do not use.
        used = op.get("UpdateExpression", "") + " " + op.get("ConditionExpression", "")
        op["ExpressionAttributeNames"] = {k: v for k, v in op.get("ExpressionAttributeNames", {}).items() if k in used}
        if not op["ExpressionAttributeNames"]:
            del op["ExpressionAttributeNames"]
        try:
            if kind == "Update":
                self.client.update_item(**op)
            else:
                self.client.put_item(**op)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        self._count(send_id, counters, campaign)
        return True

    def _count(self, send_id: str, counters: dict[str, int], campaign: str) -> None:
        """Add now, or (batch_counters) keep until flush_counters."""
        if not counters:
            return
        if self._pending is None:
            self.add_counters(send_id, counters, campaign=campaign)
            return
        with self._pending_lock:
            self._pending.setdefault((send_id, campaign), Counter()).update(counters)

    def flush_counters(self) -> None:
        """Add the kept counts: one idempotent write per send and campaign. A failure is logged, not raised:
        the state changes are recorded in the ledger already, and only the progress view stays short."""
        if not self._pending:
            return
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for (send_id, campaign), counts in pending.items():
            counts = +counts  # drop zeros
            if not counts or (not campaign and not LEGACY_SEND_ID.match(send_id)):
                continue
            try:
                self.client.transact_write_items(
                    TransactItems=[{"Update": {"TableName": self.table, **self._add_expression(send_id, counts,
                                                                                               campaign)}}],
                    ClientRequestToken=uuid.uuid4().hex,  # botocore's retries reuse it: applied once
                )
            except Exception as exc:
                log.error("counters not added; the ledger stays the truth",
                          extra={"send_id": send_id, "error": type(exc).__name__})

    def add_counters(self, send_id: str, counters: dict[str, int], *, campaign: str = "") -> None:
        if not campaign and not LEGACY_SEND_ID.match(send_id):
            return  # an entry that names no campaign: the ledger itself stays the truth
        self.client.update_item(TableName=self.table, **self._add_expression(send_id, counters, campaign))

    @staticmethod
    def _add_expression(send_id: str, counters: dict[str, int], campaign: str) -> dict[str, Any]:
        return {
            "Key": _attrs(counters_key(send_id, campaign)),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters))),
            "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(counters)},
            "ExpressionAttributeValues": {f":c{i}": {"N": str(n)} for i, n in enumerate(counters.values())},
        }


def _key(send_id: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": ledger_pk(send_id)}, "sk": {"S": ledger_sk(key)}}


def _num(value: float) -> str:
    return f"{value:.3f}"


def _attrs(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> DynamoDB attribute values (strings, numbers, booleans)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            out[name] = {"BOOL": value}
        elif isinstance(value, int):
            out[name] = {"N": str(value)}
        elif isinstance(value, float):
            out[name] = {"N": _num(value)}
        else:
            out[name] = {"S": str(value)}
    return out


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain values (numbers as int when whole, else float)."""
    out: dict[str, Any] = {}
    for name, typed in item.items():
        ((kind, value),) = typed.items()
        if kind == "N":
            number = float(value)
            out[name] = int(number) if number.is_integer() else number
        elif kind == "BOOL":
            out[name] = bool(value)
        elif kind == "M":
            out[name] = _plain(value)
        elif kind == "L":
            out[name] = [_plain({"v": v})["v"] for v in value]
        else:
            out[name] = value
    return out
