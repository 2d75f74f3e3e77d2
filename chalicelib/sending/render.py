"""The worker's default renderer: incident content packaged with the code -> raw MIME via chalicelib.mail."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from chalicelib.sending.worker import Recipient, Render, SendJob

CONTENT_DIR = Path(__file__).resolve().parent.parent / "incidents"


@functools.cache
def _incidents(root: str) -> dict:
    from chalicelib.content.loader import load_incidents

    return {incident.slug: incident for incident in load_incidents(Path(root))}


def mail_renderer(*, sender: str, reply_to: str = "", content_dir: Path | None = None) -> Render:
    """A Render that composes the notice for the job's incident, audience, template and the person's language."""
    from chalicelib.mail import MailSpec, build_mime, compose

    root = str(content_dir or os.environ.get("NOTIS_CONTENT_DIR") or CONTENT_DIR)

    def render(job: SendJob, r: Recipient, reference: str) -> bytes:
        incidents = _incidents(root)
        if job.incident not in incidents:
            raise LookupError("unknown incident in send message")
        composed = compose(
            incidents[job.incident],
            MailSpec(job.template, job.audience, job.update_id),
            names=list(r.names),
            lang=r.lang,
            reference=reference,
        )
        return build_mime(composed, sender=sender, to=r.email, reply_to=reply_to or None)

    return render
