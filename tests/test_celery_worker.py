"""A real Celery worker on Redis (not eager) runs a task against the real database."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from core.dates import today
from patients.models import Patient
from trdtracker.celery import app
from treatments.tasks import repair_trd_summaries_task

from .factories import PatientFactory, TrialFactory, drug


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_repairs_a_summary_that_drifted(redis_url, practice):
    assert app.conf.task_always_eager is False
    # Factories bypass the services, as a bulk import or a hand edit would: no summary.
    patient = PatientFactory(practice=practice, trd_evaluated_on=None)
    start = today() - timedelta(days=100)
    TrialFactory(
        patient=patient, drug=drug("sertraline"), start_date=start, end_date=None, dose_mg=100
    )
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        start_date=start,
        end_date=start + timedelta(days=50),
        dose_mg=150,
    )

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = repair_trd_summaries_task.delay(practice.pk)
        outcome = result.get(timeout=60)

    assert outcome == {"checked": 1, "repaired": 1, "meeting_trd": 1}
    patient = Patient.objects.get(pk=patient.pk)
    assert (patient.trd_meets, patient.trd_failed_count) == (True, 2)
    assert patient.trd_evaluated_on == today()
    event = AuditEvent.objects.get(details__event="trd_summary_repaired")
    assert (event.actor, event.patient_id) == ("trd-summary-check", patient.pk)
