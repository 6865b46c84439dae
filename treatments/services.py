"""Writes of clinical records: validate, save, refresh the TRD summary, audit — one transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit.models import Action
from audit.services import deletion_details, model_changes, record_event
from patients.versioning import lock
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


def _trial_snapshot(trial: Trial, dose_pairs) -> dict:
    state = _snapshot(trial, TRIAL_FIELDS)
    state["drug"] = trial.drug.name if trial.drug_id else None
    state["dose_changes"] = [[date, dose] for date, dose in dose_pairs]
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


def _dose_pairs(trial: Trial) -> list[tuple]:
    return [(c.date, c.dose_mg) for c in trial.dose_changes.order_by("date")]


def _lock_patient(patient_id: int):
    """The patient row, locked: every change to a patient's history re-evaluates the stored
    TRD summary under this lock, so concurrent changes cannot leave it wrong."""
    from patients.models import Patient

    return lock(Patient.objects.all(), patient_id)


@transaction.atomic
def trial_create(*, user, patient, trial: Trial, dose_changes: list[tuple], ip=None) -> Trial:
    patient = _lock_patient(patient.pk)
    trial.patient = patient
    trial.full_clean()
    _check_dose_changes(trial, dose_changes)
    trial.save()
    _save_dose_changes(trial, dose_changes)
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.CREATE, obj=trial,
        patient_id=patient.pk, ip=ip,
        details={"changes": model_changes({}, _trial_snapshot(trial, sorted(dose_changes)))},
    )
    refresh_trd_summary(patient)
    return trial


@transaction.atomic
def trial_update(*, user, trial: Trial, changes: dict, dose_changes: list[tuple] | None = None,
                 if_match: set[int] | None = None, ip=None) -> Trial:
    """Apply `changes` (field → value) and, when given, the new dose changes to the trial's
    current row, locked; StaleVersion when `if_match` names another version. An update event
    and a new version only for a change that is stored."""
    patient = _lock_patient(trial.patient_id)
    trial = lock(Trial.objects.active().select_related("drug"), trial.pk, if_match)
    trial.patient = patient
    before_doses = _dose_pairs(trial)
    before = _trial_snapshot(trial, before_doses)
    for field, value in changes.items():
        setattr(trial, field, value)
    doses = before_doses if dose_changes is None else sorted(dose_changes)
    trial.full_clean()
    _check_dose_changes(trial, doses)
    diff = model_changes(before, _trial_snapshot(trial, doses))
    if not diff:
        return trial
    trial.version += 1
    trial.save()
    if doses != before_doses:
        _save_dose_changes(trial, doses)
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.UPDATE, obj=trial,
        patient_id=patient.pk, ip=ip, details={"changes": diff},
    )
    refresh_trd_summary(patient)
    return trial


def trial_state(trial: Trial) -> dict:
    return _trial_snapshot(trial, _dose_pairs(trial))


@transaction.atomic
def trial_delete(*, user, trial: Trial, if_match: set[int] | None = None, ip=None) -> None:
    patient = _lock_patient(trial.patient_id)
    trial = lock(Trial.objects.active().select_related("drug"), trial.pk, if_match)
    trial.deleted_at = timezone.now()
    trial.version += 1
    trial.save(update_fields=["deleted_at", "updated_at", "version"])
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.DELETE, obj=trial,
        patient_id=patient.pk, ip=ip,
        details=deletion_details(trial_state(trial), trial.deleted_at),
    )
    refresh_trd_summary(patient)


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
def therapy_update(*, user, therapy: Therapy, changes: dict, if_match: set[int] | None = None,
                   ip=None) -> Therapy:
    """As trial_update: the current row, locked; an event and a new version only on a change."""
    patient = therapy.patient
    therapy = lock(Therapy.objects.active(), therapy.pk, if_match)
    therapy.patient = patient
    before = therapy_state(therapy)
    for field, value in changes.items():
        setattr(therapy, field, value)
    therapy.full_clean()
    diff = model_changes(before, therapy_state(therapy))
    if not diff:
        return therapy
    therapy.version += 1
    therapy.save()
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.UPDATE, obj=therapy,
        patient_id=patient.pk, ip=ip, details={"changes": diff},
    )
    return therapy


@transaction.atomic
def therapy_delete(*, user, therapy: Therapy, if_match: set[int] | None = None, ip=None) -> None:
    patient = therapy.patient
    therapy = lock(Therapy.objects.active(), therapy.pk, if_match)
    therapy.deleted_at = timezone.now()
    therapy.version += 1
    therapy.save(update_fields=["deleted_at", "updated_at", "version"])
    record_event(
        actor=user, practice_id=patient.practice_id, action=Action.DELETE, obj=therapy,
        patient_id=patient.pk, ip=ip,
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
