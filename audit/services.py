"""Writing audit events. Called inside the transaction of the change it records."""

import ipaddress
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import Action, AuditEvent, AuditEventPatient

LINK_BATCH = 5000
ACTOR_LENGTH = AuditEvent._meta.get_field("actor").max_length


def client_ip(request) -> str | None:
    """The client's address: the socket's, or with TRUSTED_PROXY the address our proxy saw
    (the last X-Forwarded-For entry; earlier ones are whatever the client claimed)."""
    if request is None:
        return None
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    *,
    actor,
    practice_id: int | None,
    action: Action,
    obj=None,
    patient_id: int | None = None,
    details: dict | None = None,
    ip: str | None = None,
    patients=None,
) -> AuditEvent:
    """One event; `patients` (ids) are the patients a list read or an export included."""
    event = AuditEvent.objects.create(
        # A sign-in attempt can name any string; the trail keeps the first 150 characters.
        actor=getattr(actor, "username", actor or "")[:ACTOR_LENGTH],
        practice_id=practice_id,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=patient_id,
        details=details or {},
        ip=ip,
    )
    if patients:
        AuditEventPatient.objects.bulk_create(
            (AuditEventPatient(event=event, patient_id=pk) for pk in sorted(set(patients))),
            batch_size=LINK_BATCH,
        )
    return event


def model_changes(before: dict, after: dict) -> dict:
    """The fields whose value differs, as {field: [old, new]} with JSON-safe values."""
    return {
        field: [_or_none(before.get(field)), _or_none(value)]
        for field, value in after.items()
        if _or_none(before.get(field)) != _or_none(value)
    }


def _or_none(value):
    """JSON-safe, with empty text and empty lists read as "no value"."""
    value = json_safe(value)
    return None if value in ("", []) else value


DELETION_REASON_MAX_LENGTH = 500


def clean_deletion_reason(reason) -> str:
    """Every removal of a clinical record says why (kept in its audit event): the one check,
    used by the services, the web forms and the API. Raises ValidationError on `reason`."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": ["Say why this record is removed."]})
    reason = reason.strip()
    if len(reason) > DELETION_REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": [f"Keep the reason to {DELETION_REASON_MAX_LENGTH} characters or fewer."]}
        )
    if "\x00" in reason:
        raise ValidationError({"reason": ["Null characters are not allowed."]})
    return reason


def deletion_details(record_state: dict, deleted_at, reason: str) -> dict:
    """What a (soft) delete event keeps: the change to deleted_at, the record as it was, and
    why (already checked by clean_deletion_reason)."""
    return {
        "changes": {"deleted_at": [None, json_safe(deleted_at)]},
        "record": json_safe(record_state),
        "reason": reason,
    }


def json_safe(value):
    """A value as it should read in the audit trail: dates ISO, decimals without padding."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
