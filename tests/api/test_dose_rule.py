"""A dose above 0 is the model's rule (treatments.models.validate_positive_dose and the check
constraints): the API's model serializers carry its validator instead of repeating it, and
answer in the words the API always has."""

import pytest

from api.serializers import DoseChangeSerializer, TrialSerializer
from treatments.models import validate_positive_dose

from .helpers import day, post_trial, trial_payload, trial_url, trials_url


def test_the_serializers_use_the_models_validator_for_doses():
    assert validate_positive_dose in TrialSerializer().fields["dose_mg"].validators
    assert validate_positive_dose in DoseChangeSerializer().fields["dose_mg"].validators


@pytest.mark.parametrize("dose", [0, "-0", -50])
def test_a_dose_of_0_or_less_is_refused_in_the_apis_words(as_clinician, patient, dose):
    response = as_clinician.post(trials_url(patient.pk), trial_payload(dose_mg=dose), format="json")

    assert response.status_code == 400
    assert response.json() == {"dose_mg": ["The dose must be greater than 0 mg/day."]}


@pytest.mark.parametrize("doses", [[0], [-10], [0, -1]], ids=["zero", "negative", "two_of_them"])
def test_a_new_dose_of_0_or_less_is_told_once(as_clinician, patient, doses):
    changes = [{"date": day(10 + n), "dose_mg": dose} for n, dose in enumerate(doses)]

    response = as_clinician.post(
        trials_url(patient.pk), trial_payload(dose_changes=changes), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"dose_changes": ["Each new dose must be greater than 0 mg/day."]}


def test_other_dose_change_errors_come_first_as_before(as_clinician, patient):
    changes = [{"date": day(10), "dose_mg": 0}, {"date": day(11), "dose_mg": "abc"}]

    response = as_clinician.post(
        trials_url(patient.pk), trial_payload(dose_changes=changes), format="json"
    )

    assert response.json() == {
        "dose_changes": ["dose change 2: dose_mg: A valid number is required."]
    }


def test_a_correction_to_a_new_dose_of_0_is_refused(as_clinician, patient):
    trial = post_trial(as_clinician, patient.pk)

    response = as_clinician.patch(
        trial_url(patient.pk, trial["id"]),
        {"dose_changes": [{"date": day(10), "dose_mg": 0}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"dose_changes": ["Each new dose must be greater than 0 mg/day."]}


def test_doses_stay_json_numbers(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk),
        trial_payload(dose_mg="37.5", dose_changes=[{"date": day(10), "dose_mg": "12.125"}]),
        format="json",
    )

    assert response.status_code == 201
    assert '"dose_mg":37.5,' in response.content.decode()
    changes = f'"dose_changes":[{{"date":"{day(10)}","dose_mg":12.125}}]'
    assert changes in response.content.decode()
    drugs = as_clinician.get("/api/v1/drugs/").content.decode()
    assert '"min_adequate_dose_mg":25.0,"max_dose_mg":50.0' in drugs  # agomelatine
