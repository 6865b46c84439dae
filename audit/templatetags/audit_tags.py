"""Reading the change history: field names and stored values in plain words."""

from django import template

register = template.Library()

CODED_FIELDS = {"adherence", "outcome", "kind"}


@register.filter
def field_label(name: str) -> str:
    return {"dose_mg": "starting dose (mg/day)"}.get(name, name.replace("_", " "))


@register.simple_tag
def change_value(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    if field == "dose_changes" and isinstance(value, list):
        return "; ".join(f"{dose} mg/day from {day}" for day, dose in value) or "—"
    if field in CODED_FIELDS:
        return str(value).replace("_", " ")
    return str(value)
