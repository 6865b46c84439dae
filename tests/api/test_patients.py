"""GET|POST /api/v1/patients/ and GET|PATCH|DELETE /api/v1/patients/{id}/."""

from datetime import date

import pytest

from audit.models import AuditEvent
from patients.models import Patient
from tests.factories import PatientFactory, TrialFactory

from .helpers import (
    PATIENTS_URL,
    REMOVAL,
    assert_field_errors,
    days_ago,
    days_ahead,
    events,
    patient_url,
    results,
    trd_url,
    trials_url,
)

FIELDS = {"id", "identifier", "date_of_birth", "episode_start"}


def new_patient(**overrides) -> dict:
    payload = {"identifier": "MRN-NEW", "date_of_birth": "1975-03-04", "episode_start": None}
    payload.update(overrides)
    return payload


# --------------------------------------------------------------------------------------
# List
# --------------------------------------------------------------------------------------


def test_it_lists_the_practices_active_patients_in_identifier_order(
    as_clinician, practice, patient, outsiders_patient
):
    PatientFactory(practice=practice, identifier="MRN-0")
    gone = PatientFactory(practice=practice, identifier="MRN-GONE")
    as_clinician.delete(patient_url(gone.pk), REMOVAL, format="json")

    response = as_clinician.get(PATIENTS_URL)

    assert response.status_code == 200
    rows = results(response.json())
    assert [row["identifier"] for row in rows] == ["MRN-0", "MRN-1"]
    assert response.json()["count"] == 2
    assert set(rows[1]) >= FIELDS
    assert rows[1]["id"] == patient.pk
    assert rows[1]["date_of_birth"] == "1980-05-17"
    assert rows[1]["episode_start"] is None


def test_an_outsider_lists_only_their_own_practices_patients(
    as_outsider, patient, outsiders_patient
):
    rows = results(as_outsider.get(PATIENTS_URL).json())

    assert [row["id"] for row in rows] == [outsiders_patient.pk]


# --------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------


def test_it_creates_a_patient_in_the_clinicians_practice(as_clinician, clinician, practice):
    response = as_clinician.post(
        PATIENTS_URL, new_patient(episode_start="2020-01-01"), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= FIELDS
    assert body["identifier"] == "MRN-NEW"
    assert body["date_of_birth"] == "1975-03-04"
    assert body["episode_start"] == "2020-01-01"
    created = Patient.objects.get(pk=body["id"])
    assert created.practice == practice
    assert created.identifier == "MRN-NEW"
    assert created.date_of_birth == date(1975, 3, 4)
    assert created.deleted_at is None

    (event,) = events(action="create", patient_id=created.pk, object_type="patient")
    assert event.actor == "clinician"
    assert event.practice_id == practice.pk
    assert event.details["changes"]["identifier"] == [None, "MRN-NEW"]
    assert event.details["changes"]["date_of_birth"] == [None, "1975-03-04"]


def test_it_ignores_a_practice_given_in_the_body(as_clinician, practice, other_practice):
    response = as_clinician.post(
        PATIENTS_URL,
        new_patient(practice=other_practice.pk, practice_id=other_practice.pk),
        format="json",
    )

    assert response.status_code == 201
    assert Patient.objects.get(pk=response.json()["id"]).practice == practice


def test_it_ignores_an_id_given_in_the_body(as_clinician, patient):
    response = as_clinician.post(PATIENTS_URL, new_patient(id=patient.pk), format="json")

    assert response.status_code == 201
    assert response.json()["id"] != patient.pk
    patient.refresh_from_db()
    assert patient.identifier == "MRN-1"


def test_it_trims_spaces_around_the_identifier(as_clinician):
    response = as_clinician.post(
        PATIENTS_URL, new_patient(identifier="  MRN-SPACES  "), format="json"
    )

    assert response.status_code == 201
    assert Patient.objects.get(pk=response.json()["id"]).identifier == "MRN-SPACES"


def test_a_64_character_identifier_is_accepted(as_clinician):
    response = as_clinician.post(PATIENTS_URL, new_patient(identifier="x" * 64), format="json")

    assert response.status_code == 201
    assert Patient.objects.filter(identifier="x" * 64).exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"identifier": "MRN-1"}, "identifier"),
        ({"identifier": " MRN-1 "}, "identifier"),
        ({"identifier": "x" * 65}, "identifier"),
        ({"identifier": ""}, "identifier"),
        ({"identifier": "   "}, "identifier"),
        ({"identifier": None}, "identifier"),
        ({"date_of_birth": days_ahead(1)}, "date_of_birth"),
        ({"date_of_birth": "1980-02-30"}, "date_of_birth"),
        ({"date_of_birth": "17/05/1980"}, "date_of_birth"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"episode_start": days_ahead(1)}, "episode_start"),
        ({"episode_start": "1970-01-01"}, "episode_start"),
        ({"episode_start": "2021-13-01"}, "episode_start"),
    ],
    ids=[
        "duplicate_identifier",
        "duplicate_identifier_with_spaces",
        "identifier_too_long",
        "identifier_blank",
        "identifier_only_spaces",
        "identifier_null",
        "date_of_birth_in_the_future",
        "date_of_birth_impossible",
        "date_of_birth_wrong_format",
        "date_of_birth_null",
        "episode_start_in_the_future",
        "episode_start_before_birth",
        "episode_start_impossible",
    ],
)
def test_it_rejects_an_invalid_new_patient_and_saves_nothing(
    as_clinician, patient, overrides, field
):
    count, audit = Patient.objects.count(), AuditEvent.objects.count()

    response = as_clinician.post(PATIENTS_URL, new_patient(**overrides), format="json")

    assert_field_errors(response, field)
    assert Patient.objects.count() == count
    assert AuditEvent.objects.count() == audit


def test_it_names_every_missing_required_field(as_clinician, db):
    response = as_clinician.post(PATIENTS_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) >= {"identifier", "date_of_birth"}
    assert not Patient.objects.exists()


def test_the_same_identifier_is_fine_in_another_practice(as_clinician, outsiders_patient):
    response = as_clinician.post(
        PATIENTS_URL, new_patient(identifier=outsiders_patient.identifier), format="json"
    )

    assert response.status_code == 201
    assert Patient.objects.filter(identifier=outsiders_patient.identifier).count() == 2


def test_a_deleted_patients_identifier_can_be_used_again(as_clinician, patient):
    assert as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json").status_code == 204

    response = as_clinician.post(PATIENTS_URL, new_patient(identifier="MRN-1"), format="json")

    assert response.status_code == 201
    assert Patient.objects.filter(identifier="MRN-1").count() == 2
    assert Patient.objects.active().get(identifier="MRN-1").pk == response.json()["id"]


def test_a_born_today_patient_is_accepted(as_clinician):
    response = as_clinician.post(
        PATIENTS_URL, new_patient(date_of_birth=days_ago(0)), format="json"
    )

    assert response.status_code == 201


# --------------------------------------------------------------------------------------
# Detail
# --------------------------------------------------------------------------------------


def test_it_shows_one_patient_and_records_the_read(as_clinician, patient, practice):
    response = as_clinician.get(patient_url(patient.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == patient.pk
    assert body["identifier"] == "MRN-1"
    assert body["date_of_birth"] == "1980-05-17"
    assert body["episode_start"] is None
    (event,) = events(action="view", patient_id=patient.pk)
    assert (event.actor, event.practice_id) == ("clinician", practice.pk)


def test_it_hides_another_practices_patient(as_clinician, outsiders_patient):
    response = as_clinician.get(patient_url(outsiders_patient.pk))

    assert response.status_code == 404
    assert "OTHER-1" not in response.content.decode()
    assert not AuditEvent.objects.exists()


# --------------------------------------------------------------------------------------
# Update
# --------------------------------------------------------------------------------------


def test_it_updates_only_the_given_fields_and_records_old_and_new(as_clinician, patient):
    response = as_clinician.patch(
        patient_url(patient.pk), {"episode_start": "2022-06-01"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["episode_start"] == "2022-06-01"
    assert response.json()["identifier"] == "MRN-1"
    patient.refresh_from_db()
    assert patient.episode_start == date(2022, 6, 1)
    assert patient.identifier == "MRN-1"
    assert patient.date_of_birth == date(1980, 5, 17)
    (event,) = events(action="update", patient_id=patient.pk)
    assert event.details["changes"] == {"episode_start": [None, "2022-06-01"]}


def test_it_renames_a_patient(as_clinician, patient):
    response = as_clinician.patch(patient_url(patient.pk), {"identifier": "MRN-9"}, format="json")

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.identifier == "MRN-9"
    (event,) = events(action="update", patient_id=patient.pk)
    assert event.details["changes"]["identifier"] == ["MRN-1", "MRN-9"]


def test_a_patient_may_keep_their_own_identifier(as_clinician, patient):
    response = as_clinician.patch(
        patient_url(patient.pk), {"identifier": "MRN-1", "notes": "seen"}, format="json"
    )

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.notes == "seen"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"identifier": "MRN-2"}, "identifier"),
        ({"identifier": "y" * 65}, "identifier"),
        ({"identifier": ""}, "identifier"),
        ({"date_of_birth": days_ahead(3)}, "date_of_birth"),
        ({"date_of_birth": "2023-02-29"}, "date_of_birth"),
        ({"episode_start": "1979-01-01"}, "episode_start"),
        ({"date_of_birth": "2021-01-01", "episode_start": "2020-01-01"}, "episode_start"),
    ],
    ids=[
        "duplicate_identifier",
        "identifier_too_long",
        "identifier_blank",
        "date_of_birth_in_the_future",
        "date_of_birth_impossible",
        "episode_before_birth",
        "birth_moved_after_episode",
    ],
)
def test_it_rejects_an_invalid_update_and_changes_nothing(
    as_clinician, practice, patient, change, field
):
    PatientFactory(practice=practice, identifier="MRN-2")
    audit = AuditEvent.objects.count()

    response = as_clinician.patch(patient_url(patient.pk), change, format="json")

    assert_field_errors(response, field)
    patient.refresh_from_db()
    assert patient.identifier == "MRN-1"
    assert patient.date_of_birth == date(1980, 5, 17)
    assert patient.episode_start is None
    assert AuditEvent.objects.count() == audit


def test_an_outsider_cannot_update_another_practices_patient(as_outsider, patient):
    response = as_outsider.patch(patient_url(patient.pk), {"identifier": "MINE"}, format="json")

    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.identifier == "MRN-1"


# --------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------


def test_delete_is_a_soft_delete(as_clinician, patient, practice):
    trial = TrialFactory(patient=patient)

    response = as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json")

    assert response.status_code == 204
    assert as_clinician.get(patient_url(patient.pk)).status_code == 404
    assert as_clinician.get(trials_url(patient.pk)).status_code == 404
    assert as_clinician.get(trd_url(patient.pk)).status_code == 404
    assert results(as_clinician.get(PATIENTS_URL).json()) == []
    kept = Patient.objects.get(pk=patient.pk)
    assert kept.deleted_at is not None
    assert kept.identifier == "MRN-1"
    trial.refresh_from_db()
    assert trial.patient_id == patient.pk
    (event,) = events(action="delete", patient_id=patient.pk)
    assert (event.actor, event.practice_id) == ("clinician", practice.pk)


def test_a_deleted_patient_can_no_longer_be_changed(as_clinician, patient):
    as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json")
    deleted_at = Patient.objects.get(pk=patient.pk).deleted_at

    assert as_clinician.delete(patient_url(patient.pk), REMOVAL, format="json").status_code == 404
    response = as_clinician.patch(patient_url(patient.pk), {"identifier": "X"}, format="json")
    assert response.status_code == 404
    kept = Patient.objects.get(pk=patient.pk)
    assert (kept.identifier, kept.deleted_at) == ("MRN-1", deleted_at)
    assert len(events(action="delete", patient_id=patient.pk)) == 1


def test_an_outsider_cannot_delete_another_practices_patient(as_outsider, patient):
    response = as_outsider.delete(patient_url(patient.pk))

    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.deleted_at is None
    assert not AuditEvent.objects.exists()


def test_an_auditor_cannot_create_update_or_delete_patients(as_auditor, patient):
    assert as_auditor.post(PATIENTS_URL, new_patient(), format="json").status_code == 403
    response = as_auditor.patch(patient_url(patient.pk), {"identifier": "X"}, format="json")
    assert response.status_code == 403
    assert as_auditor.delete(patient_url(patient.pk)).status_code == 403

    assert Patient.objects.count() == 1
    patient.refresh_from_db()
    assert (patient.identifier, patient.deleted_at) == ("MRN-1", None)
    assert not AuditEvent.objects.exclude(action="view").exists()


def test_the_date_of_birth_cannot_move_after_a_recorded_trial(as_clinician, patient):
    trial = TrialFactory(patient=patient, start_date=date(1985, 1, 1), end_date=date(1985, 3, 1))

    response = as_clinician.patch(
        patient_url(patient.pk), {"date_of_birth": "1990-01-01"}, format="json"
    )

    assert response.status_code == 400
    assert "date_of_birth" in response.json()
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1980, 5, 17)
    edit = as_clinician.patch(f"{trials_url(patient.pk)}{trial.pk}/", {"notes": "x"}, format="json")
    assert edit.status_code == 200
