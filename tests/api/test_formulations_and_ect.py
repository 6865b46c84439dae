"""The trial API's `formulation` and combination brands; the therapy API's ECT fields."""

import pytest

from treatments.models import Therapy, Trial

from .helpers import (
    assert_field_errors,
    clinical_counts,
    post_therapy,
    post_trial,
    therapies_url,
    therapy_payload,
    therapy_url,
    trial_payload,
    trial_url,
    trials_url,
)

pytestmark = pytest.mark.django_db


def test_a_trial_records_its_formulation(as_clinician, patient):
    body = post_trial(as_clinician, patient.pk, drug="fluoxetine", formulation="weekly", dose_mg=90)
    assert body["formulation"] == "weekly"
    assert Trial.objects.get(pk=body["id"]).formulation == "weekly"


def test_a_trial_without_a_formulation_is_the_standard_form(as_clinician, patient):
    body = post_trial(as_clinician, patient.pk)
    assert body["formulation"] == ""


def test_a_formulation_of_another_drug_is_refused_on_formulation(as_clinician, patient):
    before = clinical_counts()
    response = as_clinician.post(
        trials_url(patient.pk), trial_payload(formulation="cr"), format="json"
    )
    body = assert_field_errors(response, "formulation")
    assert "not a formulation of sertraline" in body["formulation"][0]
    assert clinical_counts() == before


def test_a_formulation_can_be_changed_and_is_audited(as_clinician, patient):
    created = post_trial(as_clinician, patient.pk, drug="paroxetine", dose_mg=25)
    response = as_clinician.patch(
        trial_url(patient.pk, created["id"]), {"formulation": "cr"}, format="json"
    )
    assert response.status_code == 200, response.content
    trial = Trial.objects.get(pk=created["id"])
    assert (trial.formulation, trial.version) == ("cr", 2)


@pytest.mark.parametrize(
    "brand,named",
    [
        ("Symbyax", "Symbyax is olanzapine + fluoxetine: record each as its own trial or medicine"),
        ("auvelity", "Auvelity is dextromethorphan + bupropion"),
        ("Limbitrol", "Limbitrol is chlordiazepoxide + amitriptyline"),
    ],
)
def test_a_combination_brand_as_the_drug_names_its_components(as_clinician, patient, brand, named):
    before = clinical_counts()
    response = as_clinician.post(trials_url(patient.pk), trial_payload(drug=brand), format="json")
    body = assert_field_errors(response, "drug")
    assert named in body["drug"][0]
    assert clinical_counts() == before


def test_an_unknown_drug_is_still_unknown(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk), trial_payload(drug="Symbyaxx"), format="json"
    )
    assert "Unknown drug" in assert_field_errors(response, "drug")["drug"][0]


def test_an_ect_course_records_placement_and_sessions(as_clinician, patient):
    body = post_therapy(as_clinician, patient.pk, ect_placement="bitemporal", ect_sessions=12)
    assert (body["ect_placement"], body["ect_sessions"]) == ("bitemporal", 12)
    course = Therapy.objects.get(pk=body["id"])
    assert (course.ect_placement, course.ect_sessions) == ("bitemporal", 12)


def test_an_ect_course_without_a_placement_is_not_known(as_clinician, patient):
    body = post_therapy(as_clinician, patient.pk)
    assert (body["ect_placement"], body["ect_sessions"]) == ("unknown", None)


def test_other_therapies_have_empty_ect_fields(as_clinician, patient):
    body = post_therapy(as_clinician, patient.pk, kind="tms")
    assert (body["ect_placement"], body["ect_sessions"]) == ("", None)


@pytest.mark.parametrize("field,value", [("ect_placement", "bifrontal"), ("ect_sessions", 6)])
def test_ect_fields_on_another_therapy_are_refused(as_clinician, patient, field, value):
    before = clinical_counts()
    response = as_clinician.post(
        therapies_url(patient.pk), therapy_payload(kind="tms", **{field: value}), format="json"
    )
    assert "Only for ECT" in assert_field_errors(response, field)[field][0]
    assert clinical_counts() == before


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"ect_placement": "left"}, "ect_placement"),
        ({"ect_sessions": 0}, "ect_sessions"),
    ],
)
def test_invalid_ect_values_are_refused(as_clinician, patient, payload, field):
    response = as_clinician.post(
        therapies_url(patient.pk), therapy_payload(**payload), format="json"
    )
    assert_field_errors(response, field)


def test_switching_an_ect_course_to_another_kind_needs_its_ect_fields_cleared(
    as_clinician, patient
):
    created = post_therapy(as_clinician, patient.pk, ect_placement="bifrontal")
    url = therapy_url(patient.pk, created["id"])
    assert_field_errors(as_clinician.patch(url, {"kind": "tms"}, format="json"), "ect_placement")
    response = as_clinician.patch(url, {"kind": "tms", "ect_placement": ""}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["ect_placement"] == ""


def test_an_outsider_can_neither_record_a_formulation_nor_an_ect_course(as_outsider, patient):
    before = clinical_counts()
    assert (
        as_outsider.post(
            trials_url(patient.pk),
            trial_payload(drug="fluoxetine", formulation="weekly", dose_mg=90),
            format="json",
        ).status_code
        == 404
    )
    assert (
        as_outsider.post(
            therapies_url(patient.pk), therapy_payload(ect_placement="bitemporal"), format="json"
        ).status_code
        == 404
    )
    assert clinical_counts() == before
