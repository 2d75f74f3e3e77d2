"""What is allowed but probably a mistake: shown by `notis check-content` and `notis preview-mail`, not blocking."""

from __future__ import annotations

from urllib.parse import urlsplit

from chalicelib.content.model import Incident
from chalicelib.content.text import Text


def content_warnings(incident: Incident) -> list[str]:
    return _missing_english(incident) + _dates_before_discovery(incident) + _page_of_another_incident(incident)


def _texts(incident: Incident) -> list[tuple[str, Text]]:
    found = [("title", incident.title), ("summary", incident.summary), ("what_happened", incident.what_happened),
             ("consequences", incident.consequences), ("measures", incident.measures), ("advice", incident.advice)]
    found += [(f"data_categories[{i}]", c) for i, c in enumerate(incident.data_categories)]
    found += [(f"updates[{u.id}].text", u.text) for u in incident.updates]
    for entry in incident.faq:
        found += [(f"faq[{entry.id}].question", entry.question), (f"faq[{entry.id}].answer", entry.answer)]
    return [(path, text) for path, text in found if text]


def _missing_english(incident: Incident) -> list[str]:
    """Once an incident is partly in English, every gap shows Swedish to English readers (page and e-mail)."""
    texts = _texts(incident)
    if not any(text.has("en") for _, text in texts):
        return []
    return [f"{incident.slug}: {path}: no English text (`en:`); English readers get the Swedish text here"
            for path, text in texts if not text.has("en")]


def _dates_before_discovery(incident: Incident) -> list[str]:
    start = incident.discovered_at.date()
    found = [(f"updates[{u.id}].at", u.at) for u in incident.updates]
    if incident.authority_report and incident.authority_report.reported_at:
        found.append(("authority_report.reported_at", incident.authority_report.reported_at))
    return [f"{incident.slug}: {path}: {moment.date()} is before discovered_at ({start}); a date left from a copy?"
            for path, moment in found if moment.date() < start]


def _page_of_another_incident(incident: Incident) -> list[str]:
    """A copied incident keeps the old page address: every e-mail would send its readers to the old incident."""
    last = urlsplit(incident.page_url).path.rstrip("/").rsplit("/", 1)[-1]
    if not incident.page_url or last == incident.slug:
        return []
    return [f"{incident.slug}: page_url: {incident.page_url} does not end in this incident's slug "
            f"({incident.slug}); e-mails would send readers to another page (an address left from a copy?)"]
