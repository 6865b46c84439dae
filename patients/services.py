"""Writes of patient records: validate, save, audit — one transaction."""

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import (
    clean_deletion_reason,
    deletion_details,
    model_changes,
    record_event,
)
from treatments.services import refresh_trd_summary

from . import episodes, trd_history
from .models import Patient
from .trd_history import Cause
from .versioning import lock

PATIENT_FIELDS = (
    "identifier",
    "date_of_birth",
    "episode_start",
    "diagnosis",
    "psychotic_features",
    "baseline_severity",
    "suicide_risk_flag",
    "self_report_every_weeks",
    "notes",
)
# Changes that alter what the TRD rule concludes (the stored summary is re-evaluated).
TRD_FIELDS = {"episode_start", "diagnosis"}


def patient_state(patient: Patient) -> dict:
    return {field: getattr(patient, field) for field in PATIENT_FIELDS}


@transaction.atomic
def patient_create(*, scope, patient: Patient) -> Patient:
    """Add a patient to the scope's practice (accounts.access.PracticeScope)."""
    practice = scope.practice
    patient.practice = practice
    patient.full_clean(validate_constraints=False)
    patient.save()
    record_event(
        actor=scope.user,
        practice_id=practice.pk,
        action=Action.CREATE,
        obj=patient,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": model_changes({}, patient_state(patient))},
    )
    if patient.episode_start:
        episodes.set_current_onset(scope=scope, patient=patient, onset=patient.episode_start)
    refresh_trd_summary(
        patient,
        Cause(scope.user, "patient", patient.pk, "create", trd_history.describe(None, "create")),
    )
    return patient


@transaction.atomic
def patient_update(*, scope, changes: dict, if_match: set[int] | None = None) -> Patient:
    """Apply `changes` (field → value) to the patient's current row, locked; StaleVersion when
    `if_match` names another version. An event and a new version only for a stored change."""
    patient = lock(Patient.objects.active(), scope.patient.pk, if_match)
    before = patient_state(patient)
    for field, value in changes.items():
        setattr(patient, field, value)
    patient.full_clean(validate_constraints=False)
    diff = model_changes(before, patient_state(patient))
    if not diff:
        return patient
    patient.version += 1
    patient.save()
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.UPDATE,
        obj=patient,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": diff},
    )
    if "episode_start" in diff:
        episodes.set_current_onset(scope=scope, patient=patient, onset=patient.episode_start)
    if TRD_FIELDS & set(diff):
        trd_diff = {field: diff[field] for field in diff if field in TRD_FIELDS}
        refresh_trd_summary(
            patient,
            Cause(
                scope.user,
                "patient",
                patient.pk,
                "update",
                trd_history.describe(None, "update", trd_diff),
            ),
        )
    return patient


@transaction.atomic
def patient_delete(*, scope, reason: str, if_match: set[int] | None = None) -> None:
    reason = clean_deletion_reason(reason)
    patient = lock(Patient.objects.active(), scope.patient.pk, if_match)
    patient.deleted_at = timezone.now()
    patient.version += 1
    patient.save(update_fields=["deleted_at", "updated_at", "version"])
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.DELETE,
        obj=patient,
        patient_id=patient.pk,
        ip=scope.ip,
        details=deletion_details(patient_state(patient), patient.deleted_at, reason),
    )
