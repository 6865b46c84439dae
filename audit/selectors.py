"""Reads of the audit trail: the filters the auditor page, the API and the audit export share."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from patients.models import Patient


def filter_events(
    events,
    practice_id: int,
    *,
    patient: int | None = None,
    identifier: str = "",
    actor: str = "",
    action: str = "",
    since: date | None = None,
    until: date | None = None,
):
    """`events` narrowed by the filters given (the others are ignored). A patient (by id or
    record number within the practice) matches the events about them and the list reads and
    exports that included them; `until` is inclusive."""
    patient_ids = named_patient_ids(practice_id, patient, identifier)
    if patient_ids is not None:
        events = events.about_patients(patient_ids)
    if actor:
        events = events.filter(actor=actor.strip())
    if action:
        events = events.filter(action=action)
    if since:
        events = events.filter(timestamp__gte=_start_of(since))
    if until:
        events = events.filter(timestamp__lt=_start_of(until + timedelta(days=1)))
    return events


def named_patient_ids(practice_id: int, patient: int | None, identifier: str) -> list[int] | None:
    """The patients the filters name, or None when they name none. A record number is looked
    up within the practice (removed patients too)."""
    ids = [patient] if patient else None
    if identifier:
        named = Patient.objects.filter(
            practice_id=practice_id, identifier=identifier.strip()
        ).values_list("pk", flat=True)
        ids = [pk for pk in named if ids is None or pk in ids]
    return ids


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
