"""The nightly check repairs (and audits) only summaries that drifted from the history."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from core.dates import today
from patients.models import Patient
from tests.factories import PatientFactory, TrialFactory, drug
from treatments.services import refresh_trd_summary, repair_trd_summaries


@pytest.fixture
def meets(practice):
    patient = PatientFactory(practice=practice, identifier="MEETS")
    TrialFactory(patient=patient, drug=drug("sertraline"))
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=150,
        start_date=today() - timedelta(days=300),
        end_date=today() - timedelta(days=200),
    )
    refresh_trd_summary(patient)
    return patient


def test_agreeing_summaries_are_left_alone(meets):
    Patient.objects.filter(pk=meets.pk).update(trd_evaluated_on=today() - timedelta(days=30))
    before = Patient.objects.filter(pk=meets.pk).values().get()

    assert repair_trd_summaries(meets.practice_id) == {
        "checked": 1,
        "repaired": 0,
        "meeting_trd": 1,
    }
    assert Patient.objects.filter(pk=meets.pk).values().get() == before
    assert not AuditEvent.objects.filter(details__event="trd_summary_repaired").exists()


def test_a_drifted_summary_is_repaired_and_audited_once(meets):
    Patient.objects.filter(pk=meets.pk).update(
        trd_count_steps=[[today().isoformat(), 0]], trd_one_failed_on=None, trd_meets_on=None
    )
    assert not Patient.objects.meeting_trd(today()).exists()

    assert repair_trd_summaries()["repaired"] == 1
    assert repair_trd_summaries()["repaired"] == 0

    assert list(Patient.objects.meeting_trd(today())) == [meets]
    (event,) = AuditEvent.objects.filter(details__event="trd_summary_repaired")
    assert (event.action, event.patient_id) == ("update", meets.pk)
    assert event.details["changes"] == {"failed_trials_today": [0, 2]}


def test_the_nightly_check_is_on_the_beat_schedule():
    from trdtracker.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "treatments.tasks.repair_trd_summaries_task" in tasks
