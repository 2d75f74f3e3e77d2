"""The Atom 1.0 feed of every incident's updates (RFC 4287), newest first."""

from __future__ import annotations

from markupsafe import escape as _markup_escape

from chalicelib.content.markdown import to_html
from chalicelib.content.model import Incident
from chalicelib.web.strings import STRINGS, format_date


def escape(value: str) -> str:
    """XML text escaping (xml.sax.saxutils would pull urllib into the page's cold start)."""
    return str(_markup_escape(value))


def quoteattr(value: str) -> str:
    return f'"{escape(value)}"'


def render_feed(incidents: list[Incident], lang: str, base_url: str, title: str) -> str:
    entries = sorted(
        ((incident, update) for incident in incidents for update in incident.updates),
        key=lambda pair: pair[1].at,
        reverse=True,
    )
    updated = entries[0][1].at.isoformat() if entries else "1970-01-01T00:00:00+00:00"
    feed_url = f"{base_url}/feed.atom?lang={lang}"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">',
        f"<title>{escape(title)}</title>",
        f"<id>{escape(feed_url)}</id>",
        f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(feed_url)}/>",
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(base_url + '/?lang=' + lang)}/>",
        f"<updated>{updated}</updated>",
        f"<author><name>{escape(title)}</name></author>",
    ]
    for incident, update in entries:
        page = f"{incident.page_url}?lang={lang}"
        status = STRINGS[lang][f"status_{update.status}"]
        text, used = update.text.resolve(lang)
        parts += [
            "<entry>",
            f"<title>{escape(incident.title.in_lang(lang))}: {escape(status)} ({format_date(update.at, lang)})</title>",
            f"<id>{escape(incident.page_url)}#update-{escape(update.id)}</id>",
            f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(page + '#update-' + update.id)}/>",
            f"<updated>{update.at.isoformat()}</updated>",
            f"<author><name>{escape(incident.organisation.name)}</name></author>",
            f'<content type="html" xml:lang="{used}">{escape(str(to_html(text)))}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"
