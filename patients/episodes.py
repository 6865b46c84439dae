"""Writes of a patient's depressive episodes, and the current episode's onset kept on the patient
(`Patient.episode_start`, which the TRD rule, the stored summary and the staging read).

The current episode is the latest one without an end. Starting a new episode while one is open
ends the open one the day before (a new episode begins when the last one is over); writing the
patient's `episode_start` moves the current episode's onset, or opens one when there is none,
so clients of the patient record keep working.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import deletion_details, json_safe, model_changes, record_event
from treatments.services import refresh_trd_summary

from . import trd_history
from .models import Episode, Patient
from .trd_history import Cause
from .versioning import lock

EPISODE_FIELDS = ("onset", "ended")


def episode_state(episode: Episode) -> dict:
    return {field: getattr(episode, field) for field in EPISODE_FIELDS}


def current_episode(episodes) -> Episode | None:
    """The latest episode without an end, of the given (active) episodes."""
    open_ones = [episode for episode in episodes if episode.ended is None]
    return max(open_ones, key=lambda episode: (episode.onset, episode.pk), default=None)


def _active(patient):
    return Episode.objects.active().filter(patient=patient)


def _audit(scope, patient, episode, action, details):
    record_event(
        actor=scope.user,
        practice_id=patient.practice_id,
        action=action,
        obj=episode,
        patient_id=patient.pk,
        ip=scope.ip,
        details=details,
    )


def _cause(scope, episode: Episode, action: str, diff: dict | None = None) -> Cause:
    """The episode write, for the TRD status history: "the episode start was set to ..."."""
    if action == "update":
        names = {"onset": "episode_start", "ended": "episode_end"}
        return Cause(
            scope.user,
            "episode",
            episode.pk,
            action,
            trd_history.describe(
                None, action, {names[field]: pair for field, pair in (diff or {}).items()}
            ),
        )
    return Cause(
        scope.user,
        "episode",
        episode.pk,
        action,
        trd_history.describe(trd_history.episode_name(episode), action),
    )


def _sync_patient(scope, patient: Patient, cause: Cause | None = None) -> None:
    """Keep `episode_start` on the patient the current episode's onset (audited as a change of
    the patient record), then re-evaluate the stored TRD summary (`cause`: the episode write)."""
    current = current_episode(list(_active(patient)))
    onset = current.onset if current else None
    if patient.episode_start != onset:
        before = patient.episode_start
        patient.episode_start = onset
        patient.version += 1
        patient.save(update_fields=["episode_start", "version", "updated_at"])
        _audit(
            scope,
            patient,
            patient,
            Action.UPDATE,
            {"changes": model_changes({"episode_start": before}, {"episode_start": onset})},
        )
    refresh_trd_summary(patient, cause)


def _save(scope, patient, episode: Episode, action, before: dict) -> Episode:
    episode.patient = patient
    episode.full_clean()
    if action == Action.UPDATE:
        diff = model_changes(before, episode_state(episode))
        if not diff:
            return episode
        episode.version += 1
    else:
        diff = model_changes({}, episode_state(episode))
    episode.save()
    _audit(scope, patient, episode, action, {"changes": diff})
    return episode


def _end_open_episode_before(scope, patient, onset) -> None:
    """A new episode beginning on `onset` ends the open one the day before."""
    current = current_episode(list(_active(patient).select_for_update()))
    if current is None or current.onset >= onset:
        return
    before = episode_state(current)
    current.ended = onset - timedelta(days=1)
    _save(scope, patient, current, Action.UPDATE, before)


@transaction.atomic
def episode_create(*, scope, episode: Episode) -> Episode:
    patient = lock(Patient.objects.active(), scope.patient.pk)
    if episode.onset and episode.ended is None:
        _end_open_episode_before(scope, patient, episode.onset)
    episode = _save(scope, patient, episode, Action.CREATE, {})
    _sync_patient(scope, patient, _cause(scope, episode, "create"))
    return episode


@transaction.atomic
def episode_update(
    *, scope, episode: Episode, changes: dict, if_match: set[int] | None = None
) -> Episode:
    patient = lock(Patient.objects.active(), scope.patient.pk)
    episode = lock(_active(patient), episode.pk, if_match)
    before = episode_state(episode)
    for field, value in changes.items():
        setattr(episode, field, value)
    episode = _save(scope, patient, episode, Action.UPDATE, before)
    _sync_patient(
        scope,
        patient,
        _cause(scope, episode, "update", model_changes(before, episode_state(episode))),
    )
    return episode


@transaction.atomic
def episode_delete(
    *, scope, episode: Episode, reason: str = "", if_match: set[int] | None = None
) -> None:
    """Remove an episode (entered in error); the reason is optional here but kept if given."""
    patient = lock(Patient.objects.active(), scope.patient.pk)
    episode = lock(_active(patient), episode.pk, if_match)
    episode.deleted_at = timezone.now()
    episode.version += 1
    episode.save(update_fields=["deleted_at", "updated_at", "version"])
    details = deletion_details(
        episode_state(episode), episode.deleted_at, str(reason or "").strip()[:500]
    )
    _audit(scope, patient, episode, Action.DELETE, details)
    _sync_patient(scope, patient, _cause(scope, episode, "delete"))


def set_current_onset(*, scope, patient: Patient, onset) -> None:
    """What writing `episode_start` on the patient means: move the current episode's onset, or
    open an episode from `onset` when none is open; None removes the current episode. Runs
    inside the patient write's transaction, with the patient row locked."""
    current = current_episode(list(_active(patient).select_for_update()))
    if onset is None:
        if current is not None:
            current.deleted_at = timezone.now()
            current.version += 1
            current.save(update_fields=["deleted_at", "updated_at", "version"])
            _audit(
                scope,
                patient,
                current,
                Action.DELETE,
                {
                    "changes": {"deleted_at": [None, json_safe(current.deleted_at)]},
                    "record": json_safe(episode_state(current)),
                    "reason": "The patient's episode onset was cleared.",
                },
            )
        return
    try:
        if current is None:
            _save(scope, patient, Episode(onset=onset), Action.CREATE, {})
            return
        before = episode_state(current)
        current.onset = onset
        _save(scope, patient, current, Action.UPDATE, before)
    except ValidationError as error:
        # Reported on the patient's field, where the change was asked for.
        raise ValidationError({"episode_start": error.messages}) from None
