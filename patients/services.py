"""Writes of patient records: validate, save, audit — one transaction."""

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import deletion_details, model_changes, record_event
from treatments.services import refresh_trd_summary

from .models import Patient

PATIENT_FIELDS = (
    "identifier", "date_of_birth", "episode_start", "baseline_severity", "suicide_risk_flag",
    "notes",
)


def patient_state(patient: Patient) -> dict:
    return {field: getattr(patient, field) for field in PATIENT_FIELDS}


@transaction.atomic
def patient_create(*, user, practice, patient: Patient, ip=None) -> Patient:
    patient.practice = practice
    patient.full_clean(validate_constraints=False)
    patient.save()
    record_event(
        actor=user, practice_id=practice.pk, action=Action.CREATE, obj=patient,
        patient_id=patient.pk, ip=ip, details={"changes": model_changes({}, patient_state(patient))},
    )
    refresh_trd_summary(patient)
    return patient


@transaction.atomic
def patient_update(*, user, patient: Patient, before: dict, ip=None) -> Patient:
    patient.full_clean(validate_constraints=False)
    patient.save()
    changes = model_changes(before, patient_state(patient))
    if changes:
        record_event(
            actor=user, practice_id=patient.practice_id, action=Action.UPDATE, obj=patient,
            patient_id=patient.pk, ip=ip, details={"changes": changes},
        )
    if "episode_start" in changes:
        refresh_trd_summary(patient)
    return patient


@transaction.atomic
def patient_delete(*, user, patient: Patient, ip=None) -> None:
    patient.deleted_at = timezone.now()
    patient.save(update_fields=["deleted_at", "updated_at"])
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.DELETE, obj=patient,
        patient_id=patient.pk, ip=ip,
        details=deletion_details(patient_state(patient), patient.deleted_at),
    )
