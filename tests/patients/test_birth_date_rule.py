"""One rule for every dated record of a patient: not before the date of birth
(patients.models.check_on_or_after_birth), and its reverse: a date of birth cannot be moved
after a recorded treatment, score, discussion or ended episode (Patient.clean)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.models import Episode, check_on_or_after_birth
from tests.factories import PatientFactory, ScaleScoreFactory, TherapyFactory, TrialFactory
from treatments.models import Discussion

pytestmark = pytest.mark.django_db

BORN = date(1980, 5, 17)  # PatientFactory's date of birth
RECORDED = date(2020, 3, 1)


def birth_errors(patient, born) -> list[str]:
    patient.date_of_birth = born
    with pytest.raises(ValidationError) as refused:
        patient.full_clean(validate_constraints=False)
    return refused.value.message_dict["date_of_birth"]


def test_the_helper_puts_the_message_on_the_field_only_for_an_earlier_date():
    patient = PatientFactory.build(date_of_birth=BORN)
    errors = {}

    check_on_or_after_birth(patient, errors, "date", BORN)
    check_on_or_after_birth(patient, errors, "start_date", None)
    check_on_or_after_birth(None, errors, "date", date(1900, 1, 1))
    assert errors == {}

    check_on_or_after_birth(patient, errors, "date", BORN - timedelta(days=1))
    check_on_or_after_birth(patient, errors, "onset", date(1970, 1, 1), "Cannot be before.")
    assert errors == {
        "date": "Cannot be before the patient's date of birth.",
        "onset": "Cannot be before.",
    }


def test_moving_the_birth_date_after_a_recorded_score_fails_full_clean():
    patient = PatientFactory()
    ScaleScoreFactory(patient=patient, scale="madrs", total=20, date=RECORDED)

    assert birth_errors(patient, RECORDED + timedelta(days=1)) == [
        f"Cannot be after the first recorded score ({RECORDED})."
    ]


def test_a_birth_date_on_the_day_of_the_first_score_is_accepted():
    patient = PatientFactory()
    ScaleScoreFactory(patient=patient, scale="madrs", total=20, date=RECORDED)

    patient.date_of_birth = RECORDED
    patient.full_clean(validate_constraints=False)


def test_a_removed_score_does_not_hold_the_birth_date_back():
    patient = PatientFactory()
    ScaleScoreFactory(patient=patient, date=RECORDED, deleted_at=timezone.now())

    patient.date_of_birth = RECORDED + timedelta(days=1)
    patient.full_clean(validate_constraints=False)


def test_discussions_and_ended_episodes_hold_the_birth_date_back_too():
    patient = PatientFactory()
    Discussion.objects.create(patient=patient, option_key="ect", date=RECORDED, decision="declined")
    assert birth_errors(patient, RECORDED + timedelta(days=1)) == [
        f"Cannot be after the first recorded discussion ({RECORDED})."
    ]

    earlier = RECORDED - timedelta(days=100)
    Episode.objects.create(patient=patient, onset=earlier, ended=earlier + timedelta(days=50))
    assert birth_errors(patient, earlier + timedelta(days=1)) == [
        f"Cannot be after the first recorded episode ({earlier})."
    ]


def test_the_message_names_the_earliest_record_and_treatments_keep_their_words():
    patient = PatientFactory()
    ScaleScoreFactory(patient=patient, date=RECORDED)
    TrialFactory(patient=patient, start_date=RECORDED - timedelta(days=10))

    assert birth_errors(patient, RECORDED + timedelta(days=1)) == [
        f"Cannot be after the first recorded treatment ({RECORDED - timedelta(days=10)})."
    ]


def test_the_reverse_check_is_one_query_whatever_is_recorded():
    patient = PatientFactory()
    TrialFactory(patient=patient, start_date=RECORDED)
    TherapyFactory(patient=patient, start_date=RECORDED)
    ScaleScoreFactory(patient=patient, date=RECORDED)
    patient.date_of_birth = BORN + timedelta(days=1)

    with CaptureQueriesContext(connection) as queries:
        patient._check_birth_before_records()

    assert len(queries) == 1


def test_the_api_refuses_a_birth_date_after_a_recorded_score(api, clinician, patient):
    ScaleScoreFactory(patient=patient, date=RECORDED)

    response = api(clinician).patch(
        f"/api/v1/patients/{patient.pk}/",
        {"date_of_birth": (RECORDED + timedelta(days=1)).isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "date_of_birth": [f"Cannot be after the first recorded score ({RECORDED})."]
    }
    patient.refresh_from_db()
    assert patient.date_of_birth == BORN


def test_an_unchanged_birth_date_is_never_refused_so_older_records_stay_editable():
    """A score recorded before the reverse check covered scores may predate the birth date:
    the patient's other fields can still be edited; moving the birth date is what is checked."""
    patient = PatientFactory(date_of_birth=BORN)
    ScaleScoreFactory(patient=patient, date=RECORDED)
    type(patient).objects.filter(pk=patient.pk).update(date_of_birth=RECORDED + timedelta(days=5))
    patient.refresh_from_db()

    patient.notes = "edited"
    patient.full_clean(validate_constraints=False)  # nothing raised

    assert birth_errors(patient, RECORDED + timedelta(days=6)) == [
        f"Cannot be after the first recorded score ({RECORDED})."
    ]
