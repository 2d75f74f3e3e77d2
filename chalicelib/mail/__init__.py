"""The notification e-mail: compose it from the incident and templates, build the MIME bytes SES sends.

Pure code, no AWS: the sender calls `compose()` then `build_mime()` and stores `new_reference()` with the
ledger entry.
"""

from chalicelib.mail.mime import build_mime
from chalicelib.mail.reference import new_reference, normalise_reference, parse_reference
from chalicelib.mail.render import Composed, MailError, MailSpec, compose, template_problems

__all__ = [
    "Composed",
    "MailError",
    "MailSpec",
    "build_mime",
    "compose",
    "new_reference",
    "normalise_reference",
    "parse_reference",
    "template_problems",
]
