"""A removal order as the TCO Regulation's Annex I form: its sections (A to G) in English or French, as a printable
HTML page (templates/referral/order.html) and as a PDF (fpdf2) whose text can be extracted. Sent with the order's
delivery (attached to the email, linked from the webhook as `order_url`) and readable by the platform's liaison."""

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

LANGUAGES = ("en", "fr")

GROUNDS = {
    "en": {"incitement": "(a) incites the commission of terrorist offences",
           "solicitation": "(b) solicits a person or group to commit or contribute to terrorist offences",
           "participation": "(c) solicits participation in the activities of a terrorist group",
           "instruction": "(d) instructs on making or using explosives, weapons or other methods for terrorism",
           "threat": "(e) threatens to commit a terrorist offence"},
    "fr": {"incitement": "a) incite à commettre des infractions terroristes",
           "solicitation": "b) sollicite une personne ou un groupe pour commettre ou contribuer à des infractions "
                           "terroristes",
           "participation": "c) sollicite la participation aux activités d'un groupe terroriste",
           "instruction": "d) fournit des instructions pour la fabrication ou l'utilisation d'explosifs, d'armes ou "
                          "d'autres méthodes à des fins terroristes",
           "threat": "e) constitue une menace de commettre une infraction terroriste"},
}

LABELS = {
    "en": {
        "title": "Removal order (Article 3 of Regulation (EU) 2021/784)",
        "A": "Section A: issuing Member State and addressee", "issuing_member_state": "Issuing Member State",
        "addressee": "Hosting service provider", "legal_representative": "Legal representative",
        "contact_point": "Point of contact", "host_member_state": "Member State of main establishment",
        "issued_at": "Date and time of issue", "reference": "Reference number of the order",
        "emergency": "First order without 12 hours' notice (emergency, Article 3(2))",
        "B": "Section B: content to be removed or disabled and reasons", "urls": "Exact URLs",
        "grounds": "Grounds (Article 2(7))", "statement_of_reasons": "Statement of reasons",
        "hour": "Remove the content or disable access to it in all Member States as soon as possible and in any event "
                "within one hour of receipt (Article 3(3)).",
        "C": "Section C: information to the content provider",
        "non_disclosure": "Do not disclose the removal to the content provider until (Article 11(3))",
        "disclose": "No restriction: inform the content provider (Article 11(1)).",
        "D": "Section D: copy to the competent authority of the host Member State (Article 4)",
        "copy": "A copy is sent to the competent authority of the host Member State", "yes": "Yes", "no": "No",
        "E": "Section E: issuing authority", "authority_type": "Type of authority", "authority_name": "Name",
        "authority_contact": "Contact", "signatory": "Approved and signed by",
        "F": "Section F: follow-up contact", "G": "Section G: redress",
    },
    "fr": {
        "title": "Injonction de retrait (article 3 du règlement (UE) 2021/784)",
        "A": "Section A : État membre d'émission et destinataire", "issuing_member_state": "État membre d'émission",
        "addressee": "Fournisseur de services d'hébergement", "legal_representative": "Représentant légal",
        "contact_point": "Point de contact", "host_member_state": "État membre de l'établissement principal",
        "issued_at": "Date et heure d'émission", "reference": "Numéro de référence de l'injonction",
        "emergency": "Première injonction sans préavis de 12 heures (urgence, article 3, paragraphe 2)",
        "B": "Section B : contenus à retirer ou à bloquer et motivation", "urls": "URL exactes",
        "grounds": "Motifs (article 2, point 7)", "statement_of_reasons": "Exposé des motifs",
        "hour": "Retirez les contenus ou bloquez l'accès à ceux-ci dans tous les États membres dès que possible et, en "
                "tout état de cause, dans un délai d'une heure à compter de la réception (article 3, paragraphe 3).",
        "C": "Section C : information du fournisseur de contenus",
        "non_disclosure": "Ne pas informer le fournisseur de contenus avant le (article 11, paragraphe 3)",
        "disclose": "Aucune restriction : informez le fournisseur de contenus (article 11, paragraphe 1).",
        "D": "Section D : copie à l'autorité compétente de l'État membre d'accueil (article 4)",
        "copy": "Une copie est transmise à l'autorité compétente de l'État membre d'accueil", "yes": "Oui",
        "no": "Non",
        "E": "Section E : autorité d'émission", "authority_type": "Type d'autorité", "authority_name": "Nom",
        "authority_contact": "Contact", "signatory": "Approuvée et signée par",
        "F": "Section F : contact pour le suivi", "G": "Section G : voies de recours",
    },
}


def language_for(platform) -> str:
    """The first language the platform accepts orders in that the desk writes (English otherwise)."""
    legal = getattr(platform, "legal", None) if platform is not None else None
    try:
        accepted = legal.languages if legal is not None else []
    except AttributeError:
        accepted = []
    return next((code for code in accepted or [] if code in LANGUAGES), "en")


def sections(order, language: str = "en") -> list[tuple[str, list[tuple[str, str]]]]:
    """The Annex I form's sections: [(heading, [(label, text)])]."""
    t = LABELS[language if language in LABELS else "en"]
    grounds = GROUNDS[language if language in GROUNDS else "en"]
    issued = timezone.localtime(order.issued_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    a = [(t["issuing_member_state"], order.issuing_member_state), (t["addressee"], order.addressee),
         (t["legal_representative"], order.legal_representative or "-"),
         (t["contact_point"], order.contact_point or "-"), (t["host_member_state"], order.host_member_state or "-"),
         (t["issued_at"], issued), (t["reference"], order.reference)]
    if order.emergency:
        a.append((t["emergency"], order.emergency_reason))
    b = [(t["urls"], "\n".join(order.urls)), (t["grounds"], "\n".join(grounds.get(g, g) for g in order.grounds)),
         (t["statement_of_reasons"], order.statement_of_reasons), ("", t["hour"])]
    c = ([(t["non_disclosure"], order.non_disclosure_until.isoformat())] if order.non_disclosure
         else [("", t["disclose"])])
    d = [(t["copy"], t["yes"] if order.copy_to_host_authority else t["no"])]
    e = [(t["authority_type"], order.authority_type), (t["authority_name"], order.authority_name),
         (t["authority_contact"], order.authority_contact),
         (t["signatory"], order.signatory.get_username() if order.signatory_id else "-")]
    return [(t["A"], a), (t["B"], b), (t["C"], c), (t["D"], d), (t["E"], e), (t["F"], [("", order.follow_up_contact)]),
            (t["G"], [("", order.redress)])]


def answers(order) -> list[tuple[str, str]]:
    """What the platform answered and reported on the order (Annexes II and III; Art 4(3), 6, 10, 11), for its
    page: (what, when or value), only what is known."""

    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z") if value else None

    rows = [("Measure's territorial scope (Annex II)", order.territorial_scope.replace("_", " ")),
            ("Cannot execute (Annex III)", order.cannot_execute_reason.replace("_", " ")),
            ("Clock paused", f"{order.paused_reason.replace('_', ' ')} since {when(order.paused_at)}"
             if order.paused else ""),
            ("Force majeure ceased", when(order.grounds_ceased_at)),
            ("Scrutiny requested (Art 4(3))", when(order.scrutiny_requested_at)),
            ("Scrutiny decision (Art 4(4))", f"{order.scrutiny_decision.replace('_', ' ')}, "
                                             f"{when(order.scrutiny_decided_at)}" if order.scrutiny_decision else ""),
            ("Preserved until (Art 6)", order.preserved_until.isoformat() if order.preserved_until else ""),
            ("Content provider informed (Art 11)", when(order.provider_informed_at)),
            ("Complaint received (Art 10)", when(order.complaint_received_at)),
            ("Complaint decided", f"{order.complaint_outcome}, {when(order.complaint_decided_at)}"
             if order.complaint_outcome else ""),
            ("Content reinstated", when(order.reinstated_at))]
    return [(label, value) for label, value in rows if value]


def title(language: str) -> str:
    return LABELS[language if language in LABELS else "en"]["title"]


def _latin1(text: str) -> str:
    """The PDF's core font writes Latin-1: other characters are written as their escapes (URLs stay exact)."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")


def render_pdf(order, language: str = "en") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"{title(language)} {order.reference}"))
    pdf.set_author(_latin1(order.authority_name))
    pdf.set_creator(_latin1(f"{settings.UNIT_REFERENCE_PREFIX} referral desk"))
    pdf.add_page()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(title(language)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, _latin1(order.reference), new_x="LMARGIN", new_y="NEXT")
    for heading, rows in sections(order, language):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        for label, text in rows:
            if label:
                pdf.set_font("Helvetica", "B", 9)
                pdf.multi_cell(0, 5, _latin1(label), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 9)
            pdf.multi_cell(0, 5, _latin1(text or "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
