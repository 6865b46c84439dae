"""services.trial_adopt_measured_outcome, called directly: the trial takes the outcome its
scores show, in one transaction with its update event, new version and TRD summary."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from core.dates import today
from patients.models import TrdStatusChange
from patients.scope import PatientScope
from patients.versioning import StaleVersion
from tests.factories import DoseChangeFactory, ScaleScoreFactory, TrialFactory
from treatments import services
from treatments.models import Trial
from treatments.services import (
    OutcomeNotAdoptable,
    refresh_trd_summary,
    trial_adopt_measured_outcome,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial(patient):
    """Sertraline 100 mg/day for 60 days, ended 60 days ago, recorded as no response: an
    adequate trial that failed, so the patient's summary counts one failed trial."""
    start = today() - timedelta(days=120)
    trial = TrialFactory(patient=patient, start_date=start, end_date=start + timedelta(days=60))
    DoseChangeFactory(trial=trial)
    refresh_trd_summary(patient)  # the factories write no summary
    return trial


@pytest.fixture
def scope(clinician, patient):
    return PatientScope.trusted(clinician, patient)


def scores_showing_response(patient, trial):
    ScaleScoreFactory(patient=patient, scale="hamd17", total=24, date=trial.start_date)
    ScaleScoreFactory(
        patient=patient, scale="hamd17", total=10, date=trial.end_date - timedelta(days=3)
    )


def unchanged(trial) -> bool:
    stored = Trial.objects.get(pk=trial.pk)
    return (stored.outcome, stored.version) == (trial.outcome, trial.version)


def test_the_trial_takes_the_measured_outcome_and_keeps_its_dose_changes(scope, patient, trial):
    scores_showing_response(patient, trial)

    adopted, result = trial_adopt_measured_outcome(
        scope=scope, trial=trial, expected_version=trial.version
    )

    assert (result.outcome, result.scale) == ("response", "hamd17")
    assert (result.baseline.total, result.end.total) == (24, 10)
    assert (adopted.outcome, adopted.version) == ("response", trial.version + 1)
    stored = Trial.objects.get(pk=trial.pk)
    assert (stored.outcome, stored.version) == ("response", trial.version + 1)
    assert [(c.date, c.dose_mg) for c in stored.dose_changes.all()] == [
        (trial.start_date + timedelta(days=14), 150)
    ]


def test_it_writes_one_update_event_with_the_outcome_change(scope, clinician, patient, trial):
    scores_showing_response(patient, trial)

    trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version)

    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_id) == ("update", "trial", str(trial.pk))
    assert (event.actor, event.patient_id, event.practice_id) == (
        clinician.username,
        patient.pk,
        patient.practice_id,
    )
    assert event.details["changes"] == {"outcome": ["no_response", "response"]}


def test_it_refreshes_the_summary_and_names_the_trial_in_the_trd_history(
    scope, clinician, patient, trial
):
    scores_showing_response(patient, trial)
    patient.refresh_from_db()
    assert patient.trd_failed_count == 1

    trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version)

    patient.refresh_from_db()
    assert patient.trd_failed_count == 0  # a response does not count
    change = TrdStatusChange.objects.filter(patient=patient).latest("id")
    assert change.failed_adequate_trial_count == 0
    assert (change.actor, change.cause_object_type, change.cause_object_id) == (
        clinician.username,
        "trial",
        str(trial.pk),
    )
    assert change.cause_action == "update"
    assert change.cause_summary == "sertraline's outcome was set to response"


def test_without_an_expected_version_any_version_is_changed(scope, patient, trial):
    scores_showing_response(patient, trial)
    Trial.objects.filter(pk=trial.pk).update(notes="edited meanwhile", version=trial.version + 1)

    adopted, _ = trial_adopt_measured_outcome(scope=scope, trial=trial)

    assert (adopted.outcome, adopted.notes, adopted.version) == (
        "response",
        "edited meanwhile",
        trial.version + 2,
    )


def test_a_stale_version_is_refused_and_nothing_is_written(scope, patient, trial):
    scores_showing_response(patient, trial)

    with pytest.raises(StaleVersion):
        trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version + 1)

    assert unchanged(trial)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("situation", "message"),
    [
        ("ongoing", "The trial is ongoing: its outcome is recorded once it has ended."),
        ("no_scores", "The scores do not give a measured outcome for this trial."),
        ("already", "The recorded outcome already is the measured one."),
    ],
)
def test_a_trial_that_cannot_take_the_measured_outcome_is_refused_with_the_reason(
    scope, patient, trial, situation, message
):
    if situation != "no_scores":
        scores_showing_response(patient, trial)
    if situation == "ongoing":
        Trial.objects.filter(pk=trial.pk).update(end_date=None, outcome="ongoing")
    if situation == "already":
        Trial.objects.filter(pk=trial.pk).update(outcome="response")
    before = Trial.objects.get(pk=trial.pk)

    with pytest.raises(OutcomeNotAdoptable, match=message):
        # the in-memory trial is out of date on purpose: the service reads the stored one
        trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version)

    assert unchanged(before)
    assert not AuditEvent.objects.exists()


def test_a_refusal_is_reported_before_a_stale_version(scope, patient, trial):
    """As the page always did: a trial that cannot take the outcome says why, whatever the
    version the confirmation carried."""
    with pytest.raises(OutcomeNotAdoptable):
        trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version + 1)


@pytest.mark.parametrize("failing", ["record_event", "refresh_trd_summary"])
def test_a_failure_after_the_save_leaves_no_partial_write(
    scope, patient, trial, monkeypatch, failing
):
    scores_showing_response(patient, trial)
    patient.refresh_from_db()
    summary_before = (patient.trd_count_steps, patient.trd_evaluated_on)
    history_before = TrdStatusChange.objects.filter(patient=patient).count()

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, failing, fail)

    with pytest.raises(RuntimeError):
        trial_adopt_measured_outcome(scope=scope, trial=trial, expected_version=trial.version)

    assert unchanged(trial)
    assert not AuditEvent.objects.exists()
    patient.refresh_from_db()
    assert (patient.trd_count_steps, patient.trd_evaluated_on) == summary_before
    assert TrdStatusChange.objects.filter(patient=patient).count() == history_before


# --- The page: it asks (GET), then confirms through the service (POST) -----------------------


def post_confirmation(client, patient, trial, version):
    url = reverse("treatments:trial-use-measured", args=[patient.pk, trial.pk])
    response = client.post(url, {"version": version})
    return response, [str(message) for message in get_messages(response.wsgi_request)]


def test_the_page_says_what_the_service_did(clinician, patient, trial, login):
    scores_showing_response(patient, trial)

    response, messages = post_confirmation(login(clinician), patient, trial, trial.version)

    assert (response.status_code, response["Location"]) == (302, patient.get_absolute_url())
    assert messages == [
        "Outcome of the sertraline trial set to response (HAM-D-17 24 "
        f"({trial.start_date:%Y-%m-%d}) → 10 ({trial.end_date - timedelta(days=3):%Y-%m-%d}): "
        "58.3% reduction)."
    ]


@pytest.mark.parametrize(
    ("with_scores", "version_offset", "message"),
    [
        (True, 1, "The trial changed since you opened the confirmation: nothing was saved."),
        (False, 0, "The scores do not give a measured outcome for this trial."),
        (False, 1, "The scores do not give a measured outcome for this trial."),
    ],
    ids=["stale", "refused", "refused_and_stale"],
)
def test_the_page_says_why_nothing_was_saved(
    clinician, patient, trial, login, with_scores, version_offset, message
):
    if with_scores:
        scores_showing_response(patient, trial)

    response, messages = post_confirmation(
        login(clinician), patient, trial, trial.version + version_offset
    )

    assert (response.status_code, response["Location"]) == (302, patient.get_absolute_url())
    assert len(messages) == 1 and messages[0].startswith(message)
    assert unchanged(trial)


@pytest.mark.parametrize("version", ["abc", "²", "1e3", "-1", "9" * 40, ""])
def test_a_garbled_version_is_refused_as_stale_never_an_error(
    clinician, patient, trial, login, version
):
    scores_showing_response(patient, trial)

    response, messages = post_confirmation(login(clinician), patient, trial, version)

    assert (response.status_code, response["Location"]) == (302, patient.get_absolute_url())
    assert messages[0].startswith("The trial changed since you opened the confirmation")
    assert unchanged(trial)
