"""Compose one notification e-mail (subject, plain text, HTML) from the incident and a Jinja2 template.

Each template under `templates/mail/<template>/<audience>.<lang>.j2` is written once and rendered twice:
into `layout.html.j2` by an autoescaping environment and into `layout.txt.j2` by a plain one. Format-aware
helpers (`md`, `heading`, `bullets`, `link`, the `paras` filter) are globals that differ per environment,
so the Art. 34 sections (`_art34.j2`, `_footer.j2`) are written once for both parts.

The environments are built once per process and never reload templates: the sender composes thousands
of messages a minute, so a call costs a dictionary lookup and two renders, not a parse.
"""

from __future__ import annotations

import functools
import re
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup, escape
from markupsafe import escape as markup_escape

from chalicelib.content.markdown import to_html, to_plain
from chalicelib.content.model import Incident, Update
from chalicelib.content.text import DEFAULT_LANGUAGE, LANGUAGES, Text
from chalicelib.mail.strings import STRINGS, format_date, join_names

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
GENERIC_AUDIENCE = "default"
FIRST_NOTICE = "notice"  # the template of a campaign's first e-mail
MAX_NAME_CHARS = 100
MAX_NAMES = 6  # more people than this at one address (a shared office mailbox): greet them all with "Hej,"
TEXT_WIDTH = 76
# A space between two digits joins the groups of a phone number ("114 14", "010-123 45 67") or of a large number:
# a line must never break there (e-mail text here, letters in notis_cli.letters), or a reader dials half a number.
DIGITS_APART = re.compile(r"(?<=\d) (?=\d)")
_GLUE = "\ue000"  # a private-use character
_AFTER_HEADING = re.compile(r"(\n-{3,}\n)\n+")  # a heading's underline is followed by its text directly
# Bidirectional overrides let a hostile name display text in a different order than it is written.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


class MailError(ValueError):
    """The e-mail cannot be composed (unknown template, missing update); says which and why."""


@dataclass(frozen=True)
class MailSpec:
    """Which e-mail: `notice`, `update` (with `update_id`) or a follow-up template name, for an audience."""

    template: str
    audience: str
    update_id: str | None = None


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    lang: str


T = TypeVar("T")
WHO, REF = "\x00notis-who\x00", "\x00notis-ref\x00"  # stand-ins, filled in per recipient
_RENDERED: dict[tuple, tuple[Incident, Composed]] = {}


def compose(incident: Incident, spec: MailSpec, *, names: list[str], lang: str, reference: str) -> Composed:
    """Render the e-mail for the person or people `names` at one address, in `lang` (sv if unknown).

    The templates are rendered once per incident, template, audience and language with stand-ins for the
    greeting's names and the reference code, which are filled in (escaped for HTML) per recipient: the
    sender composes thousands of these a minute and Jinja2 is most of that cost.
    """
    who, shape = greeting_and_shape(_RENDERED, _render, incident, spec, names=names, lang=lang)

    def fill(text: str, escape_html: bool) -> str:
        value = str(markup_escape(who)) if escape_html else who
        return text.replace(WHO, value).replace(REF, str(markup_escape(reference)) if escape_html else reference)

    return Composed(
        subject=_one_line(fill(shape.subject, False)),
        text=_tidy_text(fill(shape.text, False)),
        html=_tidy_html(fill(shape.html, True)),
        lang=shape.lang,
    )


def greeting_and_shape(cache: dict[tuple, tuple[Incident, T]], build: Callable[[Incident, MailSpec, str, str], T],
                         incident: Incident, spec: MailSpec, *, names: list[str], lang: str) -> tuple[str, T]:
    """The names to greet, and `build`'s rendering for this incident, spec, language and greeting shape.

    The rendering carries stand-ins (`WHO`, `REF`) for the names and the code, so it is made once and cached.
    """
    lang = normalise_lang(lang)
    people = clean_names(names)
    who = join_names(people, lang) if len(people) <= MAX_NAMES else ""
    key = (id(incident), spec, lang, bool(who))
    cached = cache.get(key)
    if cached is None or cached[0] is not incident:
        if len(cache) > 256:
            cache.clear()
        cached = cache[key] = (incident, build(incident, spec, lang, WHO if who else ""))
    return who, cached[1]


def _render(incident: Incident, spec: MailSpec, lang: str, who: str) -> Composed:
    """The e-mail with stand-ins for names and reference; text and HTML not yet tidied."""
    for value, what in ((spec.template, "template"), (spec.audience, "audience")):
        if not NAME_RE.match(value or ""):
            raise MailError(f"{what} name {value!r} must be lowercase letters, digits and dashes")
    name = _template_name(spec.template, spec.audience, lang)
    lang = name.removesuffix(".j2").rsplit(".", 1)[1]  # a template only in Swedish makes a Swedish e-mail
    html_env, text_env = _environments()
    update = _update(incident, spec)
    title = incident.title.in_lang(lang)
    context: dict[str, Any] = {
        "lang": lang,
        "t": STRINGS[lang],
        "incident": incident,
        "org": incident.organisation,
        "title": title,
        "who": who,
        "reference": REF,
        "update": update,
        "latest": latest_update(incident) if spec.template == FIRST_NOTICE else None,
    }
    text_template = text_env.get_template(name)
    subject = _one_line("".join(text_template.blocks["subject"](text_template.new_context(context))))
    if not subject:
        raise MailError(f"template {name} gives an empty subject")
    context["subject"] = subject
    text = text_template.render(context, layout="layout.txt.j2")
    html = html_env.get_template(name).render(context, layout="layout.html.j2")
    return Composed(subject=subject, text=text, html=html, lang=lang)


def template_problems(incident: Incident) -> list[str]:
    """What would stop an e-mail of this incident from being composed, in words staff understand.

    For `notis check-content` and the import: a follow-up naming a template that does not exist should
    fail when the content is checked, not hours later when the follow-up is due.
    """
    wanted = [("notice", a.name) for a in incident.audiences]
    wanted += [(f.template, f.audience) for f in incident.followups]
    wanted += [("update", a) for u in incident.updates for a in u.notify]
    problems: list[str] = []
    for template, audience in dict.fromkeys(wanted):
        for lang in LANGUAGES:
            try:
                compose(
                    incident, MailSpec(template, audience, _any_update(incident)), names=[], lang=lang, reference=""
                )
            except (MailError, jinja2.TemplateError) as exc:
                problems.append(f"e-mail {template!r} for {audience!r} in {lang}: {exc}")
                break
    return problems


def _any_update(incident: Incident) -> str | None:
    return incident.updates[0].id if incident.updates else None


def normalise_lang(lang: str | None) -> str:
    """`en`, `EN`, `en-GB` -> `en`; anything unknown or empty -> Swedish, so nobody goes without a mail."""
    base = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def clean_names(names: list[str]) -> list[str]:
    """Names as shown in the greeting: one line each, no control or bidi characters, bounded, deduplicated."""
    result: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in str(raw))
        name = " ".join(name.translate(_BIDI).split())
        if len(name) > MAX_NAME_CHARS:
            name = name[: MAX_NAME_CHARS - 1].rstrip() + "…"
        if name and name.casefold() not in seen:  # the same person entered twice, once in capitals
            seen.add(name.casefold())
            result.append(name)
    return result


def latest_update(incident: Incident) -> Update | None:
    """The newest update on the timeline: the first notice carries it, so someone who first hears of the breach
    from that notice reads what the page says now, and is sent no separate notice for an update made before."""
    return max(incident.updates, key=lambda u: u.at, default=None)


def _update(incident: Incident, spec: MailSpec) -> Update | None:
    if spec.template != "update":
        return None
    if not spec.update_id:
        raise MailError("an update e-mail needs the update id")
    found = next((u for u in incident.updates if u.id == spec.update_id), None)
    if found is None:
        raise MailError(f"incident {incident.slug!r} has no update {spec.update_id!r}")
    return found


@functools.lru_cache(maxsize=512)
def _template_name(template: str, audience: str, lang: str) -> str:
    """The most specific template there is: audience in `lang`, generic in `lang`, then the Swedish ones."""
    html_env, _ = _environments()
    candidates = [f"{template}/{audience}.{lang}.j2", f"{template}/{GENERIC_AUDIENCE}.{lang}.j2"]
    if lang != DEFAULT_LANGUAGE:
        candidates += [f"{template}/{audience}.{DEFAULT_LANGUAGE}.j2", f"{template}/{GENERIC_AUDIENCE}.sv.j2"]
    for candidate in candidates:
        try:
            html_env.get_template(candidate)
        except jinja2.TemplateNotFound:
            continue
        return candidate
    raise MailError(f"no e-mail template {template!r} (looked for {', '.join(candidates)} in {TEMPLATE_DIR})")


def _one_line(value: str) -> str:
    return " ".join(value.split())


# ---- format-aware helpers: the same template calls them, each environment supplies its own ----


def _resolve(context: Any, text: Text) -> tuple[str, str]:
    return text.resolve(context["lang"])


# The same incident texts go into every e-mail of a campaign: parse each Markdown text once.
_to_html = functools.lru_cache(maxsize=256)(to_html)
_to_plain = functools.lru_cache(maxsize=256)(to_plain)


@jinja2.pass_context
def _md_html(context: Any, text: Text) -> Markup:
    value, used = _resolve(context, text)
    body = _to_html(value)
    if used != context["lang"]:  # a section left in Swedish: tell screen readers which language it is
        return Markup('<div lang="{}">{}</div>').format(used, body)
    return body


@jinja2.pass_context
def _md_text(context: Any, text: Text) -> str:
    return _block(_to_plain(_resolve(context, text)[0]))


@jinja2.pass_context
def _plain_html(context: Any, text: Text) -> Markup:
    value, used = _resolve(context, text)
    if used != context["lang"]:
        return Markup('<span lang="{}">{}</span>').format(used, value)
    return escape(value)


@jinja2.pass_context
def _plain_text(context: Any, text: Text) -> str:
    return _resolve(context, text)[0]


def _block(content: str) -> str:
    """A block of the plain part stands apart by blank lines whatever the template's whitespace."""
    return f"\n\n{content}\n\n"


def _heading_html(title: str) -> Markup:
    return Markup('<h2 style="font-size:1.15em;margin:1.5em 0 0.5em">{}</h2>').format(title)


def _heading_text(title: str) -> str:
    return _block(f"{title}\n{'-' * len(title)}")


def _bullets_html(items: list[Any]) -> Markup:
    entries = Markup("").join(Markup("<li>{}</li>").format(i) for i in items)
    return Markup('<ul style="padding-left:1.25em">{}</ul>').format(entries)


def _bullets_text(items: list[Any]) -> str:
    return _block("\n".join(f"- {item}" for item in items))


def _link_html(url: str, label: str = "") -> Markup:
    return Markup('<a href="{}" style="color:#0b57a4;overflow-wrap:anywhere;word-break:break-word">{}</a>').format(
        url, label or url)


def _link_text(url: str, label: str = "") -> str:
    if url.startswith(("mailto:", "tel:")):
        return label or url.split(":", 1)[1]
    return f"{label} ({url})" if label and label != url else url


def _paras_html(value: str) -> Markup:
    """Blank-line separated prose -> <p> elements. Escaped first: a plain string is text, Markup stays."""
    safe = str(escape(value))
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", safe) if b.strip()]
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup(b)) for b in blocks)  # noqa: S704 (escaped)


def _paras_text(value: str) -> str:
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", value) if b.strip()]
    return _block("\n\n".join(blocks))


def _lines_html(*items: Any) -> Markup:
    return Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(i) for i in items if i))


def _lines_text(*items: Any) -> str:
    return _block("\n".join(str(i) for i in items if i))


def _quote_html(body: Any) -> Markup:
    style = "margin:0.5em 0 1em;padding:0 0 0 1em;border-left:4px solid #767676"
    return Markup('<blockquote style="{}">{}</blockquote>').format(style, body)


def _quote_text(body: Any) -> str:
    return _block(str(body))


def _date(value: Any, lang: str, with_time: bool = False) -> str:
    return format_date(value, lang, with_time)


@functools.cache
def _environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    """(HTML, text) environments sharing one loader; built on first use, kept for the process's life."""
    loader = jinja2.FileSystemLoader(TEMPLATE_DIR)
    common = {
        "loader": loader,
        "auto_reload": False,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
        "cache_size": 1000,
    }
    html = jinja2.Environment(autoescape=True, **common)
    text = jinja2.Environment(autoescape=False, **common)  # noqa: S701 (the text/plain part, never HTML)
    html.globals.update(
        md=_md_html,
        plain=_plain_html,
        heading=_heading_html,
        bullets=_bullets_html,
        link=_link_html,
        lines=_lines_html,
        quote=_quote_html,
        date=_date,
    )
    html.filters.update(paras=_paras_html, plain=_plain_html)
    text.globals.update(
        md=_md_text,
        plain=_plain_text,
        heading=_heading_text,
        bullets=_bullets_text,
        link=_link_text,
        lines=_lines_text,
        quote=_quote_text,
        date=_date,
    )
    text.filters.update(paras=_paras_text, plain=_plain_text)
    return html, text


def _tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, long lines wrapped (URLs never broken)."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if len(line) <= TEXT_WIDTH:
            out.append(line)
            continue
        indent = "  " if line.startswith("- ") else ""
        glued = DIGITS_APART.sub(_GLUE, line)  # "114 14", "010-123 45 67": a number is never split over lines
        out.extend(
            wrapped.replace(_GLUE, " ") for wrapped in
            textwrap.wrap(glued, TEXT_WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
        )
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return _AFTER_HEADING.sub(r"\1", text).strip() + "\n"


def _tidy_html(html: str) -> str:
    return re.sub(r"\n\s*\n+", "\n", html).strip() + "\n"
