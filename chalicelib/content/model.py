"""The incident model: what a breach notice holds, as plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.content.text import Text

STATUSES = ("investigating", "identified", "monitoring", "resolved")
# Atlassian Statuspage's component statuses, best to worst but for maintenance, so status clients read them as is.
COMPONENT_STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone: str = ""
    hours: Text = Text(())  # noqa: RUF009 (immutable)
    support_url: str = ""
    dpo_email: str = ""


@dataclass(frozen=True)
class Organisation:
    name: str
    contact: Contact
    website: str = ""


@dataclass(frozen=True)
class AuthorityReport:
    authority: str
    reported_at: datetime | None
    reference: str = ""
    police_report: Text = Text(())  # noqa: RUF009 (immutable)


@dataclass(frozen=True)
class Update:
    id: str
    at: datetime
    status: str
    text: Text
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: Text
    answer: Text


@dataclass(frozen=True)
class Component:
    """A part of the service the incident touches (the web shop, customer accounts), shown with its state."""

    id: str
    name: Text
    status: str


@dataclass(frozen=True)
class Audience:
    name: str
    description: Text


@dataclass(frozen=True)
class FollowUp:
    id: str
    audience: str
    template: str
    at: datetime | None = None
    after_first_send_hours: float | None = None
    only_undelivered: bool = False
    not_after_hours: float = 24.0


@dataclass(frozen=True)
class Incident:
    slug: str
    title: Text
    summary: Text
    organisation: Organisation
    discovered_at: datetime
    status: str
    page_url: str
    data_categories: tuple[Text, ...]
    what_happened: Text
    consequences: Text
    measures: Text
    advice: Text
    authority_report: AuthorityReport | None
    updates: tuple[Update, ...]
    faq: tuple[FaqEntry, ...]
    audiences: tuple[Audience, ...]
    followups: tuple[FollowUp, ...] = ()
    components: tuple[Component, ...] = ()
    retention_days: int = 90
    source: str = field(default="", compare=False)

    @property
    def updated_at(self) -> datetime:
        """When the page last changed: the newest update, else discovery."""
        return max((u.at for u in self.updates), default=self.discovered_at)

    @property
    def updates_newest_first(self) -> tuple[Update, ...]:
        return tuple(sorted(self.updates, key=lambda u: u.at, reverse=True))

    @property
    def verify_url(self) -> str:
        """Where a reader checks a reference code: the page's site root + /verify, written out in every e-mail."""
        root = self.page_url.split("/incidents/")[0] if "/incidents/" in self.page_url else self.page_url
        return root.rstrip("/") + "/verify"

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def audience(self, name: str) -> Audience | None:
        return next((a for a in self.audiences if a.name == name), None)
