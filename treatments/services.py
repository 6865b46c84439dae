"""Writes of clinical records: validate, save, refresh the TRD summary, audit — one transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit.models import Action
from audit.services import deletion_details, model_changes, record_event
from trdtracker.validators import today

from . import scales
from .models import DoseChange, ScaleScore, Therapy, Trial, validate_dose_changes
from .selectors import active_trials, evaluate_patient_trials

TRIAL_FIELDS = ("drug", "start_date", "end_date", "dose_mg", "adherence", "outcome",
                "reason_stopped", "notes")
THERAPY_FIELDS = ("kind", "detail", "start_date", "end_date", "outcome", "notes")
SCORE_FIELDS = ("scale", "date", "total")


def _snapshot(instance, fields) -> dict:
    return {field: getattr(instance, field) for field in fields}


def _trial_snapshot(trial: Trial, changes) -> dict:
    state = _snapshot(trial, TRIAL_FIELDS)
    state["drug"] = trial.drug.name if trial.drug_id else None
    state["dose_changes"] = [[c.date, c.dose_mg] for c in changes]
    return state


def _check_dose_changes(trial: Trial, changes: list[tuple]) -> None:
    errors = validate_dose_changes(trial, changes)
    if errors:
        raise ValidationError({"dose_changes": [errors[i] for i in sorted(errors)]})


def _save_dose_changes(trial: Trial, changes: list[tuple]) -> list[DoseChange]:
    trial.dose_changes.all().delete()
    return DoseChange.objects.bulk_create(
        [DoseChange(trial=trial, date=date, dose_mg=dose) for date, dose in sorted(changes)]
    )


@transaction.atomic
def trial_create(*, user, patient, trial: Trial, dose_changes: list[tuple], ip=None) -> Trial:
    trial.patient = patient
    trial.full_clean()
    _check_dose_changes(trial, dose_changes)
    trial.save()
    saved_changes = _save_dose_changes(trial, dose_changes)
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.CREATE, obj=trial,
        patient_id=patient.pk, ip=ip,
        details={"changes": model_changes({}, _trial_snapshot(trial, saved_changes))},
    )
    refresh_trd_summary(patient)
    return trial


@transaction.atomic
def trial_update(*, user, trial: Trial, before: dict, dose_changes: list[tuple], ip=None) -> Trial:
    """Save `trial` (already modified in memory); `before` is `trial_state(trial)` from before."""
    trial.full_clean()
    _check_dose_changes(trial, dose_changes)
    trial.save()
    saved_changes = _save_dose_changes(trial, dose_changes)
    changes = model_changes(before, _trial_snapshot(trial, saved_changes))
    if changes:
        record_event(
            actor=user, practice_id=trial.patient.practice_id, action=Action.UPDATE, obj=trial,
            patient_id=trial.patient_id, ip=ip, details={"changes": changes},
        )
    refresh_trd_summary(trial.patient)
    return trial


def trial_state(trial: Trial) -> dict:
    return _trial_snapshot(trial, list(trial.dose_changes.all()))


@transaction.atomic
def trial_delete(*, user, trial: Trial, ip=None) -> None:
    trial.deleted_at = timezone.now()
    trial.save(update_fields=["deleted_at", "updated_at"])
    record_event(
        actor=user, practice_id=trial.patient.practice_id, action=Action.DELETE, obj=trial,
        patient_id=trial.patient_id, ip=ip,
        details=deletion_details(trial_state(trial), trial.deleted_at),
    )
    refresh_trd_summary(trial.patient)


@transaction.atomic
def therapy_create(*, user, patient, therapy: Therapy, ip=None) -> Therapy:
    therapy.patient = patient
    therapy.full_clean()
    therapy.save()
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.CREATE, obj=therapy,
        patient_id=patient.pk, ip=ip,
        details={"changes": model_changes({}, _snapshot(therapy, THERAPY_FIELDS))},
    )
    return therapy


def therapy_state(therapy: Therapy) -> dict:
    return _snapshot(therapy, THERAPY_FIELDS)


@transaction.atomic
def therapy_update(*, user, therapy: Therapy, before: dict, ip=None) -> Therapy:
    therapy.full_clean()
    therapy.save()
    changes = model_changes(before, therapy_state(therapy))
    if changes:
        record_event(
            actor=user, practice_id=therapy.patient.practice_id, action=Action.UPDATE,
            obj=therapy, patient_id=therapy.patient_id, ip=ip, details={"changes": changes},
        )
    return therapy


@transaction.atomic
def therapy_delete(*, user, therapy: Therapy, ip=None) -> None:
    therapy.deleted_at = timezone.now()
    therapy.save(update_fields=["deleted_at", "updated_at"])
    record_event(
        actor=user, practice_id=therapy.patient.practice_id, action=Action.DELETE, obj=therapy,
        patient_id=therapy.patient_id, ip=ip,
        details=deletion_details(therapy_state(therapy), therapy.deleted_at),
    )


@transaction.atomic
def score_create(*, user, patient, score: ScaleScore, ip=None) -> ScaleScore:
    """Record a rating-scale score; a PHQ-9 without a total gets the sum of its items."""
    score.patient = patient
    score.items = list(score.items or [])
    if score.total is None and score.items and not scales.validate(score.scale, None, score.items):
        score.total = sum(score.items)
    score.full_clean()
    score.save()
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.CREATE, obj=score,
        patient_id=patient.pk, ip=ip,
        details={"changes": model_changes({}, score_state(score))},
    )
    return score


def score_state(score: ScaleScore) -> dict:
    # "item_scores", not "items": templates would read changes.items as the dict method.
    return {**_snapshot(score, SCORE_FIELDS), "item_scores": list(score.items or [])}


def refresh_trd_summary(patient) -> None:
    """Store the patient's TRD evaluation as of today, for lists and counts."""
    refresh_trd_summaries([patient])


def refresh_trd_summaries(patients) -> None:
    patients = list(patients)
    if not patients:
        return
    by_patient = {p.pk: [] for p in patients}
    for trial in active_trials(list(by_patient)):
        by_patient[trial.patient_id].append(trial)
    as_of = today()
    for patient in patients:
        evaluation = evaluate_patient_trials(patient, by_patient[patient.pk], as_of)
        patient.trd_meets = evaluation.meets_trd
        patient.trd_failed_count = evaluation.failed_adequate_trial_count
        patient.trd_evaluated_on = as_of
    type(patients[0]).objects.bulk_update(
        patients, ["trd_meets", "trd_failed_count", "trd_evaluated_on"]
    )


def refresh_stale_trd_summaries(patients_queryset) -> int:
    """Re-evaluate patients whose stored summary may have changed since it was computed.

    Only open trials change with the passing days, so a summary is stale when it was
    never computed, or was computed before today for a patient with an open trial.
    """
    open_trial = Trial.objects.active().filter(patient=OuterRef("pk"), end_date__isnull=True)
    stale = list(
        patients_queryset.filter(
            Q(trd_evaluated_on__isnull=True)
            | (Q(trd_evaluated_on__lt=today()) & Exists(open_trial))
        )
    )
    refresh_trd_summaries(stale)
    return len(stale)


def refresh_practice_trd_summaries(practice_id: int | None = None) -> dict:
    """Refresh stale summaries (of one practice, or all) and report the resulting counts."""
    from patients.models import Patient

    patients = Patient.objects.active()
    if practice_id is not None:
        patients = patients.filter(practice_id=practice_id)
    refreshed = refresh_stale_trd_summaries(patients)
    return {
        "refreshed": refreshed,
        "patients": patients.count(),
        "meeting_trd": patients.filter(trd_meets=True).count(),
    }
