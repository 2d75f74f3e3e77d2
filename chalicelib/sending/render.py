"""The worker's default renderer: incident content packaged with the code -> raw MIME via chalicelib.mail."""

from __future__ import annotations

from pathlib import Path

from chalicelib.content.published import content_dir as content_in_use
from chalicelib.content.published import incidents_in
from chalicelib.sending.worker import Recipient, Render, SendJob


def mail_renderer(*, sender: str, reply_to: str = "", content_dir: Path | None = None) -> Render:
    """A Render that composes the notice for the job's incident, audience, template and the person's language."""
    from chalicelib.mail import MailSpec, build_mime, compose

    root = Path(content_dir) if content_dir else content_in_use()

    def render(job: SendJob, r: Recipient, reference: str) -> bytes:
        incidents = incidents_in(root)
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
