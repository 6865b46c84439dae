"""The ECT course fields of a therapy: electrode placement and session count, for ECT only."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.dates import today
from treatments.forms import TherapyForm
from treatments.models import EctPlacement, Therapy

pytestmark = pytest.mark.django_db


def therapy(patient, **fields) -> Therapy:
    values = {"kind": "ect", "start_date": today() - timedelta(days=30), "outcome": "unknown"}
    values.update(fields)
    return Therapy(patient=patient, **values)


@pytest.mark.parametrize("placement", ["right_unilateral", "bitemporal", "bifrontal", "unknown"])
def test_an_ect_course_takes_each_placement_and_a_session_count(patient, placement):
    course = therapy(patient, ect_placement=placement, ect_sessions=12)
    course.full_clean()
    assert (course.ect_placement, course.ect_sessions) == (placement, 12)


def test_an_ect_course_without_a_placement_is_recorded_as_not_known(patient):
    course = therapy(patient)
    course.full_clean()
    assert course.ect_placement == EctPlacement.UNKNOWN and course.ect_sessions is None


@pytest.mark.parametrize(
    "fields,bad",
    [
        ({"ect_placement": "bitemporal"}, ["ect_placement"]),
        ({"ect_sessions": 8}, ["ect_sessions"]),
        ({"ect_placement": "unknown", "ect_sessions": 8}, ["ect_placement", "ect_sessions"]),
    ],
)
def test_another_therapy_with_ect_fields_is_refused(patient, fields, bad):
    with pytest.raises(ValidationError) as error:
        therapy(patient, kind="tms", **fields).full_clean()
    assert sorted(error.value.message_dict) == bad


def test_another_therapy_without_ect_fields_is_fine(patient):
    tms = therapy(patient, kind="tms")
    tms.full_clean()
    assert tms.ect_placement == ""


@pytest.mark.parametrize("sessions", [0, 501])
def test_a_session_count_out_of_range_is_refused(patient, sessions):
    with pytest.raises(ValidationError) as error:
        therapy(patient, ect_sessions=sessions).full_clean()
    assert list(error.value.message_dict) == ["ect_sessions"]


def test_an_unknown_placement_is_refused(patient):
    with pytest.raises(ValidationError) as error:
        therapy(patient, ect_placement="left").full_clean()
    assert list(error.value.message_dict) == ["ect_placement"]


def form_data(**overrides):
    data = {
        "kind": "ect",
        "detail": "",
        "start_date": (today() - timedelta(days=20)).isoformat(),
        "end_date": "",
        "outcome": "unknown",
        "ect_placement": "bifrontal",
        "ect_sessions": "9",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_therapy_form_saves_the_ect_fields(patient):
    form = TherapyForm(form_data(), instance=Therapy(patient=patient))
    assert form.is_valid(), form.errors
    assert (form.instance.ect_placement, form.instance.ect_sessions) == ("bifrontal", 9)


def test_the_therapy_form_drops_the_hidden_ect_fields_for_another_therapy(patient):
    form = TherapyForm(form_data(kind="psychotherapy"), instance=Therapy(patient=patient))
    assert form.is_valid(), form.errors
    assert (form.instance.ect_placement, form.instance.ect_sessions) == ("", None)


def test_the_therapy_form_starts_a_new_course_at_not_known(patient):
    form = TherapyForm(instance=Therapy(patient=patient))
    assert form["ect_placement"].value() == "unknown"


def test_the_therapy_page_shows_the_ect_fields_and_their_script(clinician, patient, login):
    page = login(clinician).get(reverse("treatments:therapy-add", args=[patient.pk]))
    html = page.content.decode()
    assert 'name="ect_placement"' in html and 'name="ect_sessions"' in html
    assert "data-ect-fields" in html and "js/therapy_form.js" in html
    assert "<script>" not in html  # no inline script (the CSP forbids it)


def test_adding_an_ect_course_through_the_page_stores_its_placement(clinician, patient, login):
    response = login(clinician).post(
        reverse("treatments:therapy-add", args=[patient.pk]), form_data()
    )
    assert response.status_code == 302
    course = Therapy.objects.get(patient=patient)
    assert (course.ect_placement, course.ect_sessions) == ("bifrontal", 9)


def test_an_outsider_cannot_open_the_therapy_page(outsider, patient, login):
    response = login(outsider).get(reverse("treatments:therapy-add", args=[patient.pk]))
    assert response.status_code == 404
