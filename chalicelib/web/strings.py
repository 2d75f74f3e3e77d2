"""Words of the page itself (not of the incident), Swedish and English."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "sv": {
        "skip": "Hoppa till innehållet",
        "other_lang_name": "English",
        "other_lang_label": "Read this page in English",
        "status": "Läge",
        "updated": "Senast uppdaterad",
        "discovered": "Upptäckt",
        "what_happened": "Vad har hänt?",
        "categories": "Vilka slags uppgifter gäller det?",
        "categories_note": "Det här är de slags uppgifter som kan ha berörts, inte själva uppgifterna.",
        "consequences": "Vad kan det innebära för dig?",
        "measures": "Vad vi har gjort",
        "advice": "Vad du kan göra",
        "genuine": "Så känner du igen äkta meddelanden från oss",
        "genuine_text": (
            "Vi ber dig aldrig att logga in, att legitimera dig med BankID eller att lämna lösenord, "
            "säkerhetskoder eller kortuppgifter. Våra e-brev om det här har inga bilagor och inga spårningslänkar. "
            "Skriv hellre själv in sidans adress i webbläsaren:"
        ),
        "timeline": "Tidslinje",
        "faq": "Frågor och svar",
        "contact": "Kontakt",
        "reach_title": "Frågor?",
        "reach_contact": "Kontakta",
        "contact_email": "E-post",
        "contact_dpo": "Dataskyddsombud",
        "contact_phone": "Telefon",
        "contact_hours": "Öppettider",
        "contact_support": "Kundtjänst på webben",
        "authority": "Anmälan till myndigheter",
        "authority_reported": "Anmäld",
        "authority_reference": "Diarienummer",
        "only_swedish": "Finns bara på svenska.",
        "partly_swedish": "",
        "list_title": "Pågående händelser",
        "list_intro": "Välj en händelse för att läsa mer.",
        "all_incidents": "Alla händelser",
        "feed": "Prenumerera på uppdateringar (Atom)",
        "data": "Öppna data (JSON)",
        "not_found_title": "Sidan finns inte",
        "not_found_text": "Vi hittar ingen sida med den adressen. Kontrollera adressen eller gå till startsidan.",
        "home": "Till startsidan",
        "status_investigating": "Vi utreder",
        "status_identified": "Orsaken är känd",
        "status_monitoring": "Åtgärdat, vi följer upp",
        "status_resolved": "Avslutat",
        "none_open": "Just nu pågår ingen händelse.",
        "components": "Berörda tjänster",
        "component_operational": "Fungerar som vanligt",
        "component_under_maintenance": "Underhåll pågår",
        "component_degraded_performance": "Fungerar sämre än vanligt",
        "component_partial_outage": "Delvis ur drift",
        "component_major_outage": "Ur drift",
        "badge_none": "Ingen pågående händelse",
        "badge_many": "{n} pågående händelser",
        "verify_link": "Kontrollera ett meddelande med referenskoden",
        "verify_title": "Kommer meddelandet från oss?",
        "verify_intro": (
            "Alla e-brev och pappersbrev vi skickar om en personuppgiftsincident har en referenskod, till exempel "
            "{example}. I e-brevet står den längst ner, i brevet längst ner på varje sida. Skriv in koden "
            "här så ser du om meddelandet kommer från oss."
        ),
        "verify_empty_title": "Skriv in koden från meddelandet",
        "verify_empty_text": (
            "Rutan var tom. Koden står längst ner i e-brevet eller på brevet: {length} tecken, till exempel "
            "{example}."
        ),
        "verify_label": "Referenskod",
        "verify_hint": (
            "{length} tecken, bokstäver och siffror. Små bokstäver och mellanslag går bra."
        ),
        "verify_button": "Kontrollera",
        "verify_answer": "Koden",
        "verify_yes": "Ja, vi har skickat ett meddelande med den här koden",
        "verify_yes_when": "Vi skickade det den {date}.",
        "verify_yes_about": "Det handlade om:",
        "verify_yes_kind_notice": "Det var vårt första meddelande om händelsen.",
        "verify_yes_kind_follow-up": "Det var en påminnelse om händelsen.",
        "verify_yes_kind_update": "Det var en uppdatering om händelsen.",
        "verify_yes_asks": (
            "Meddelandet ber dig inte att göra något som kräver inloggning, BankID, lösenord eller betalning. "
            "Ber ett meddelande om något sådant är det inte från oss, även om koden stämmer."
        ),
        "verify_read_more": "Läs om händelsen",
        "verify_no": "Vi har inte skickat något meddelande med den här koden",
        "verify_no_check": (
            "Jämför koden ovan med den i meddelandet, tecken för tecken. Skiljer de sig åt, rätta koden i rutan "
            "och kontrollera igen."
        ),
        "verify_typo": "Koden stämmer inte riktigt",
        "verify_typo_text": (
            "Troligen är ett tecken fel eller så har två bytt plats: kodens sista tecken kontrollerar de andra. "
            "Jämför med meddelandet, tecken för tecken, och skriv in koden igen."
        ),
        "verify_typo_exact": (
            "Har du skrivit in koden precis som den står i meddelandet och får ändå det här svaret, kommer "
            "meddelandet inte från oss. Det kan vara ett bedrägeriförsök (nätfiske). Så gör du:"
        ),
        "verify_chars": "Koden har tecken som aldrig finns i våra koder",
        "verify_chars_found": "I det du skrev finns {chars}.",
        "verify_chars_left_out": (
            "Våra koder har aldrig 0, O, 1, I, L, U eller V: de är lätta att blanda ihop. Titta noga på koden i "
            "meddelandet igen."
        ),
        "verify_chars_other": (
            "En kod har bara bokstäverna A–Z och siffrorna 2–9. Skriv in koden igen med vanliga bokstäver och siffror."
        ),
        "verify_chars_pasted": (
            "Har du kopierat koden ur ett e-brev i stället för att skriva den själv, kommer e-brevet inte från oss: "
            "våra koder har bara vanliga bokstäver."
        ),
        "verify_char_0": "siffran 0 (noll)",
        "verify_char_O": "bokstaven O",
        "verify_char_1": "siffran 1 (ett)",
        "verify_char_I": "bokstaven I",
        "verify_char_L": "bokstaven L",
        "verify_char_U": "bokstaven U",
        "verify_char_V": "bokstaven V",
        "verify_char_latin": "bokstaven {char}",
        "verify_char_script": "{char}, en bokstav ur ett annat alfabet ({script}) som kan se ut som en vanlig bokstav",
        "verify_char_other_script": "{char}, en bokstav ur ett annat alfabet",
        "verify_char_digit": "{char}, en siffra ur ett annat skriftsystem",
        "verify_char_sign": "tecknet {char}",
        "verify_char_invisible": "ett tecken som inte syns",
        "verify_char_more": "{n} tecken till",
        "verify_and": " och ",
        "verify_length": "Koden har fel antal tecken",
        "verify_length_text": (
            "Räknat i bokstäver och siffror har den {found}. En kod har {length}, i grupper om {shape}, till "
            "exempel {example}. Kontrollera att du har fått med hela koden och inget annat, och skriv in den igen."
        ),
        "verify_malformed_exact": (
            "Står koden precis så i meddelandet, kommer meddelandet inte från oss. Det kan vara ett "
            "bedrägeriförsök (nätfiske). Så gör du:"
        ),
        "verify_example": "Det här är exempelkoden från den här sidan",
        "verify_example_text": (
            "Den står här bara för att visa hur en kod ser ut. Skriv in koden från ditt meddelande i stället: den "
            "står längst ner i e-brevet och längst ner på varje sida i brevet."
        ),
        "verify_advice_title": "Om meddelandet inte kommer från oss",
        "verify_contact_title": "Frågor? Kontakta {name}",
        "verify_contact_own": "Ring numret här, inte ett nummer från ett meddelande du är osäker på.",
        "verify_no_text": "Är koden rätt inskriven kan meddelandet vara ett bedrägeriförsök (nätfiske). Så gör du:",
        "verify_no_click": "Klicka inte på länkar och öppna inga bilagor i meddelandet. Svara inte på det.",
        "verify_no_give": (
            "Lämna aldrig ut lösenord, säkerhetskoder eller kortuppgifter och legitimera dig inte med BankID på "
            "uppmaning."
        ),
        "verify_no_forward": "Vidarebefordra gärna meddelandet till oss:",
        "verify_no_police": (
            "Har du redan klickat, lämnat uppgifter eller betalat: kontakta din bank direkt och polisanmäl. "
            "Polisen har råd om bedrägerier på"
        ),
        "verify_busy_title": "För många försök",
        "verify_busy_text": "Du har gjort många kontroller på kort tid. Vänta en stund och försök igen.",
        "verify_down_title": "Vi kan inte kontrollera koden just nu",
        "verify_down_text": (
            "Försök igen om en stund. Klicka under tiden inte på länkar i meddelandet och lämna inga uppgifter."
        ),
        "verify_how": "Kontrollera ett meddelande: gå till {address} och skriv in referenskoden från meddelandet.",
    },
    "en": {
        "skip": "Skip to content",
        "other_lang_name": "Svenska",
        "other_lang_label": "Läs sidan på svenska",
        "status": "Status",
        "updated": "Last updated",
        "discovered": "Discovered",
        "what_happened": "What has happened?",
        "categories": "Which kinds of data are involved?",
        "categories_note": "These are the kinds of data that may be affected, not the data itself.",
        "consequences": "What could this mean for you?",
        "measures": "What we have done",
        "advice": "What you can do",
        "genuine": "How to recognise genuine messages from us",
        "genuine_text": (
            "We never ask you to log in, to identify yourself with BankID or to give passwords, security codes or "
            "card details. Our e-mails about this have no attachments and no tracking links. Rather type this "
            "page's address into your browser yourself:"
        ),
        "timeline": "Timeline",
        "faq": "Questions and answers",
        "contact": "Contact",
        "reach_title": "Questions?",
        "reach_contact": "Contact",
        "contact_email": "E-mail",
        "contact_dpo": "Data protection officer",
        "contact_phone": "Phone",
        "contact_hours": "Opening hours",
        "contact_support": "Customer service on the web",
        "authority": "Reports to the authorities",
        "authority_reported": "Reported",
        "authority_reference": "Reference",
        "only_swedish": "Only available in Swedish.",
        "list_title": "Ongoing incidents",
        "list_intro": "Choose an incident to read more.",
        "all_incidents": "All incidents",
        "feed": "Subscribe to updates (Atom)",
        "data": "Open data (JSON)",
        "not_found_title": "Page not found",
        "not_found_text": "There is no page at that address. Check the address or go to the front page.",
        "home": "Go to the front page",
        "status_investigating": "Investigating",
        "status_identified": "Cause identified",
        "status_monitoring": "Fixed, monitoring",
        "status_resolved": "Resolved",
        "none_open": "There is no ongoing incident right now.",
        "components": "Affected services",
        "component_operational": "Working as usual",
        "component_under_maintenance": "Under maintenance",
        "component_degraded_performance": "Working less well than usual",
        "component_partial_outage": "Partly down",
        "component_major_outage": "Down",
        "badge_none": "No ongoing incident",
        "badge_many": "{n} ongoing incidents",
        "verify_link": "Check a message by its reference code",
        "verify_title": "Is this message really from us?",
        "verify_intro": (
            "Every e-mail and every paper letter we send about a personal data breach has a reference code, for "
            "example {example}: at the bottom of the e-mail, and at the foot of each page of the letter. Type "
            "the code here to see whether the message is from us."
        ),
        "verify_empty_title": "Type the code from the message",
        "verify_empty_text": (
            "The box was empty. The code is at the bottom of the e-mail or on the letter: {length} characters, for "
            "example {example}."
        ),
        "verify_label": "Reference code",
        "verify_hint": (
            "{length} characters, letters and digits. Small letters and spaces are fine too."
        ),
        "verify_button": "Check",
        "verify_answer": "The code",
        "verify_yes": "Yes, we sent a message with this code",
        "verify_yes_when": "We sent it on {date}.",
        "verify_yes_about": "It was about:",
        "verify_yes_kind_notice": "It was our first message about the incident.",
        "verify_yes_kind_follow-up": "It was a reminder about the incident.",
        "verify_yes_kind_update": "It was an update about the incident.",
        "verify_yes_asks": (
            "The message does not ask you to do anything that needs a log-in, BankID, a password or a payment. "
            "If a message asks for any of that, it is not from us, even if the code is right."
        ),
        "verify_read_more": "Read about the incident",
        "verify_no": "We have sent no message with this code",
        "verify_no_check": (
            "Compare the code above with the one in the message, character by character. If they differ, correct "
            "the code in the box and check again."
        ),
        "verify_typo": "The code is not quite right",
        "verify_typo_text": (
            "Probably one character is wrong or two have swapped places: the last character of a code checks the "
            "others. Compare with the message, character by character, and type the code again."
        ),
        "verify_typo_exact": (
            "If you typed the code exactly as it is printed in the message and still get this answer, the message "
            "is not from us. It may be a fraud attempt (phishing). What to do:"
        ),
        "verify_chars": "The code has characters that are never in our codes",
        "verify_chars_found": "What you typed contains {chars}.",
        "verify_chars_left_out": (
            "Our codes never have 0, O, 1, I, L, U or V: they are easily mixed up. Look closely at the code in the "
            "message again."
        ),
        "verify_chars_other": (
            "A code has only the letters A–Z and the digits 2–9. Type the code again with ordinary letters and digits."
        ),
        "verify_chars_pasted": (
            "If you copied the code from an e-mail rather than typing it yourself, the e-mail is not from us: our "
            "codes have only ordinary letters."
        ),
        "verify_char_0": "the digit 0 (zero)",
        "verify_char_O": "the letter O",
        "verify_char_1": "the digit 1 (one)",
        "verify_char_I": "the letter I",
        "verify_char_L": "the letter L",
        "verify_char_U": "the letter U",
        "verify_char_V": "the letter V",
        "verify_char_latin": "the letter {char}",
        "verify_char_script": "{char}, a letter from another alphabet ({script}) that can look like an ordinary one",
        "verify_char_other_script": "{char}, a letter from another alphabet",
        "verify_char_digit": "{char}, a digit from another writing system",
        "verify_char_sign": "the character {char}",
        "verify_char_invisible": "a character that cannot be seen",
        "verify_char_more": "{n} more",
        "verify_and": " and ",
        "verify_length": "The code has the wrong number of characters",
        "verify_length_text": (
            "Counting letters and digits, it has {found}. A code has {length}, in groups of {shape}, for example "
            "{example}. Check that you have all of the code and nothing else, and type it again."
        ),
        "verify_malformed_exact": (
            "If the code is printed exactly like that in the message, the message is not from us. It may be a "
            "fraud attempt (phishing). What to do:"
        ),
        "verify_example": "This is the example code from this page",
        "verify_example_text": (
            "It is here only to show what a code looks like. Type the code from your message instead: it is at the "
            "bottom of the e-mail, and at the foot of each page of the letter."
        ),
        "verify_advice_title": "If the message is not from us",
        "verify_contact_title": "Questions? Contact {name}",
        "verify_contact_own": "Call the number here, not a number from a message you are unsure of.",
        "verify_no_text": "If you typed it correctly, the message may be a fraud attempt (phishing). What to do:",
        "verify_no_click": "Do not click links or open attachments in the message. Do not reply to it.",
        "verify_no_give": (
            "Never give passwords, security codes or card details, or identify yourself with BankID, when asked to."
        ),
        "verify_no_forward": "You are welcome to forward the message to us:",
        "verify_no_police": (
            "If you have already clicked, given details or paid: call your bank at once and report it to the "
            "police. The Swedish police have advice on fraud at"
        ),
        "verify_busy_title": "Too many tries",
        "verify_busy_text": "You have made many checks in a short time. Wait a moment and try again.",
        "verify_down_title": "We cannot check the code right now",
        "verify_down_text": (
            "Try again in a little while. Until then, do not click links in the message and do not give any details."
        ),
        "verify_how": "To check a message: go to {address} and type the reference code from the message.",
    },
}

_SV_MONTHS = (
    "januari februari mars april maj juni juli augusti september oktober november december"
).split()
_EN_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def format_when(moment, lang: str) -> str:
    """A date and time as people write it: '22 januari 2024 kl. 13.00' / '22 January 2024, 13:00'."""
    offset = moment.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset and offset not in ("+0100", "+0200") else ""
    if lang == "sv":
        return f"{moment.day} {_SV_MONTHS[moment.month - 1]} {moment.year} kl. {moment:%H.%M}{zone}"
    return f"{moment.day} {_EN_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}{zone}"


def format_date(moment, lang: str) -> str:
    months = _SV_MONTHS if lang == "sv" else _EN_MONTHS
    return f"{moment.day} {months[moment.month - 1]} {moment.year}"
