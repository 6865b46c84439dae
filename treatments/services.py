"""Writes of clinical records: validate, save, refresh the TRD summary, audit — one transaction."""

import json

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import (
    clean_deletion_reason,
    deletion_details,
    model_changes,
    record_event,
)
from core.dates import today
from patients import trd_history
from patients.trd_history import Cause
from patients.versioning import lock

from . import diagnosis, measured, trd, trial_figures
from .models import (
    Discussion,
    DoseChange,
    ScaleScore,
    Therapy,
    Trial,
    validate_dose_changes,
)
from .selectors import (
    FACT_COLUMNS,
    DrugFactsByForm,
    active_scores,
    facts_from_values,
    in_batches,
)

TRIAL_FIELDS = (
    "drug",
    "formulation",
    "start_date",
    "end_date",
    "dose_mg",
    "adherence",
    "outcome",
    "reason_stopped",
    "notes",
)
THERAPY_FIELDS = (
    "kind",
    "detail",
    "start_date",
    "end_date",
    "outcome",
    "ect_placement",
    "ect_sessions",
    "notes",
)
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


def _trials_of(patient):
    return Trial.objects.active().filter(patient=patient).select_related("drug")


def _save_changes(*, scope, patient, record, changes: dict, state, complete=None):
    """Apply `changes` to the locked `record`, validate, and store a new version with its
    update event, only when something changed. `complete` fills derived fields first."""
    before = state(record)
    for field, value in changes.items():
        setattr(record, field, value)
    if complete is not None:
        complete(record, changes)
    record.full_clean()
    diff = model_changes(before, state(record))
    if not diff:
        return record
    record.version += 1
    record.save()
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.UPDATE,
        obj=record,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": diff},
    )
    return record


def _remove(*, scope, patient, record, state, reason: str) -> None:
    """Soft-delete the locked `record`; its delete event keeps it as it was and why."""
    record.deleted_at = timezone.now()
    record.version += 1
    record.save(
        update_fields=[f for f in ("deleted_at", "updated_at", "version") if hasattr(record, f)]
    )
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.DELETE,
        obj=record,
        patient_id=patient.pk,
        ip=scope.ip,
        details=deletion_details(state(record), record.deleted_at, reason),
    )


def _trial_cause(scope, trial: Trial, action: str, diff: dict | None = None) -> Cause:
    """The trial write, for the TRD status history: "venlafaxine's outcome was set to ..."."""
    return Cause(
        scope.user,
        "trial",
        trial.pk,
        action,
        trd_history.describe(trd_history.trial_name(trial), action, diff),
    )


@transaction.atomic
def trial_create(*, scope, trial: Trial, dose_changes: list[tuple]) -> Trial:
    """Add a trial to the scope's patient (patients.scope.PatientScope: who, where from)."""
    patient = _lock_patient(scope.patient.pk)
    trial.patient = patient
    trial.practice_id = patient.practice_id  # a patient never changes practice
    trial.full_clean()
    _check_dose_changes(trial, dose_changes)
    trial.save()
    _save_dose_changes(trial, dose_changes)
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.CREATE,
        obj=trial,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": model_changes({}, _trial_snapshot(trial, sorted(dose_changes)))},
    )
    refresh_trd_summary(patient, _trial_cause(scope, trial, "create"))
    return trial


@transaction.atomic
def trial_update(
    *,
    scope,
    trial: Trial,
    changes: dict,
    dose_changes: list[tuple] | None = None,
    if_match: set[int] | None = None,
) -> Trial:
    """Apply `changes` (field → value) and, when given, the new dose changes to the trial's
    current row, locked; StaleVersion when `if_match` names another version. An update event
    and a new version only for a change that is stored."""
    patient = _lock_patient(scope.patient.pk)
    trial = lock(_trials_of(patient), trial.pk, if_match)
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
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.UPDATE,
        obj=trial,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": diff},
    )
    refresh_trd_summary(patient, _trial_cause(scope, trial, "update", diff))
    return trial


class OutcomeNotAdoptable(Exception):
    """The trial cannot take its measured outcome; the message says why, for the user."""


def measured_outcome_to_adopt(trial: Trial, scores) -> measured.MeasuredOutcome:
    """The measured outcome that would replace `trial`'s recorded one, from the patient's
    `scores` as of today; OutcomeNotAdoptable while the trial is ongoing, when the scores give
    no measured outcome, or when the recorded outcome already is it."""
    result = measured.measured_outcome(
        scores, start=trial.start_date, end=trial.end_date, as_of=today()
    )
    if not trial.has_ended:
        raise OutcomeNotAdoptable(
            "The trial is ongoing: its outcome is recorded once it has ended."
        )
    if result is None:
        raise OutcomeNotAdoptable("The scores do not give a measured outcome for this trial.")
    if result.outcome == trial.outcome:
        raise OutcomeNotAdoptable("The recorded outcome already is the measured one.")
    return result


@transaction.atomic
def trial_adopt_measured_outcome(
    *, scope, trial: Trial, expected_version: int | None = None
) -> tuple[Trial, measured.MeasuredOutcome]:
    """Set an ended trial's recorded outcome to the one its scores show (the clinician has
    seen both), its dose changes kept: the trial and the scores are read again under the
    patient's lock. OutcomeNotAdoptable first (see measured_outcome_to_adopt), then
    StaleVersion when `expected_version` is not the trial's; the update event, the new
    version and the summary refresh are trial_update's."""
    patient = _lock_patient(scope.patient.pk)
    current = lock(_trials_of(patient), trial.pk)
    current.patient = patient
    result = measured_outcome_to_adopt(current, active_scores(patient))
    trial = trial_update(
        scope=scope,
        trial=current,
        changes={"outcome": result.outcome},
        if_match=None if expected_version is None else {expected_version},
    )
    return trial, result


def trial_state(trial: Trial) -> dict:
    return _trial_snapshot(trial, _dose_pairs(trial))


@transaction.atomic
def trial_delete(*, scope, trial: Trial, reason: str, if_match: set[int] | None = None) -> None:
    reason = clean_deletion_reason(reason)
    patient = _lock_patient(scope.patient.pk)
    trial = lock(_trials_of(patient), trial.pk, if_match)
    _remove(scope=scope, patient=patient, record=trial, state=trial_state, reason=reason)
    refresh_trd_summary(patient, _trial_cause(scope, trial, "delete"))


@transaction.atomic
def therapy_create(*, scope, therapy: Therapy) -> Therapy:
    patient = scope.patient
    therapy.patient = patient
    therapy.full_clean()
    therapy.save()
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.CREATE,
        obj=therapy,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": model_changes({}, _snapshot(therapy, THERAPY_FIELDS))},
    )
    return therapy


def therapy_state(therapy: Therapy) -> dict:
    return _snapshot(therapy, THERAPY_FIELDS)


@transaction.atomic
def therapy_update(
    *, scope, therapy: Therapy, changes: dict, if_match: set[int] | None = None
) -> Therapy:
    """As trial_update: the current row, locked; an event and a new version only on a change."""
    patient = scope.patient
    therapy = lock(Therapy.objects.active().filter(patient=patient), therapy.pk, if_match)
    therapy.patient = patient
    return _save_changes(
        scope=scope, patient=patient, record=therapy, changes=changes, state=therapy_state
    )


@transaction.atomic
def therapy_delete(
    *, scope, therapy: Therapy, reason: str, if_match: set[int] | None = None
) -> None:
    reason = clean_deletion_reason(reason)
    patient = scope.patient
    therapy = lock(Therapy.objects.active().filter(patient=patient), therapy.pk, if_match)
    _remove(scope=scope, patient=patient, record=therapy, state=therapy_state, reason=reason)


@transaction.atomic
def score_create(*, scope, score: ScaleScore) -> ScaleScore:
    """Record a rating-scale score; a PHQ-9 without a total gets the sum of its items (the
    model's rule, ScaleScore.clean)."""
    patient = scope.patient
    score.patient = patient
    score.full_clean()
    score.save()
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.CREATE,
        obj=score,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": model_changes({}, score_state(score))},
    )
    return score


def score_state(score: ScaleScore) -> dict:
    # "item_scores", not "items": templates would read changes.items as the dict method.
    return {**_snapshot(score, SCORE_FIELDS), "item_scores": list(score.items or [])}


@transaction.atomic
def score_update(
    *, scope, score: ScaleScore, changes: dict, if_match: set[int] | None = None
) -> ScaleScore:
    """Correct a score (as trial_update: the current row, locked; an event and a new version
    only on a change). New PHQ-9 items without a total get their sum as the total."""
    patient = _lock_patient(scope.patient.pk)
    score = lock(ScaleScore.objects.active().filter(patient=patient), score.pk, if_match)
    score.patient = patient

    return _save_changes(
        scope=scope,
        patient=patient,
        record=score,
        changes=changes,
        state=score_state,
        complete=lambda record, changes: record.correct(changes),
    )


@transaction.atomic
def score_delete(
    *, scope, score: ScaleScore, reason: str, if_match: set[int] | None = None
) -> None:
    reason = clean_deletion_reason(reason)
    patient = _lock_patient(scope.patient.pk)
    score = lock(ScaleScore.objects.active().filter(patient=patient), score.pk, if_match)
    _remove(scope=scope, patient=patient, record=score, state=score_state, reason=reason)


SUMMARY_FIELDS = ["trd_evaluated_on", "trd_count_steps", "trd_one_failed_on", "trd_meets_on"]
FIGURE_FIELDS = list(trial_figures.TrialFigures._fields)
# Patients per round of the set-wise refresh: bounds every IN list and VALUES list.
SUMMARY_BATCH = 1000
_TRIAL_COLUMNS = (*FACT_COLUMNS, "patient_id", "version", *FIGURE_FIELDS)


def _summary_from(patient, since, steps) -> dict:
    # Outside the definition (bipolar depression, another diagnosis) nothing counts toward it.
    if diagnosis.not_applicable_reason(patient.diagnosis):
        steps = []
    return {
        "trd_evaluated_on": since,
        "trd_count_steps": trd.steps_to_stored(steps),
        "trd_one_failed_on": trd.first_day_with(steps, 1),
        "trd_meets_on": trd.first_day_with(steps, trd.MIN_FAILED_TRIALS),
    }


def _drug_facts() -> DrugFactsByForm:
    return DrugFactsByForm()


def _trials_by_patient(patient_ids, drugs) -> dict[int, list[tuple]]:
    """Each patient's active trials as (facts, version, stored figures) tuples: two queries
    (the trials, their dose changes), no model instances."""
    by_patient = {pk: [] for pk in patient_ids}
    rows = list(
        Trial.objects.active()
        .filter(patient_id__in=list(by_patient))
        .order_by("start_date", "id")
        .values_list(*_TRIAL_COLUMNS)
    )
    changes: dict[int, list] = {}
    # By trial id (the index of one_dose_change_per_day): a join on the patients let the
    # planner scan every dose change of the database for each batch.
    for trial_id, day, dose in (
        DoseChange.objects.filter(trial_id__in=[row[0] for row in rows])
        .order_by("trial_id", "date")
        .values_list("trial_id", "date", "dose_mg")
    ):
        changes.setdefault(trial_id, []).append(trd.DoseChange(date=day, dose_mg=dose))
    facts_end = len(FACT_COLUMNS)
    for row in rows:
        facts = facts_from_values(row[:facts_end], tuple(changes.get(row[0], ())), drugs)
        patient_id, version, *stored = row[facts_end:]
        by_patient[patient_id].append((facts, version, tuple(stored)))
    return by_patient


def _evaluate(patient, trials, as_of, figure_rows: list) -> dict:
    """The patient's fresh summary; (id, version, *figures) of each trial whose stored figures
    differ go to `figure_rows`. One cut of each trial's doses serves both."""
    counting = []
    for facts, version, stored in trials:
        fresh, counts_from = trial_figures.evaluate(facts, patient.episode_start)
        if fresh != stored:
            figure_rows.append((facts.id, version, *fresh))
        counting.append((facts.drug.name, counts_from))
    return _summary_from(patient, as_of, trial_figures.steps_from(counting, since=as_of))


def _write_figures(rows, *, if_version: bool) -> None:
    """Store the trials' figures; with `if_version`, only where the trial is still the version
    that was read (the nightly check runs without the patients' locks)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        by_version = {}
        for pk, version, *fresh in rows:
            by_version.setdefault(version if if_version else None, []).append(
                Trial(pk=pk, **dict(zip(FIGURE_FIELDS, fresh, strict=True)))
            )
        for version, trials in by_version.items():
            queryset = Trial.objects.all()
            if version is not None:
                queryset = queryset.filter(version=version)
            queryset.bulk_update(trials, FIGURE_FIELDS, batch_size=500)
        return
    match = ("id", "version") if if_version else ("id",)
    _update_from_values(
        Trial._meta.db_table,
        dict(zip(FIGURE_FIELDS, ("integer", "date", "date", "boolean"), strict=True)),
        [row if if_version else (row[0], *row[2:]) for row in rows],
        match=match,
    )


def _write_summaries(patients) -> None:
    """Store the patients' summary fields (already set on the instances), set-wise."""
    if connection.vendor != "postgresql":
        type(patients[0]).objects.bulk_update(patients, SUMMARY_FIELDS, batch_size=500)
        return
    _update_from_values(
        patients[0]._meta.db_table,
        {
            "trd_evaluated_on": "date",
            "trd_count_steps": "jsonb",
            "trd_one_failed_on": "date",
            "trd_meets_on": "date",
        },
        [
            (
                p.pk,
                p.trd_evaluated_on,
                json.dumps(p.trd_count_steps),
                p.trd_one_failed_on,
                p.trd_meets_on,
            )
            for p in patients
        ],
    )


def _update_from_values(
    table: str, columns: dict[str, str], rows: list[tuple], match: tuple[str, ...] = ("id",)
) -> None:
    """UPDATE `table` from a VALUES list, SUMMARY_BATCH rows a statement (PostgreSQL): each row
    holds the `match` values, then one per column of `columns` (name → its SQL type).
    bulk_update's CASE per row and column was slow both in Python and in SQL."""
    names = [*match, *columns]
    assignments = ", ".join(f"{name} = v.{name}::{kind}" for name, kind in columns.items())
    condition = " AND ".join(f"t.{name} = v.{name}" for name in match)
    placeholders = f"({', '.join(['%s'] * len(names))})"
    for start in range(0, len(rows), SUMMARY_BATCH):
        batch = rows[start : start + SUMMARY_BATCH]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([placeholders] * len(batch))}) AS v({', '.join(names)}) "
                f"WHERE {condition}",
                [value for row in batch for value in row],
            )


def refresh_trd_summary(patient, cause: Cause | None = None) -> None:
    """Store the patient's TRD summary: how the status stands today and when open trials will
    change it. Called by every write to the history, under the lock on the patient row, with
    the write as `cause`: a change of the status today is recorded (patients.trd_history)."""
    refresh_trd_summaries([patient], cause=cause)


def refresh_trd_summaries(patients, cause: Cause | None = None) -> None:
    """Store the summaries of the patients and the figures of their trials, set-wise: per
    SUMMARY_BATCH patients a constant number of queries. After the commit the dashboards of
    their practices are scheduled for a recompute (reports.dashboard, debounced)."""
    patients = list(patients)
    if not patients:
        return
    drugs = _drug_facts()
    as_of = today()
    for start in range(0, len(patients), SUMMARY_BATCH):
        batch = patients[start : start + SUMMARY_BATCH]
        by_patient = _trials_by_patient([p.pk for p in batch], drugs)
        before, figure_rows = {}, []
        for patient in batch:
            before[patient.pk] = trd_history.stored_summary(patient)
            fresh = _evaluate(patient, by_patient[patient.pk], as_of, figure_rows)
            for field, value in fresh.items():
                setattr(patient, field, value)
        _write_summaries(batch)
        _write_figures(figure_rows, if_version=False)
        trd_history.record_changes(batch, as_of=as_of, cause=cause, before=before)
    practice_ids = {p.practice_id for p in patients}
    transaction.on_commit(lambda: _schedule_dashboards(practice_ids))


def _schedule_dashboards(practice_ids) -> None:
    from reports.dashboard import schedule_recompute

    for practice_id in sorted(practice_ids):
        schedule_recompute(practice_id)


def _what_it_says(summary: dict, day) -> tuple:
    """What a stored summary says from `day` on: the count that day and each later rise."""
    steps = trd.steps_from_stored(summary["trd_count_steps"])
    return (trd.count_on(steps, day), tuple((d, n) for d, n in steps if d > day))


def _record_status_changes(patients, as_of, repaired_ids) -> None:
    """Record, with no actor, each status today that differs from the latest recorded one:
    time passed (action "time"), or the nightly check corrected the summary ("repair")."""
    from patients.models import Patient

    latest = trd_history.latest_changes(p.pk for p in patients)
    for patient in patients:
        last = latest.get(patient.pk)
        previous = last.status if last else trd_history.EMPTY
        applicable = patient.trd_not_applicable_reason is None
        stored = trd_history.stored_summary(patient)
        if patient.pk not in repaired_ids and (
            stored is None or trd_history.status_on(stored, applicable, as_of) == previous
        ):
            continue
        cause = trd_history.time_cause(patient)
        if patient.pk in repaired_ids:
            cause = Cause(
                None, "", "", "repair", "the nightly check corrected the stored TRD summary"
            )
        with transaction.atomic():
            locked = lock(Patient.objects.all(), patient.pk)
            trd_history.record_changes([locked], as_of=as_of, cause=cause)


def repair_trd_summaries(practice_id: int | None = None, as_of=None) -> dict:
    """The nightly check: re-evaluate every patient and correct any stored summary that says
    something else from today on (a change that bypassed the services, an old summary); each
    correction is an audit event. Summaries that agree are not written. Then it records the
    TRD status changes that time alone made (an open trial reaching six weeks), with no
    actor; run again the same day, it records nothing new. Trial figures that drifted are
    corrected too (set-wise, only where the trial is still the version read)."""
    from patients.models import Patient

    patients = Patient.objects.active().order_by("pk")
    if practice_id is not None:
        patients = patients.filter(practice_id=practice_id)
    as_of, checked, repaired = as_of or today(), 0, 0
    drugs = _drug_facts()
    for chunk in in_batches(patients.iterator(chunk_size=SUMMARY_BATCH), SUMMARY_BATCH):
        by_patient = _trials_by_patient([p.pk for p in chunk], drugs)
        repaired_ids, figure_rows, fresh_by_patient = set(), [], {}
        for patient in chunk:
            fresh_by_patient[patient.pk] = _evaluate(
                patient, by_patient[patient.pk], as_of, figure_rows
            )
        _write_figures(figure_rows, if_version=True)
        for patient in chunk:
            checked += 1
            fresh = fresh_by_patient[patient.pk]
            stored = {field: getattr(patient, field) for field in SUMMARY_FIELDS}
            if stored["trd_evaluated_on"] is not None and (
                _what_it_says(stored, as_of) == _what_it_says(fresh, as_of)
            ):
                continue
            with transaction.atomic():
                locked = lock(Patient.objects.all(), patient.pk)
                for field, value in fresh.items():
                    setattr(locked, field, value)
                locked.save(update_fields=SUMMARY_FIELDS)
                record_event(
                    actor="trd-summary-check",
                    practice_id=patient.practice_id,
                    action=Action.UPDATE,
                    obj=patient,
                    patient_id=patient.pk,
                    details={
                        "event": "trd_summary_repaired",
                        "changes": model_changes(
                            {
                                "failed_trials_today": _what_it_says(stored, as_of)[0]
                                if stored["trd_evaluated_on"]
                                else None
                            },
                            {"failed_trials_today": _what_it_says(fresh, as_of)[0]},
                        ),
                    },
                )
            repaired += 1
            repaired_ids.add(patient.pk)
        _record_status_changes(chunk, as_of, repaired_ids)
    return {
        "checked": checked,
        "repaired": repaired,
        "meeting_trd": patients.meeting_trd(as_of).count(),
    }


DISCUSSION_FIELDS = ("option_key", "date", "decision", "note")


def discussion_state(discussion: Discussion) -> dict:
    return _snapshot(discussion, DISCUSSION_FIELDS)


def _discussions_of(patient):
    return Discussion.objects.active().filter(patient=patient)


@transaction.atomic
def discussion_create(*, scope, discussion: Discussion) -> Discussion:
    """Record a discussion of one option with the scope's patient (who recorded it: the
    scope's user)."""
    patient = scope.patient
    discussion.patient = patient
    if discussion.created_by_id is None and getattr(scope.user, "pk", None):
        discussion.created_by = scope.user
    discussion.full_clean()
    discussion.save()
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=Action.CREATE,
        obj=discussion,
        patient_id=patient.pk,
        ip=scope.ip,
        details={"changes": model_changes({}, discussion_state(discussion))},
    )
    return discussion


@transaction.atomic
def discussion_update(
    *, scope, discussion: Discussion, changes: dict, if_match: set[int] | None = None
) -> Discussion:
    """As therapy_update: the current row, locked; an event and a new version only on a
    change."""
    patient = scope.patient
    discussion = lock(_discussions_of(patient), discussion.pk, if_match)
    discussion.patient = patient
    return _save_changes(
        scope=scope, patient=patient, record=discussion, changes=changes, state=discussion_state
    )


@transaction.atomic
def discussion_delete(
    *, scope, discussion: Discussion, reason: str, if_match: set[int] | None = None
) -> None:
    reason = clean_deletion_reason(reason)
    patient = scope.patient
    discussion = lock(_discussions_of(patient), discussion.pk, if_match)
    _remove(scope=scope, patient=patient, record=discussion, state=discussion_state, reason=reason)
