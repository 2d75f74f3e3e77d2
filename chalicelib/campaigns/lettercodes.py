"""Each household's letter for one send, across every campaign of the incident and audience: its code and when
it was posted, so that no household gets the same letter twice and a reprint carries the same code.

A corrected or repeated upload is a new campaign with the same send id (`<incident>.<audience>.notice`, or a
follow-up's or update notice's); e-mail is kept single by the ledger's `send#<send-id>` partition, letters by
this index: pk `letters#<send-id>`, sk `h#<household key>`, with
- `code`, `campaign` (the campaign whose `notis letters --pdf` drew it): the code printed in the household's
  letter, recorded like an e-mail's (`code#<CODE>`, chalicelib/verify/codes.py), so every later PDF of this send,
  whichever campaign makes it, prints the same code;
- `posted_on` (YYYY-MM-DD), `posted_with` (the campaign whose `--mark-posted` recorded it), `posted_people` (how
  many the letter named), `posted_at`: the household's letter was posted; a later run leaves it out unless more
  people there now need it;
- `expires_at`: the code record's (the incident's retention), or the retention from the posting day.
The household key is the keyed HMAC of the postal address as the letters group it (lines compared without case
and spacing): a pseudonym, like a recipient key, never the address. Written by UpdateItem with conditions (the
staff role's grant on `letters#*` keys), so two runs at once end with one code and one posting.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PARTITION = "letters#"
PREFIX = "h#"


def household_key(address_lines: Iterable[str], hmac_key: bytes) -> str:
    """The household's pseudonym: HMAC-SHA256 of its address lines, case and spacing ignored."""
    text = "\n".join(" ".join(line.split()).casefold() for line in address_lines)
    return hmac.digest(hmac_key, f"letter-household\n{text}".encode(), "sha256").hex()


def _key(send_id: str, household: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"{PARTITION}{send_id}"}, "sk": {"S": f"{PREFIX}{household}"}}


@dataclass(frozen=True)
class HouseholdLetter:
    """What the index knows of one household's letter for one send."""

    household: str
    code: str = ""
    campaign: str = ""
    posted_on: str = ""
    posted_with: str = ""
    posted_people: int = 0

    @property
    def posted(self) -> bool:
        return bool(self.posted_on)

    def posted_elsewhere(self, campaign: str, people: int) -> bool:
        """Posted with another campaign, to at least `people` people: that campaign's letter told this
        household, and this campaign must not post it again."""
        return self.posted and self.posted_with != campaign and self.posted_people >= people


def _letter(item: dict[str, Any]) -> HouseholdLetter:
    return HouseholdLetter(
        household=item["sk"]["S"].removeprefix(PREFIX),
        code=item.get("code", {}).get("S", ""),
        campaign=item.get("campaign", {}).get("S", ""),
        posted_on=item.get("posted_on", {}).get("S", ""),
        posted_with=item.get("posted_with", {}).get("S", ""),
        posted_people=int(item.get("posted_people", {}).get("N", "0")),
    )


class LetterCodes:
    """Read and write the index (injected DynamoDB client)."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def of_send(self, send_id: str, *, now: float) -> dict[str, HouseholdLetter]:
        """household key -> its letter, for every live item of this send (one Query, paged)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"{PARTITION}{send_id}"}, ":prefix": {"S": PREFIX}},
        }
        found: dict[str, HouseholdLetter] = {}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                if float(item.get("expires_at", {}).get("N", "0")) > now:  # TTL deletes lazily
                    letter = _letter(item)
                    found[letter.household] = letter
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(self, send_id: str, household: str, code: str, *, campaign: str, expires_at: int, now: float) -> str:
        """Name `code` as this household's letter code unless a live one is named already; the code in force.

        A failed condition is ConditionalCheckFailedException (DynamoDB API Reference, UpdateItem); the item is
        then read back (ReturnValuesOnConditionCheckFailure) and its code kept.
        """
        try:
            self.client.update_item(
                TableName=self.table, Key=_key(send_id, household),
                UpdateExpression="SET code = :code, expires_at = :exp, campaign = :c",
                ConditionExpression="attribute_not_exists(code) OR expires_at <= :now",
                ExpressionAttributeValues={":code": {"S": code}, ":exp": {"N": str(int(expires_at))},
                                           ":c": {"S": campaign}, ":now": {"N": str(int(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            item = getattr(exc, "response", {}).get("Item") or self.client.get_item(
                TableName=self.table, Key=_key(send_id, household), ConsistentRead=True).get("Item", {})
            return str(item["code"]["S"])
        return code

    def mark_posted(self, send_id: str, household: str, *, campaign: str, people: int, on: str, at: str,
                    expires_at: int) -> bool:
        """Record that this household's letter was posted on `on`, naming `people` people; True if recorded.

        Only once per household, unless this letter names more people than the posted one did (someone there
        was added or bounced since): a second `--mark-posted`, or one running at the same time, records nothing.
        """
        try:
            self.client.update_item(
                TableName=self.table, Key=_key(send_id, household),
                UpdateExpression="SET posted_on = :on, posted_with = :c, posted_people = :n, posted_at = :at, "
                                 "expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(posted_on) OR posted_people < :n",
                ExpressionAttributeValues={":on": {"S": on}, ":c": {"S": campaign}, ":n": {"N": str(people)},
                                           ":at": {"S": at}, ":exp": {"N": str(int(expires_at))}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
