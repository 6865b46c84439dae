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


ACTION_WORDS = {
    "view": "Viewed",
    "create": "Added",
    "update": "Changed",
    "delete": "Removed",
    "login": "Signed in",
    "logout": "Signed out",
    "login_failed": "Sign-in failed",
    "lockout": "Locked out",
    "account_change": "Account change",
    "export": "Export",
}
RECORD_WORDS = {
    "patient": "the patient's record",
    "trial": "a trial",
    "therapy": "a therapy",
    "scalescore": "a rating-scale score",
    "exportjob": "an export",
    "membership": "an account",
    "user": "an account",
    "invitation": "an invitation",
    "practice": "the practice settings",
}


@register.filter
def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " "))


@register.simple_tag
def event_summary(event) -> str:
    """One line saying what an audit event records, without dict reprs or internal ids."""
    details = event.details or {}
    where = details.get("page") or details.get("api")
    if event.action == "view":
        if details.get("patients"):
            return f"Listed {details['patients']} patient(s) ({_where(where)})"
        shown = RECORD_WORDS.get(event.object_type, "the record")
        return f"Opened {shown}" + (f" ({_where(where)})" if where else "")
    if event.action == "export":
        kind = str(details.get("kind", "")).replace("_", " ")
        step = details.get("event")
        if step == "contents":
            return f"The {kind} export contained {details.get('patients', 0)} patient(s)"
        return f"{str(step or 'export').capitalize()} a {kind} export".strip()
    changes = details.get("changes")
    if isinstance(changes, dict) and changes:
        return "; ".join(
            f"{field_label(field)}: {change_value(field, values[0])} → "
            f"{change_value(field, values[1])}"
            for field, values in changes.items()
            if isinstance(values, list | tuple) and len(values) == 2
        )
    return "; ".join(
        f"{field_label(str(key))}: {change_value(str(key), value)}"
        for key, value in details.items()
        if not isinstance(value, dict | list)
    )


def _where(name) -> str:
    return str(name or "").replace("-", " ").replace("_", " ")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
