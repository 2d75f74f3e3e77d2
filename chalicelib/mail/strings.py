"""Fixed wording of the e-mail (headings, the genuineness advice, dates) per language.

The Art. 34 structure is written once in the templates; only these words differ between languages.
Incident-specific text never lives here: it comes from the incident content.
"""

from __future__ import annotations

from datetime import datetime

STRINGS: dict[str, dict[str, str]] = {
    "sv": {
        "hello": "Hej",
        "dear": "Hej",
        "and": "och",
        "subject_notice": "Viktig information",
        "subject_reminder": "Påminnelse",
        "subject_update": "Uppdatering",
        "what_happened": "Vad har hänt?",
        "data": "Vilka slags uppgifter det gäller",
        "data_note": "Det här är de slags uppgifter som berörs. Själva uppgifterna skriver vi aldrig ut i e-post.",
        "consequences": "Vad det kan innebära",
        "measures": "Vad vi har gjort",
        "authority": "Anmält till {authority} den {date}.",
        "advice": "Det här kan du göra",
        "contact": "Kontakta oss",
        "email": "E-post",
        "phone": "Telefon",
        "hours": "Öppettider",
        "support": "Kundtjänst på webben",
        "dpo": "Dataskyddsombud",
        "page": "Läs mer på vår informationssida",
        "page_text": "Där berättar vi mer och skriver när vi vet något nytt. Skriv gärna in adressen i "
        "webbläsaren själv:",
        "genuine": "Så vet du att e-brevet kommer från oss",
        "genuine_text": "Vi ber dig aldrig att logga in, legitimera dig med BankID, betala något eller lämna "
        "lösenord, säkerhetskoder från banken eller kortuppgifter. Vi skickar inga bilagor. Skriv in sidans "
        "adress i webbläsaren själv i stället för att klicka på länkar. Är du osäker, kontakta oss på telefon "
        "eller e-post enligt ovan.",
        "verify_text": "Vill du kontrollera att det här e-brevet kommer från oss? Gå till {address} och skriv in "
        "referenskoden som står längre ned. Där ser du om vi har skickat ett meddelande med den koden.",
        "reference": "Din referenskod",
        "reference_text": "Koden används bara för att kontrollera att meddelandet kommer från oss och ger ingen "
        "åtkomst till något, så den är ofarlig att uppge. Ange den gärna om du kontaktar oss, så hittar vi rätt "
        "fortare.",
        "regards": "Med vänliga hälsningar",
        # No "reply to this e-mail": the sender may be a no-reply address; the contact section says where to go.
        "automatic": "Det här är ett automatiskt utskick om en personuppgiftsincident. Har du frågor, kontakta "
        "oss på något av sätten ovan.",
        "update_heading": "Nytt på informationssidan",
        "update_at": "Uppdaterat {date}",
        "latest": "Senaste uppdateringen ({date})",
    },
    "en": {
        "hello": "Hello",
        "dear": "Dear",
        "and": "and",
        "subject_notice": "Important information",
        "subject_reminder": "Reminder",
        "subject_update": "Update",
        "what_happened": "What has happened?",
        "data": "What kinds of details are involved",
        "data_note": "These are the kinds of details involved. We never write out the details themselves in an e-mail.",
        "consequences": "What this may mean",
        "measures": "What we have done",
        "authority": "Reported to {authority} on {date}.",
        "advice": "What you can do",
        "contact": "Contact us",
        "email": "E-mail",
        "phone": "Phone",
        "hours": "Opening hours",
        "support": "Customer service on the web",
        "dpo": "Data protection officer",
        "page": "Read more on our information page",
        "page_text": "We explain more there and write when we know something new. Please type the address "
        "into your browser yourself:",
        "genuine": "How to tell this e-mail is from us",
        "genuine_text": "We never ask you to log in, identify yourself with BankID, pay anything or give "
        "passwords, security codes from your bank or card details. We send no attachments. Type the page "
        "address into your browser yourself instead of clicking links. If in doubt, contact us by phone or "
        "e-mail as shown above.",
        "verify_text": "Want to check that this e-mail comes from us? Go to {address} and type the reference "
        "code below. You will see whether we sent a message with that code.",
        "reference": "Your reference code",
        "reference_text": "The code is only for checking that the message is from us and gives access to "
        "nothing, so it is safe to quote. Quote it if you contact us, so that we can help you faster.",
        "regards": "Kind regards",
        "automatic": "This is an automatic message about a personal data breach. If you have questions, contact "
        "us in any of the ways above.",
        "update_heading": "New on the information page",
        "update_at": "Updated {date}",
        "latest": "Latest update ({date})",
    },
}

_MONTHS = {
    "sv": "januari februari mars april maj juni juli augusti september oktober november december".split(),
    "en": "January February March April May June July August September October November December".split(),
}


def format_date(when: datetime, lang: str, with_time: bool = False) -> str:
    """`19 januari 2024 kl. 14.00` / `19 January 2024 at 14:00`, in the offset the content was written in."""
    day = f"{when.day} {_MONTHS[lang][when.month - 1]} {when.year}"
    if not with_time:
        return day
    if lang == "sv":
        return f"{day} kl. {when:%H.%M}"
    return f"{day} at {when:%H:%M}"


def join_names(names: list[str], lang: str) -> str:
    """`Anna`, `Anna och Erik`, `Anna, Erik och Lisa` (no serial comma in either language)."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {STRINGS[lang]['and']} {names[-1]}"
