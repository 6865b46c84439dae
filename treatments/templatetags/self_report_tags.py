from django import template

from treatments import self_report

register = template.Library()


@register.inclusion_tag("treatments/_self_report_card.html", takes_context=True)
def self_report_card(context):
    """The patient page's self-report card: the patient's open links (no token: none is kept).
    The page's view has opened the patient scope; this only lists what belongs to its patient."""
    patient = context["patient"]
    return {
        "patient": patient,
        "links": list(self_report.open_links(patient)),
        "can_edit": context.get("can_edit", False),
        "csrf_token": context.get("csrf_token"),
    }
