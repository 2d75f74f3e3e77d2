"""The body of a printed letter: the e-mail's templates and content, with the wording a letter needs.

Rendered by the HTML environment of chalicelib.mail.render into `layout.letter.j2`, so the Art. 34 sections, the
footer and every template a campaign can send (notice, follow-ups, update notices) are written once for e-mail,
page and letter. Only the fixed phrases that speak of "this e-mail" differ; the footer says, as the e-mail's does,
to go to the site's /verify page and type the code (incident.verify_url). Pure code: the PDF is made on staff
machines (notis_cli).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from chalicelib.content.model import Incident
from chalicelib.mail import render
from chalicelib.mail.strings import STRINGS

LETTER_STRINGS: dict[str, dict[str, str]] = {
    "sv": {
        "data_note": "Det här är de slags uppgifter som berörs. Själva uppgifterna skriver vi aldrig ut i brev "
        "eller e-post.",
        "genuine": "Så vet du att brevet kommer från oss",
        "genuine_text": "Vi ber dig aldrig att logga in, legitimera dig med BankID, betala något eller lämna "
        "lösenord, säkerhetskoder från banken eller kortuppgifter, varken per telefon, sms eller e-post. Skriv "
        "in sidans adress i webbläsaren själv. Är du osäker, ring oss på numret ovan.",
        "verify_text": "Vill du kontrollera att det här brevet kommer från oss? Gå till {address} och skriv in "
        "referenskoden som står längre ned. Där ser du om vi har skickat ett brev eller meddelande med den koden.",
        "automatic": "Du får det här brevet eftersom vi inte har kunnat nå dig med e-post.",
    },
    "en": {
        "data_note": "These are the kinds of details involved. We never write out the details themselves in a "
        "letter or an e-mail.",
        "genuine": "How to tell this letter is from us",
        "genuine_text": "We never ask you to log in, identify yourself with BankID, pay anything or give "
        "passwords, security codes from your bank or card details, by phone, text message or e-mail. Type the "
        "page address into your browser yourself. If in doubt, call us on the number above.",
        "verify_text": "Want to check that this letter comes from us? Go to {address} and type the reference "
        "code below. You will see whether we sent a letter or message with that code.",
        "automatic": "You are receiving this letter because we could not reach you by e-mail.",
    },
}
LAYOUT = "layout.letter.j2"


@dataclass(frozen=True)
class LetterBody:
    subject: str
    html: str  # h1, h2, p, ul/li, blockquote, a, br; escaped
    lang: str


_CACHE: dict[tuple, tuple[Incident, LetterBody]] = {}


def compose_letter(incident: Incident, spec: render.MailSpec, *, names: list[str], lang: str,
                   reference: str) -> LetterBody:
    """The letter to the person or people `names` at one postal address, in `lang` (Swedish if unknown).

    Rendered once per incident, notice, language and greeting shape; names and code are filled in per letter.
    """
    who, shape = render.greeting_and_shape(_CACHE, _render, incident, spec, names=names, lang=lang)
    html = shape.html.replace(render.WHO, str(escape(who))).replace(render.REF, str(escape(reference)))
    return LetterBody(subject=shape.subject, html=html, lang=shape.lang)


def _render(incident: Incident, spec: render.MailSpec, lang: str, who: str) -> LetterBody:
    mail = render._render(incident, spec, lang, who)  # checks names, picks the template and the language
    lang = mail.lang
    words = STRINGS[lang] | LETTER_STRINGS[lang]
    html_env, _ = render._environments()
    context: dict[str, Any] = {
        "lang": lang, "t": words, "incident": incident, "org": incident.organisation,
        "title": incident.title.in_lang(lang), "who": who, "reference": render.REF,
        "update": render._update(incident, spec), "subject": mail.subject,
        "latest": render.latest_update(incident) if spec.template == render.FIRST_NOTICE else None,
    }
    name = render._template_name(spec.template, spec.audience, lang)
    html = html_env.get_template(name).render(context, layout=LAYOUT)
    return LetterBody(subject=mail.subject, html=render._tidy_html(html), lang=lang)
