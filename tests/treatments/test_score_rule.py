"""The score rule lives in one place: scales.validate, run by ScaleScore.clean (which also
fills a PHQ-9's total from its items); the web form, the API serializer and the services only
reuse it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from api.serializers import ScoreSerializer
from core.dates import today
from patients.scope import PatientScope
from tests.factories import ScaleScoreFactory
from treatments import scales, services
from treatments.models import ScaleScore

pytestmark = pytest.mark.django_db

PHQ9_ITEMS = [2, 2, 1, 2, 1, 1, 1, 1, 1]  # 12


def full_clean_errors(score) -> dict:
    with pytest.raises(ValidationError) as refused:
        score.full_clean()
    return refused.value.message_dict


@pytest.mark.parametrize(("scale", "items"), [("hamd17", [1] * 17), ("hamd17", []), ("madrs", [])])
def test_hamd_and_madrs_need_their_total_even_with_items(scale, items):
    name = scales.SCALES[scale].name
    assert scales.validate(scale, None, items) == {"total": f"Enter the {name} total."}


def test_the_model_fills_a_phq9_total_from_its_items(patient):
    score = ScaleScore(patient=patient, scale="phq9", date=today(), items=PHQ9_ITEMS)

    score.full_clean()

    assert score.total == 12


def test_a_missing_total_is_told_once_in_the_scales_words(patient):
    score = ScaleScore(patient=patient, scale="hamd17", date=today(), items=[1] * 17)

    assert full_clean_errors(score) == {"total": ["Enter the HAM-D-17 total."]}
    assert score.total is None


def test_the_model_checks_the_scale_and_the_date_of_birth_together(patient):
    score = ScaleScore(
        patient=patient,
        scale="phq9",
        date=patient.date_of_birth - timedelta(days=1),
        total=13,
        items=PHQ9_ITEMS,
    )

    assert full_clean_errors(score) == {
        "total": ["The total 13 is not the sum of the items (12)."],
        "date": ["Cannot be before the patient's date of birth."],
    }


def test_a_correction_keeps_what_it_does_not_name_and_new_items_get_their_sum():
    score = ScaleScore(scale="phq9", total=12, items=PHQ9_ITEMS)

    score.correct({"items": [0] * 9})
    assert score.total is None
    score.clean()
    assert (score.total, score.items) == (0, [0] * 9)

    score.correct({"total": 3})
    with pytest.raises(ValidationError):
        score.clean()


def test_the_service_gets_the_total_from_the_model(clinician, patient):
    score = services.score_create(
        scope=PatientScope(clinician, patient),
        score=ScaleScore(scale="phq9", date=today(), items=PHQ9_ITEMS),
    )

    assert ScaleScore.objects.get(pk=score.pk).total == 12


def test_the_service_refuses_a_hamd_without_a_total_like_the_form_and_the_api(clinician, patient):
    with pytest.raises(ValidationError) as refused:
        services.score_create(
            scope=PatientScope(clinician, patient),
            score=ScaleScore(scale="hamd17", date=today(), items=[1] * 17),
        )

    assert refused.value.message_dict == {"total": ["Enter the HAM-D-17 total."]}
    assert not ScaleScore.objects.exists()


def test_the_serializer_reports_the_models_errors_and_leaves_the_total_to_it():
    refused = ScoreSerializer(data={"scale": "madrs", "date": today().isoformat(), "total": 61})
    assert not refused.is_valid()
    assert refused.errors == {"total": ["The MADRS total is 0–60."]}

    accepted = ScoreSerializer(
        data={"scale": "phq9", "date": today().isoformat(), "items": PHQ9_ITEMS}
    )
    assert accepted.is_valid(), accepted.errors
    assert "total" not in accepted.validated_data  # ScaleScore.clean fills it


def test_a_partial_correction_is_checked_against_the_recorded_score(patient):
    score = ScaleScoreFactory(patient=patient, scale="phq9", items=PHQ9_ITEMS, total=12)

    wrong_total = ScoreSerializer(score, data={"total": 3}, partial=True)
    assert not wrong_total.is_valid()
    assert wrong_total.errors == {"total": ["The total 3 is not the sum of the items (12)."]}

    new_items = ScoreSerializer(score, data={"items": [0] * 9}, partial=True)
    assert new_items.is_valid(), new_items.errors
    score.refresh_from_db()
    assert (score.total, score.items) == (12, PHQ9_ITEMS)  # checking changed nothing


def test_the_form_shows_each_scale_message_once(login, clinician, patient):
    response = login(clinician).post(
        reverse("treatments:score-add", args=[patient.pk]),
        {"scale": "hamd17", "date": today().isoformat(), "total": ""},
    )

    assert response.context["form"].errors["total"] == ["Enter the HAM-D-17 total."]
