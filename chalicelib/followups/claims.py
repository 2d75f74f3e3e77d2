"""Stale claims: ledger entries left `claimed` with an expired lease and no SES message id. Counted, not re-sent.

Why the scheduled handler does not send them back through the send queue itself:

- Such an entry only exists while the send-queue message that carried the recipient is not finished: either
  SQS is about to deliver it again (the worker returned it as a batch item failure, or the function died and
  the visibility timeout runs out), and the next claim takes the expired lease over and sends; or the message
  used up its receives and sits in the send dead-letter queue. Either way the message, with the address, still
  exists: nothing needs to re-read the uploaded file.
- Re-queuing from here would bypass what the dead-letter queue is for. A message that cannot be sent (a render
  bug, bad content) releases its claim, so it would look stale again and be re-queued every five minutes,
  forever, instead of waiting for a fix and `notis redrive`.
- It would also race the message still on its way back (the ledger keeps the e-mail single, but for nothing).

What can still lose someone is the dead-letter queue's retention (14 days) running out before anyone redrives.
So the daily digest reports the dead-letter depth and these counts per send, every day, until they are zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.sending.ledger import CLAIMED, ledger_pk


def count_stale(client: Any, table: str, send_ids: Iterable[str], now: float) -> dict[str, int]:
    """Per send id, how many entries are claimed, lease expired, without a message id (only non-zero ones)."""
    found: dict[str, int] = {}
    for send_id in dict.fromkeys(send_ids):
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "#s = :claimed AND lease_until < :now AND attribute_not_exists(message_id)",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": {
                ":pk": {"S": ledger_pk(send_id)}, ":claimed": {"S": CLAIMED}, ":now": {"N": f"{now:.3f}"},
            },
            "Select": "COUNT",
        }
        total = 0
        while True:
            out = client.query(**kwargs)
            total += int(out.get("Count", 0))
            if "LastEvaluatedKey" not in out:
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        if total:
            found[send_id] = total
    return found
