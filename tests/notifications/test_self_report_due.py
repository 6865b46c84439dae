"""The optional self-report schedule: while an antidepressant trial is ongoing, the clinicians are
reminded every N weeks (the patient's setting) to send a new PHQ-9 link; a new link moves the
next due date; once per due date."""

from datetime import UTC, date, datetime, timedelta

import pytest

from notifications import rules
from notifications.models import Notification
from notifications.services import create_notifications
from patients.models import Patient
from treatments.models import SelfReportLink

from .conftest import START

pytestmark = pytest.mark.django_db


def due(user):
    return Notification.objects.filter(kind="self_report_due", recipient=user)


@pytest.mark.parametrize(
    "every, last_link, trial_start, expected",
    [
        (None, None, date(2026, 1, 5), None),  # no schedule
        (2, None, None, None),  # no ongoing trial
        (2, None, date(2026, 1, 5), date(2026, 1, 19)),  # from the trial's start
        (2, date(2026, 1, 20), date(2026, 1, 5), date(2026, 2, 3)),  # from the last link
        (4, date(2025, 12, 1), date(2026, 1, 5), date(2026, 2, 2)),  # a link before the trial
    ],
)
def test_the_due_date_rule(every, last_link, trial_start, expected):
    assert (
        rules.self_report_due_on(every_weeks=every, last_link=last_link, trial_start=trial_start)
        == expected
    )


def test_a_schedule_notifies_once_per_due_date_and_a_new_link_moves_it(
    clinician, patient, ongoing_trial
):
    Patient.objects.filter(pk=patient.pk).update(self_report_every_weeks=2)
    first_due = START + timedelta(weeks=2)

    create_notifications(today=first_due - timedelta(days=1))
    assert not due(clinician).exists()
    create_notifications(today=first_due)
    create_notifications(today=first_due + timedelta(days=1))
    assert [n.due_on for n in due(clinician)] == [first_due]

    link = SelfReportLink.objects.create(
        patient=patient,
        scale="phq9",
        token_hash="x" * 64,
        created_by=clinician,
        expires_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    SelfReportLink.objects.filter(pk=link.pk).update(
        created_at=datetime(2026, 1, 20, 12, tzinfo=UTC)
    )
    create_notifications(today=date(2026, 2, 2))
    assert [n.due_on for n in due(clinician).order_by("due_on")] == [first_due]
    create_notifications(today=date(2026, 2, 3))
    assert [n.due_on for n in due(clinician).order_by("due_on")] == [first_due, date(2026, 2, 3)]


def test_without_a_schedule_nothing_is_due(clinician, patient, ongoing_trial):
    create_notifications(today=START + timedelta(weeks=10))

    assert not due(clinician).exists()


def test_the_schedule_is_in_the_patient_api(api, clinician, patient):
    url = f"/api/v1/patients/{patient.pk}/"

    assert (
        api(clinician)
        .patch(url, {"self_report_every_weeks": 4}, format="json")
        .json()["self_report_every_weeks"]
        == 4
    )
    assert (
        api(clinician).patch(url, {"self_report_every_weeks": 60}, format="json").status_code == 400
    )
