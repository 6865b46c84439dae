"""No lost update: versions, ETag and If-Match, row locks, and summaries kept under a lock."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from patients.models import Patient
from tests.factories import PatientFactory, TherapyFactory, TrialFactory, drug
from treatments.models import Trial

from .helpers import REMOVAL, day, trial_payload


def trial_url(patient, trial):
    return f"/api/v1/patients/{patient.pk}/trials/{trial.pk}/"


@pytest.fixture
def trial(patient):
    return TrialFactory(
        patient=patient, drug=drug("sertraline"), start_date=day(0), end_date=day(60)
    )


def test_detail_responses_carry_the_version_and_an_etag(api, clinician, patient, trial):
    therapy = TherapyFactory(patient=patient)
    as_clinician = api(clinician)
    for url in (
        f"/api/v1/patients/{patient.pk}/",
        trial_url(patient, trial),
        f"/api/v1/patients/{patient.pk}/therapies/{therapy.pk}/",
    ):
        response = as_clinician.get(url)
        assert response["ETag"] == '"1"', url
        assert response.json()["version"] == 1


def test_a_patch_naming_the_current_version_is_stored_and_raises_it(api, clinician, patient, trial):
    response = api(clinician).patch(
        trial_url(patient, trial), {"notes": "tolerated"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200
    assert response["ETag"] == '"2"' and response.json()["version"] == 2
    trial.refresh_from_db()
    assert (trial.notes, trial.version) == ("tolerated", 2)


@pytest.mark.parametrize("header", ['"1"', '"1", "7"', 'W/"2"', '"two"'])
def test_a_patch_naming_another_version_answers_412_and_changes_nothing(
    api, clinician, patient, trial, header
):
    Trial.objects.filter(pk=trial.pk).update(version=2, notes="first")
    events = AuditEvent.objects.count()

    response = api(clinician).patch(
        trial_url(patient, trial), {"notes": "second"}, format="json", HTTP_IF_MATCH=header
    )

    assert response.status_code == 412
    assert "changed this record" in response.json()["detail"]
    trial.refresh_from_db()
    assert (trial.notes, trial.version) == ("first", 2)
    assert AuditEvent.objects.count() == events


def test_the_412_names_who_changed_the_record_and_when(api, clinician, colleague, patient, trial):
    api(colleague).patch(trial_url(patient, trial), {"notes": "by the colleague"}, format="json")

    response = api(clinician).patch(
        trial_url(patient, trial), {"notes": "mine"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    assert response.json()["detail"].startswith("colleague changed this record at ")


def test_a_stale_delete_answers_412_and_keeps_the_record(api, clinician, patient, trial):
    Trial.objects.filter(pk=trial.pk).update(version=3)

    stale = api(clinician).delete(
        trial_url(patient, trial), REMOVAL, format="json", HTTP_IF_MATCH='"2"'
    )
    current = api(clinician).delete(
        trial_url(patient, trial), REMOVAL, format="json", HTTP_IF_MATCH='"3"'
    )

    assert (stale.status_code, current.status_code) == (412, 204)
    trial.refresh_from_db()
    assert trial.deleted_at is not None and trial.version == 4


def test_patients_and_therapies_check_if_match_too(api, clinician, patient):
    therapy = TherapyFactory(patient=patient)
    as_clinician = api(clinician)
    patient_url = f"/api/v1/patients/{patient.pk}/"
    therapy_url = f"{patient_url}therapies/{therapy.pk}/"

    assert (
        as_clinician.patch(
            patient_url, {"notes": "a"}, format="json", HTTP_IF_MATCH='"9"'
        ).status_code
        == 412
    )
    assert (
        as_clinician.patch(
            therapy_url, {"notes": "a"}, format="json", HTTP_IF_MATCH='"9"'
        ).status_code
        == 412
    )
    assert (
        as_clinician.delete(patient_url, REMOVAL, format="json", HTTP_IF_MATCH='"9"').status_code
        == 412
    )
    assert (
        as_clinician.patch(
            patient_url, {"notes": "a"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )


def test_a_patch_that_changes_nothing_keeps_the_version_and_writes_no_event(
    api, clinician, patient, trial
):
    Trial.objects.filter(pk=trial.pk).update(notes="same")
    events = AuditEvent.objects.filter(action="update").count()

    response = api(clinician).patch(trial_url(patient, trial), {"notes": "same"}, format="json")

    assert response.status_code == 200 and response["ETag"] == '"1"'
    assert AuditEvent.objects.filter(action="update").count() == events


# --- On PostgreSQL, with real concurrent requests ------------------------------------------

PAIRS = 20


def at_once(*requests):
    """Run the request functions in threads released together; their results, in order."""
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, request):
        try:
            barrier.wait()
            results[index] = request()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@concurrent
def test_concurrent_patches_of_different_fields_both_persist(
    postgres, api, clinician, colleague, patient
):
    one, other = api(clinician), api(colleague)
    for n in range(PAIRS):
        trial = TrialFactory(
            patient=patient,
            drug=drug("sertraline"),
            start_date=day(n * 70),
            end_date=day(n * 70 + 60),
        )
        url = trial_url(patient, trial)
        first, second = at_once(
            lambda url=url, n=n: one.patch(url, {"notes": f"notes {n}"}, format="json"),
            lambda url=url, n=n: other.patch(url, {"reason_stopped": f"reason {n}"}, format="json"),
        )
        assert (first.status_code, second.status_code) == (200, 200)
        trial.refresh_from_db()
        assert (trial.notes, trial.reason_stopped, trial.version) == (
            f"notes {n}",
            f"reason {n}",
            3,
        )
        updates = AuditEvent.objects.filter(action="update", object_id=str(trial.pk))
        assert sorted(next(iter(e.details["changes"])) for e in updates) == [
            "notes",
            "reason_stopped",
        ]


@concurrent
def test_concurrent_patches_naming_the_same_version_let_exactly_one_through(
    postgres, api, clinician, colleague, patient
):
    one, other = api(clinician), api(colleague)
    for n in range(PAIRS):
        trial = TrialFactory(
            patient=patient,
            drug=drug("sertraline"),
            start_date=day(n * 70),
            end_date=day(n * 70 + 60),
        )
        url = trial_url(patient, trial)
        responses = at_once(
            lambda url=url: one.patch(url, {"notes": "one"}, format="json", HTTP_IF_MATCH='"1"'),
            lambda url=url: other.patch(
                url, {"notes": "other"}, format="json", HTTP_IF_MATCH='"1"'
            ),
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        trial.refresh_from_db()
        winner = next(r for r in responses if r.status_code == 200)
        assert trial.notes == winner.json()["notes"] and trial.version == 2
        assert AuditEvent.objects.filter(action="update", object_id=str(trial.pk)).count() == 1


@concurrent
def test_concurrent_trial_creates_leave_no_wrong_summary(
    postgres, api, clinician, colleague, practice
):
    one, other = api(clinician), api(colleague)
    patients = [PatientFactory(practice=practice, identifier=f"PAIR-{n:02d}") for n in range(30)]
    for patient in patients:
        url = f"/api/v1/patients/{patient.pk}/trials/"
        first, second = at_once(
            lambda url=url: one.post(url, trial_payload(drug="sertraline"), format="json"),
            lambda url=url: other.post(
                url,
                trial_payload(
                    drug="venlafaxine", dose_mg=150, start_date=day(100), end_date=day(160)
                ),
                format="json",
            ),
        )
        assert (first.status_code, second.status_code) == (201, 201)

    stored = Patient.objects.filter(pk__in=[p.pk for p in patients])
    wrong = [p.identifier for p in stored if (p.trd_meets, p.trd_failed_count) != (True, 2)]
    assert wrong == []
