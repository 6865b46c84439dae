"""The daily task: reviews at 4, 6 and 8 weeks and patients without a recent score become
notifications for the practice's clinicians, once per event."""

from collections import Counter
from datetime import timedelta

import pytest

from notifications.models import Notification
from notifications.services import create_notifications
from notifications.tasks import create_notifications_task
from tests.factories import PatientFactory, ScaleScoreFactory, TrialFactory

from .conftest import MARKS, START


def reviews(user=None):
    found = Notification.objects.filter(kind="review_due")
    return found.filter(recipient=user) if user else found


def test_each_mark_is_notified_once_on_its_own_day(clinician, ongoing_trial):
    created_on = {}
    for offset in range(0, 80):
        day = START + timedelta(days=offset)
        before = set(reviews(clinician).values_list("pk", flat=True))
        create_notifications(today=day)
        for notification in reviews(clinician).exclude(pk__in=before):
            created_on[notification.weeks] = (day, notification.due_on)

    assert created_on == {weeks: (on, on) for weeks, on in MARKS.items()}
    assert {n.event_key for n in reviews(clinician)} == {
        f"review_due:trial:{ongoing_trial.pk}:{weeks}w" for weeks in (4, 6, 8)
    }
    assert {n.trial_id for n in reviews(clinician)} == {ongoing_trial.pk}


@pytest.mark.usefixtures("eager", "ongoing_trial")
def test_the_beat_task_run_again_creates_nothing(clinician):
    day = MARKS[6].isoformat()

    first = create_notifications_task.delay(day).get()
    again = create_notifications_task.delay(day).get()

    assert first["created"] == 2  # the 6-week review, and no score at all for weeks
    assert again == {"created": 0, "digests": 0}
    assert Counter(Notification.objects.values_list("kind", flat=True)) == {
        "review_due": 1,
        "no_recent_score": 1,
    }


def test_nothing_is_due_between_the_marks(clinician, ongoing_trial):
    create_notifications(today=MARKS[4] + timedelta(days=7))

    assert not reviews().exists()


def test_a_missed_mark_is_caught_up_within_a_week_and_not_later(clinician, ongoing_trial):
    create_notifications(today=MARKS[4] + timedelta(days=6))
    create_notifications(today=MARKS[6] + timedelta(days=7))

    assert [(n.weeks, n.due_on) for n in reviews()] == [(4, MARKS[4])]


def test_a_mark_on_sunday_is_caught_up_on_monday(clinician, patient):
    # Started on a Sunday: 6 weeks on a Sunday, found the next day (a new worklist week).
    TrialFactory(
        patient=patient, start_date=START - timedelta(days=1), end_date=None, outcome="ongoing"
    )
    sunday = START - timedelta(days=1) + timedelta(days=42)

    create_notifications(today=sunday + timedelta(days=1))

    assert [(n.weeks, n.due_on) for n in reviews()] == [(6, sunday)]


def test_only_the_practices_clinicians_are_notified(
    clinician, colleague, auditor, practice_admin, outsider, ongoing_trial
):
    create_notifications(today=MARKS[4])

    assert set(reviews().values_list("recipient__username", flat=True)) == {
        "clinician",
        "colleague",
    }
    assert reviews().filter(recipient=clinician).get().practice == ongoing_trial.patient.practice


def test_a_finished_trial_is_not_reviewed(clinician, patient):
    TrialFactory(patient=patient, start_date=START, end_date=MARKS[6], outcome="no_response")

    create_notifications(today=MARKS[4])

    assert not reviews().exists()


def test_a_deleted_patient_is_not_notified(clinician, patient, ongoing_trial):
    patient.deleted_at = patient.created_at
    patient.save()

    assert create_notifications(today=MARKS[4]) == 0


def no_score(user):
    return Notification.objects.filter(kind="no_recent_score", recipient=user)


def test_no_recent_score_is_notified_once_a_week(clinician, patient, ongoing_trial):
    monday = MARKS[4] + timedelta(days=7)
    ScaleScoreFactory(patient=patient, date=monday - timedelta(days=29))

    for offset in range(7):  # every day of one week
        create_notifications(today=monday + timedelta(days=offset))
    assert no_score(clinician).count() == 1
    create_notifications(today=monday + timedelta(days=7))

    assert no_score(clinician).count() == 2
    notification = no_score(clinician).first()
    assert notification.patient == patient and notification.trial is None
    assert "no score for 36 days" in notification.message


def test_a_recent_score_means_no_reminder(clinician, patient, ongoing_trial):
    monday = MARKS[4] + timedelta(days=7)
    ScaleScoreFactory(patient=patient, date=monday - timedelta(days=28))

    create_notifications(today=monday)

    assert not no_score(clinician).exists()


def test_a_patient_without_an_ongoing_trial_needs_no_score(clinician, practice):
    PatientFactory(practice=practice)

    assert create_notifications(today=MARKS[4]) == 0
