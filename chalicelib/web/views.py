"""The JSON shapes of the public API, built from the incident model for one language."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.content.markdown import to_plain
from chalicelib.content.model import COMPONENT_STATUSES, Component, Incident
from chalicelib.content.text import Text
from chalicelib.web.strings import STRINGS

STATUSPAGE_IMPACT = {"investigating": "major", "identified": "major", "monitoring": "minor", "resolved": "none"}
# A component's state as the page's indicator, as Statuspage rolls components up (maintenance alone is no incident).
COMPONENT_INDICATOR = {"operational": "none", "under_maintenance": "none", "degraded_performance": "minor",
                       "partial_outage": "major", "major_outage": "critical"}
INDICATORS = ("none", "minor", "major", "critical")
INDICATOR_TEXT = {
    "none": {"sv": "Inga pågående händelser", "en": "No ongoing incidents"},
    "minor": {"sv": "Pågående händelse, åtgärdad", "en": "Ongoing incident, fixed"},
    "major": {"sv": "Pågående händelse", "en": "Ongoing incident"},
    "critical": {"sv": "Pågående händelse, tjänst ur drift", "en": "Ongoing incident, service down"},
}
PAGE_ID = "notis"
MOST_RECENT = 50  # incidents.json lists the 50 most recent, as Statuspage does
# Which parts each public Statuspage v2 endpoint returns: one builder, so the shapes cannot drift apart.
STATUSPAGE_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "summary": ("page", "components", "incidents", "scheduled_maintenances", "status"),
    "status": ("page", "status"),
    "components": ("page", "components"),
    "incidents": ("page", "incidents"),
    "incidents/unresolved": ("page", "incidents"),
    "scheduled-maintenances": ("page", "scheduled_maintenances"),
    "scheduled-maintenances/upcoming": ("page", "scheduled_maintenances"),
    "scheduled-maintenances/active": ("page", "scheduled_maintenances"),
}


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
        "components": [component_detail(c, lang) for c in incident.components],
        "faq_url": f"{base_url}/api/incidents/{incident.slug}/faq?lang={lang}",
    }


def component_detail(component: Component, lang: str) -> dict[str, Any]:
    return {"id": component.id, "name": component.name.in_lang(lang), "status": component.status,
            "status_text": STRINGS[lang][f"component_{component.status}"]}


def faq(incident: Incident, lang: str) -> dict[str, Any]:
    return {
        "incident": incident.slug,
        "lang": lang,
        "updated_at": incident.updated_at.isoformat(),
        "faq": [
            {"id": e.id, "question": e.question.in_lang(lang), "answer": _t(e.answer, lang)} for e in incident.faq
        ],
    }


def statuspage(endpoint: str, incidents: list[Incident], lang: str, base_url: str, name: str) -> dict[str, Any]:
    """One of Atlassian Statuspage's public /api/v2/*.json documents, so existing status tooling can read notis.

    notis has no scheduled maintenance: those lists are always empty. `incidents` is newest first.
    """
    open_incidents = [i for i in incidents if i.is_open]
    listed = incidents[:MOST_RECENT] if endpoint == "incidents" else open_incidents
    components = page_components(incidents)
    updated = max((i.updated_at for i in incidents), default=None)
    parts = {
        "page": lambda: {
            "id": PAGE_ID,
            "name": name,
            "url": base_url or "",
            "time_zone": "Europe/Stockholm",
            "updated_at": updated.isoformat() if updated else None,
        },
        "status": lambda: _status(open_incidents, [c for c, _ in components], lang),
        "components": lambda: [_component(c, at, lang, n) for n, (c, at) in enumerate(components, start=1)],
        "incidents": lambda: [_statuspage_incident(i, lang) for i in listed],
        "scheduled_maintenances": lambda: [],
    }
    return {key: parts[key]() for key in STATUSPAGE_ENDPOINTS[endpoint]}


def page_components(incidents: list[Incident]) -> list[tuple[Component, Incident]]:
    """Each component once, in the order incidents name it, with its worst state among the open incidents.

    A resolved incident leaves nothing down: a component only resolved incidents name reads operational on the
    page as a whole (their own pages and entries keep the state as written, as history).
    """
    chosen: dict[str, tuple[Component, Incident]] = {}
    for incident in incidents:  # newest first
        for component in incident.components:
            if not incident.is_open:
                component = replace(component, status="operational")
            have = chosen.get(component.id)
            if have is None or _worse(component, incident, *have):
                chosen[component.id] = (component, incident)
    order = dict.fromkeys(c.id for i in reversed(incidents) for c in i.components)
    return [chosen[ident] for ident in order]


def _worse(component: Component, incident: Incident, have: Component, have_incident: Incident) -> bool:
    if incident.is_open != have_incident.is_open:
        return incident.is_open
    return COMPONENT_STATUSES.index(component.status) > COMPONENT_STATUSES.index(have.status)


def worst_indicator(open_incidents: list[Incident], components: list[Component]) -> str:
    found = [STATUSPAGE_IMPACT[i.status] for i in open_incidents]
    found += [COMPONENT_INDICATOR[c.status] for c in components]
    return max(found, key=INDICATORS.index, default="none")


def _status(open_incidents: list[Incident], components: list[Component], lang: str) -> dict[str, str]:
    worst = worst_indicator(open_incidents, components)
    return {"indicator": worst, "description": INDICATOR_TEXT[worst][lang]}


def _component(component: Component, incident: Incident, lang: str, position: int) -> dict[str, Any]:
    return {
        "id": component.id,
        "name": component.name.in_lang(lang),
        "status": component.status,
        "created_at": incident.discovered_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "position": position,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }


def _statuspage_incident(incident: Incident, lang: str) -> dict[str, Any]:
    def first_at(status: str) -> str | None:
        times = [u.at for u in incident.updates if u.status == status]
        return min(times).isoformat() if times else None

    return {
        "id": incident.slug,
        "name": incident.title.in_lang(lang),
        "status": incident.status,
        "created_at": incident.discovered_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "monitoring_at": first_at("monitoring"),
        "resolved_at": first_at("resolved"),
        "impact": STATUSPAGE_IMPACT[incident.status],
        "shortlink": incident.page_url,
        "started_at": incident.discovered_at.isoformat(),
        "page_id": PAGE_ID,
        "incident_updates": [
            {
                "id": f"{incident.slug}-{u.id}",
                "status": u.status,
                "body": _t(u.text, lang),
                "incident_id": incident.slug,
                "created_at": u.at.isoformat(),
                "updated_at": u.at.isoformat(),
                "display_at": u.at.isoformat(),
                # notis keeps the components' state per incident, not per update: see `components` below.
                "affected_components": None,
                "deliver_notifications": bool(u.notify),
            }
            for u in incident.updates_newest_first
        ],
        "components": [_component(c, incident, lang, n) for n, c in enumerate(incident.components, start=1)],
    }
