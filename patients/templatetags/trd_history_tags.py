"""The TRD banner's history: since when the patient meets TRD, after which change, and the
collapsible list of every recorded status change (patients.trd_history)."""

from django import template

from patients.trd_history import met_since

register = template.Library()


@register.inclusion_tag("patients/_trd_history.html")
def trd_status_history(patient, meets_now: bool):
    """`patient` comes from the page's patient scope (the read is already checked and
    audited); `meets_now` is the banner's evaluation today."""
    changes = list(patient.trd_changes.order_by("changed_at", "id"))
    return {"changes": changes, "since": met_since(changes) if meets_now else None}
