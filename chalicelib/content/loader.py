"""Read incident folders and report every problem at once, with file and field, in words staff understand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from chalicelib.content.keys import unknown_keys
from chalicelib.content.model import (
    COMPONENT_STATUSES,
    STATUSES,
    Audience,
    AuthorityReport,
    Component,
    Contact,
    FaqEntry,
    FollowUp,
    Incident,
    Organisation,
    Update,
)
from chalicelib.content.text import LANGUAGES, Text

INCIDENT_FILE = "incident.yaml"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"'():;,]+@[^@\s<>\"'():;,]+\.[^@\s<>\"'():;,]+$")
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class ContentError(Exception):
    """Invalid incident content; str() is the readable list staff see (CLI and app start-up alike)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [f"  - {p}" for p in problems]
        super().__init__(f"incident content has {len(problems)} problem(s):\n" + "\n".join(lines))


class _Reader:
    """Walks one parsed YAML document, recording problems instead of raising on the first one."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def mapping(self, value: Any, path: str, required: bool = True) -> dict[str, Any]:
        if value is None:
            if required:
                self.problem(path, "is missing")
            return {}
        if not isinstance(value, dict):
            self.problem(path, "must be a mapping of fields")
            return {}
        return value

    def items(self, value: Any, path: str, required: bool = True) -> list[Any]:
        if value is None:
            if required:
                self.problem(path, "is missing")
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list")
            return []
        return value

    def string(self, value: Any, path: str, required: bool = True) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(path, "is missing or empty")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, "must be text")
            return ""
        return str(value).strip()

    def text(self, value: Any, path: str, required: bool = True) -> Text:
        """A localised text: `{sv: ..., en: ...}` with Swedish required; a bare string counts as Swedish."""
        if isinstance(value, str):
            value = {"sv": value}
        if value is None:
            if required:
                self.problem(path, "is missing (write it in Swedish under `sv:`, English optional under `en:`)")
            return Text(())
        if not isinstance(value, dict):
            self.problem(path, "must be text, or `sv:`/`en:` texts")
            return Text(())
        texts = {lang: self.string(value.get(lang), f"{path}.{lang}", required=False) for lang in LANGUAGES}
        if required and not texts["sv"]:
            self.problem(f"{path}.sv", "the Swedish text is missing or empty")
        return Text.of(**texts)

    def when(self, value: Any, path: str, required: bool = True) -> datetime | None:
        if value is None or value == "":
            if required:
                self.problem(path, "is missing (write e.g. 2024-01-17T09:30:00+01:00)")
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.problem(path, f"is not a date or time: {value!r} (write e.g. 2024-01-17T09:30:00+01:00)")
                return None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.problem(path, "needs a time zone offset, e.g. +01:00 for Swedish winter time")
                return value.replace(tzinfo=UTC)
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), tzinfo=UTC)
        self.problem(path, "must be a date or a date and time")
        return None

    def number(self, value: Any, path: str, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.problem(path, "must be a number of zero or more")
            return default
        return float(value)

    def ident(self, value: Any, path: str, seen: set[str]) -> str:
        ident = self.string(value, path)
        if ident and not ID_RE.match(ident):
            self.problem(path, f"{ident!r} must be lowercase letters, digits and dashes")
        if ident in seen:
            self.problem(path, f"{ident!r} is used twice")
        seen.add(ident)
        return ident


def _contact(r: _Reader, raw: Any) -> Contact:
    data = r.mapping(raw, "organisation.contact")
    contact = Contact(
        email=r.string(data.get("email"), "organisation.contact.email", required=False),
        phone=r.string(data.get("phone"), "organisation.contact.phone", required=False),
        hours=r.text(data.get("hours"), "organisation.contact.hours", required=False),
        support_url=r.string(data.get("support_url"), "organisation.contact.support_url", required=False),
        dpo_email=r.string(data.get("dpo_email"), "organisation.contact.dpo_email", required=False),
    )
    if contact.support_url and not contact.support_url.startswith("https://"):
        r.problem("organisation.contact.support_url", "must be an https:// address")
    for field_name in ("email", "dpo_email"):
        value = getattr(contact, field_name)
        if value and not EMAIL_RE.match(value):
            r.problem(f"organisation.contact.{field_name}", f"{value[:80]!r} is not an e-mail address")
    if raw is not None and not (contact.email or contact.phone or contact.support_url or contact.dpo_email):
        r.problem("organisation.contact", "Art. 34: give a contact point (e-mail, phone or support link)")
    return contact


def _https(r: _Reader, raw: Any, path: str) -> str:
    value = r.string(raw, path, required=False)
    if value and not value.startswith("https://"):
        r.problem(path, "must be an https:// address")
        return ""
    return value


def _authority(r: _Reader, raw: Any) -> AuthorityReport | None:
    if raw is None:
        return None
    data = r.mapping(raw, "authority_report")
    return AuthorityReport(
        authority=r.string(data.get("authority"), "authority_report.authority"),
        reported_at=r.when(data.get("reported_at"), "authority_report.reported_at", required=False),
        reference=r.string(data.get("reference"), "authority_report.reference", required=False),
        police_report=r.text(data.get("police_report"), "authority_report.police_report", required=False),
    )


def _updates(r: _Reader, raw: Any, audiences: set[str]) -> tuple[Update, ...]:
    updates, seen = [], set()
    for i, item in enumerate(r.items(raw, "updates")):
        path = f"updates[{i}]"
        data = r.mapping(item, path)
        status = r.string(data.get("status"), f"{path}.status")
        if status and status not in STATUSES:
            r.problem(f"{path}.status", f"{status!r} is not one of {', '.join(STATUSES)}")
        notify = tuple(str(a) for a in r.items(data.get("notify"), f"{path}.notify", required=False))
        for name in notify:
            if name not in audiences:
                r.problem(f"{path}.notify", f"audience {name!r} is not declared under `audiences`")
        at = r.when(data.get("at"), f"{path}.at")
        text = r.text(data.get("text"), f"{path}.text")
        ident = r.ident(data.get("id"), f"{path}.id", seen)
        if at is not None:
            updates.append(Update(id=ident, at=at, status=status, text=text, notify=notify))
    if raw is not None and not updates and not r.problems:
        r.problem("updates", "give at least one update for the timeline")
    return tuple(updates)


def _faq(r: _Reader, raw: Any) -> tuple[FaqEntry, ...]:
    entries, seen = [], set()
    for i, item in enumerate(r.items(raw, "faq", required=False)):
        path = f"faq[{i}]"
        data = r.mapping(item, path)
        entries.append(
            FaqEntry(
                id=r.ident(data.get("id"), f"{path}.id", seen),
                question=r.text(data.get("question"), f"{path}.question"),
                answer=r.text(data.get("answer"), f"{path}.answer"),
            )
        )
    return tuple(entries)


def _audiences(r: _Reader, raw: Any) -> tuple[Audience, ...]:
    data = r.mapping(raw, "audiences", required=False)
    result = []
    for name, value in data.items():
        if not isinstance(name, str) or not ID_RE.match(name):
            r.problem("audiences", f"{name!r} must be lowercase letters, digits and dashes")
            continue
        spec = r.mapping(value, f"audiences.{name}")
        result.append(Audience(name=name, description=r.text(spec.get("description"), f"audiences.{name}.description")))
    return tuple(result)


def _followups(r: _Reader, raw: Any, audiences: set[str]) -> tuple[FollowUp, ...]:
    result, seen = [], set()
    for i, item in enumerate(r.items(raw, "followups", required=False)):
        path = f"followups[{i}]"
        data = r.mapping(item, path)
        audience = r.string(data.get("audience"), f"{path}.audience")
        if audience and audience not in audiences:
            r.problem(f"{path}.audience", f"audience {audience!r} is not declared under `audiences`")
        at = r.when(data.get("at"), f"{path}.at", required=False)
        offset = data.get("after_first_send_hours")
        if (at is None) == (offset is None):
            r.problem(path, "give exactly one of `at` (a date and time) or `after_first_send_hours`")
        result.append(
            FollowUp(
                id=r.ident(data.get("id"), f"{path}.id", seen),
                audience=audience,
                template=r.string(data.get("template"), f"{path}.template"),
                at=at,
                after_first_send_hours=None if offset is None else r.number(offset, path, 0.0),
                only_undelivered=bool(data.get("only_undelivered", False)),
                not_after_hours=r.number(data.get("not_after_hours"), f"{path}.not_after_hours", 24.0),
            )
        )
    return tuple(result)


def _components(r: _Reader, raw: Any) -> tuple[Component, ...]:
    """Optional parts of the service and their state, in Statuspage's words so status clients read them as is."""
    result, seen = [], set()
    for i, item in enumerate(r.items(raw, "components", required=False)):
        path = f"components[{i}]"
        data = r.mapping(item, path)
        status = r.string(data.get("status"), f"{path}.status")
        if status and status not in COMPONENT_STATUSES:
            allowed = ", ".join(COMPONENT_STATUSES)
            r.problem(f"{path}.status", f"{status!r} is not a component status; use one of {allowed}")
        result.append(Component(id=r.ident(data.get("id"), f"{path}.id", seen),
                                name=r.text(data.get("name"), f"{path}.name"), status=status))
    return tuple(result)


def parse_incident(document: Any, file: str, folder_name: str | None = None) -> tuple[Incident | None, list[Problem]]:
    """Turn one parsed YAML document into an Incident, or the list of what is wrong with it."""
    r = _Reader(file)
    if document is None:
        return None, [Problem(file, "", "the file is empty")]
    data = r.mapping(document, "(the whole file)")
    if not data:
        return None, r.problems or [Problem(file, "", "the file holds no fields")]
    for unknown in unknown_keys(data):  # first: a misspelt key often explains a "missing" one below
        r.problem(unknown.path, unknown.message)
    slug = r.string(data.get("slug"), "slug")
    if slug and not SLUG_RE.match(slug):
        r.problem("slug", f"{slug!r} must be lowercase letters, digits and dashes (it becomes the page address)")
    if slug and folder_name and slug != folder_name:
        r.problem("slug", f"{slug!r} differs from the folder name {folder_name!r}")
    status = r.string(data.get("status"), "status")
    if status and status not in STATUSES:
        r.problem("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    org = r.mapping(data.get("organisation"), "organisation")
    raw_categories = r.items(data.get("data_categories"), "data_categories")
    categories = [r.text(c, f"data_categories[{i}]") for i, c in enumerate(raw_categories)]
    if data.get("data_categories") is not None and not categories:
        r.problem("data_categories", "Art. 34: name at least one kind of personal data involved")
    page_url = r.string(data.get("page_url"), "page_url")
    if page_url and not page_url.startswith("https://"):
        r.problem("page_url", "must be the https:// address of the public page (it is written out in e-mails)")
    audiences = _audiences(r, data.get("audiences"))
    names = {a.name for a in audiences}
    art34 = {
        "what_happened": "what happened and when",
        "consequences": "the likely consequences",
        "measures": "the measures taken",
        "advice": "what the person can do",
    }
    texts = {}
    for key, meaning in art34.items():
        texts[key] = r.text(data.get(key), key, required=False)
        if not texts[key]:
            r.problem(key, f"Art. 34: say {meaning} (Swedish under `sv:`)")
    retention = r.number(data.get("retention_days"), "retention_days", 90.0)
    incident = Incident(
        slug=slug,
        title=r.text(data.get("title"), "title"),
        summary=r.text(data.get("summary"), "summary"),
        organisation=Organisation(
            name=r.string(org.get("name"), "organisation.name"),
            contact=_contact(r, org.get("contact")),
            website=_https(r, org.get("website"), "organisation.website"),
        ),
        discovered_at=r.when(data.get("discovered_at"), "discovered_at") or datetime.min.replace(tzinfo=UTC),
        status=status,
        page_url=page_url,
        data_categories=tuple(categories),
        authority_report=_authority(r, data.get("authority_report")),
        updates=_updates(r, data.get("updates"), names),
        faq=_faq(r, data.get("faq")),
        audiences=audiences,
        followups=_followups(r, data.get("followups"), names),
        components=_components(r, data.get("components")),
        retention_days=int(retention),
        source=file,
        **texts,
    )
    return (None if r.problems else incident), r.problems


def read_incident_file(path: Path, display: str | None = None) -> tuple[Incident | None, list[Problem]]:
    shown = display or str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, [Problem(shown, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KB")]
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [Problem(shown, "", "the file is not UTF-8 text (save it as UTF-8 in your editor)")]
    except OSError as exc:
        return None, [Problem(shown, "", f"cannot be read: {exc.strerror}")]
    try:
        document = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or "not valid YAML"
        return None, [Problem(shown, where, f"YAML syntax error: {reason}")]
    return parse_incident(document, shown, path.parent.name)


def load_incidents(root: Path) -> list[Incident]:
    """Every incident under `root` (one folder each), or ContentError listing every problem found."""
    problems: list[Problem] = []
    incidents: list[Incident] = []
    if not root.is_dir():
        raise ContentError([Problem(str(root), "", "no such folder of incidents")])
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for folder in folders:
        path = folder / INCIDENT_FILE
        if not path.is_file():
            problems.append(Problem(folder.name, "", f"has no {INCIDENT_FILE}"))  # named like the files: from root
            continue
        incident, found = read_incident_file(path, f"{folder.name}/{INCIDENT_FILE}")
        problems.extend(found)
        if incident:
            incidents.append(incident)
    if not folders:
        problems.append(Problem(str(root), "", "holds no incident folder"))
    if problems:
        raise ContentError(problems)
    return incidents
