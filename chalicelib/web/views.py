"""The JSON shapes of the public API, built from the incident model for one language."""

from __future__ import annotations

from typing import Any

from chalicelib.content.markdown import to_plain
from chalicelib.content.model import Incident
from chalicelib.content.text import Text

STATUSPAGE_IMPACT = {"investigating": "major", "identified": "major", "monitoring": "minor", "resolved": "none"}


def _t(text: Text, lang: str) -> str:
    return to_plain(text.in_lang(lang))


def incident_summary(incident: Incident, lang: str, base_url: str) -> dict[str, Any]:
    return {
        "slug": incident.slug,
        "title": incident.title.in_lang(lang),
        "status": incident.status,
        "discovered_at": incident.discovered_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "url": incident.page_url,
        "api_url": f"{base_url}/api/incidents/{incident.slug}",
    }


def incident_detail(incident: Incident, lang: str, base_url: str) -> dict[str, Any]:
    contact = incident.organisation.contact
    report = incident.authority_report
    translated = all(
        t.has(lang) for t in (incident.title, incident.what_happened, incident.consequences, incident.measures,
                              incident.advice)
    )
    return {
        **incident_summary(incident, lang, base_url),
        "lang": lang,
        "fully_translated": translated,
        "summary": _t(incident.summary, lang),
        "organisation": {
            "name": incident.organisation.name,
            "contact": {
                "email": contact.email,
                "dpo_email": contact.dpo_email,
                "phone": contact.phone,
                "hours": contact.hours.in_lang(lang),
                "support_url": contact.support_url,
            },
        },
        "data_categories": [c.in_lang(lang) for c in incident.data_categories],
        "what_happened": _t(incident.what_happened, lang),
        "consequences": _t(incident.consequences, lang),
        "measures": _t(incident.measures, lang),
        "advice": _t(incident.advice, lang),
        "authority_report": None if report is None else {
            "authority": report.authority,
            "reported_at": report.reported_at.isoformat() if report.reported_at else None,
            "reference": report.reference,
            "police_report": report.police_report.in_lang(lang),
        },
        "updates": [
            {"id": u.id, "at": u.at.isoformat(), "status": u.status, "text": _t(u.text, lang)}
            for u in incident.updates_newest_first
        ],
        "faq_url": f"{base_url}/api/incidents/{incident.slug}/faq?lang={lang}",
    }


def faq(incident: Incident, lang: str) -> dict[str, Any]:
    return {
        "incident": incident.slug,
        "lang": lang,
        "updated_at": incident.updated_at.isoformat(),
        "faq": [
            {"id": e.id, "question": e.question.in_lang(lang), "answer": _t(e.answer, lang)} for e in incident.faq
        ],
    }


def statuspage_summary(incidents: list[Incident], lang: str, base_url: str, name: str) -> dict[str, Any]:
    """Atlassian Statuspage's public /api/v2/summary.json shape, so existing status tooling can read notis."""
    open_incidents = [i for i in incidents if i.is_open]
    worst = max((STATUSPAGE_IMPACT[i.status] for i in open_incidents), key=_impact_rank, default="none")
    descriptions = {
        "none": {"sv": "Inga pågående händelser", "en": "No ongoing incidents"},
        "minor": {"sv": "Pågående händelse, åtgärdad", "en": "Ongoing incident, fixed"},
        "major": {"sv": "Pågående händelse", "en": "Ongoing incident"},
    }
    updated = max((i.updated_at for i in incidents), default=None)
    return {
        "page": {
            "id": "notis",
            "name": name,
            "url": base_url or "",
            "time_zone": "Europe/Stockholm",
            "updated_at": updated.isoformat() if updated else None,
        },
        "status": {"indicator": worst, "description": descriptions[worst][lang]},
        "components": [],
        "incidents": [_statuspage_incident(i, lang) for i in open_incidents],
        "scheduled_maintenances": [],
    }


def _impact_rank(impact: str) -> int:
    return ["none", "minor", "major", "critical"].index(impact)


def _statuspage_incident(incident: Incident, lang: str) -> dict[str, Any]:
    def first_at(status: str) -> str | None:
        times = [u.at for u in incident.updates if u.status == status]
        return min(times).isoformat() if times else None

    return {
        "id": incident.slug,
        "name": incident.title.in_lang(lang),
        "status": incident.status,
        "impact": STATUSPAGE_IMPACT[incident.status],
        "created_at": incident.discovered_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "started_at": incident.discovered_at.isoformat(),
        "monitoring_at": first_at("monitoring"),
        "resolved_at": first_at("resolved"),
        "shortlink": incident.page_url,
        "page_id": "notis",
        "components": [],
        "incident_updates": [
            {
                "id": f"{incident.slug}-{u.id}",
                "incident_id": incident.slug,
                "status": u.status,
                "body": _t(u.text, lang),
                "created_at": u.at.isoformat(),
                "updated_at": u.at.isoformat(),
                "display_at": u.at.isoformat(),
            }
            for u in incident.updates_newest_first
        ],
    }
