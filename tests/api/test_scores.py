"""GET|POST /api/v1/patients/{id}/scores/ and the measured outcome in .../trd/."""

import pytest

from audit.models import AuditEvent
from treatments.models import ScaleScore

from .helpers import (
    assert_field_errors,
    day,
    days_ago,
    days_ahead,
    event_mark,
    events,
    patient_url,
    post_trial,
    trd_url,
)

PHQ9_ITEMS = [2, 2, 1, 2, 1, 1, 1, 1, 1]  # 12, item 9 = 1
FIELDS = {"id", "scale", "date", "total", "items", "source", "version"}


def scores_url(patient_id) -> str:
    return f"{patient_url(patient_id)}scores/"


def post_score(client, patient_id, **payload):
    response = client.post(scores_url(patient_id), payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------


def test_a_phq9_total_is_computed_from_its_nine_items(as_clinician, patient):
    body = post_score(as_clinician, patient.pk, scale="phq9", date=day(0), items=PHQ9_ITEMS)

    assert set(body) == FIELDS
    assert (body["scale"], body["date"], body["total"], body["items"]) == (
        "phq9",
        day(0),
        12,
        PHQ9_ITEMS,
    )
    saved = ScaleScore.objects.get(pk=body["id"])
    assert (saved.patient, saved.total, saved.items, saved.suicide_item) == (
        patient,
        12,
        PHQ9_ITEMS,
        1,
    )


def test_a_phq9_total_that_agrees_with_the_items_is_accepted(as_clinician, patient):
    body = post_score(
        as_clinician, patient.pk, scale="phq9", date=day(0), items=PHQ9_ITEMS, total=12
    )
    assert body["total"] == 12


@pytest.mark.parametrize(
    ("scale", "total"), [("hamd17", 0), ("hamd17", 52), ("madrs", 0), ("madrs", 60)]
)
def test_hamd_and_madrs_need_only_a_total(as_clinician, patient, scale, total):
    body = post_score(as_clinician, patient.pk, scale=scale, date=day(0), total=total)
    assert (body["scale"], body["total"], body["items"]) == (scale, total, [])


def test_hamd_items_may_be_given_and_must_sum_to_the_total(as_clinician, patient):
    items = [2] * 10 + [0] * 7
    body = post_score(as_clinician, patient.pk, scale="hamd17", date=day(0), total=20, items=items)
    assert body["items"] == items


def test_a_score_is_audited_with_its_values(as_clinician, patient, practice):
    body = post_score(as_clinician, patient.pk, scale="phq9", date=day(0), items=PHQ9_ITEMS)

    (event,) = events(action="create", patient_id=patient.pk)
    assert (event.actor, event.practice_id, event.object_type, event.object_id) == (
        "clinician",
        practice.pk,
        "scalescore",
        str(body["id"]),
    )
    assert event.details["changes"]["total"] == [None, 12]
    assert event.details["changes"]["item_scores"] == [None, PHQ9_ITEMS]
    assert event.details["changes"]["scale"] == [None, "phq9"]


# --------------------------------------------------------------------------------------
# Every 400
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"scale": "phq9", "date": day(0), "items": PHQ9_ITEMS, "total": 13}, "total"),
        ({"scale": "phq9", "date": day(0), "total": 12}, "items"),
        ({"scale": "phq9", "date": day(0), "items": PHQ9_ITEMS[:8]}, "items"),
        ({"scale": "phq9", "date": day(0), "items": [*PHQ9_ITEMS[:8], 4]}, "items"),
        ({"scale": "phq9", "date": day(0), "items": [*PHQ9_ITEMS[:8], -1]}, "items"),
        ({"scale": "phq9", "date": day(0), "items": [*PHQ9_ITEMS[:8], "x"]}, "items"),
        ({"scale": "phq9", "date": day(0), "items": [*PHQ9_ITEMS[:8], None]}, "items"),
        ({"scale": "phq9", "date": day(0), "items": "123"}, "items"),
        ({"scale": "hamd17", "date": day(0)}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": None}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": 53}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": -1}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": "many"}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": 20, "items": [1] * 17}, "total"),
        ({"scale": "hamd17", "date": day(0), "total": 20, "items": [5] * 4 + [0] * 13}, "items"),
        ({"scale": "madrs", "date": day(0), "total": 61}, "total"),
        ({"scale": "madrs", "date": day(0), "total": 10, "items": [10]}, "items"),
        ({"scale": "gad7", "date": day(0), "total": 5}, "scale"),
        ({"date": day(0), "total": 5}, "scale"),
        ({"scale": "madrs", "total": 5}, "date"),
        ({"scale": "madrs", "date": "yesterday", "total": 5}, "date"),
        ({"scale": "madrs", "date": days_ahead(1), "total": 5}, "date"),
        ({"scale": "madrs", "date": "1970-01-01", "total": 5}, "date"),  # before birth
    ],
)
def test_invalid_scores_answer_400_and_save_nothing(as_clinician, patient, payload, field):
    mark = event_mark()
    response = as_clinician.post(scores_url(patient.pk), payload, format="json")

    assert_field_errors(response, field)
    assert ScaleScore.objects.count() == 0
    assert not AuditEvent.objects.filter(id__gt=mark, action="create").exists()


def test_a_score_dated_today_is_accepted(as_clinician, patient):
    assert post_score(as_clinician, patient.pk, scale="madrs", date=days_ago(0), total=5)


# --------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------


def test_it_lists_the_patients_scores_in_date_order_and_audits_the_read(as_clinician, patient):
    later = post_score(as_clinician, patient.pk, scale="madrs", date=day(30), total=12)
    earlier = post_score(as_clinician, patient.pk, scale="phq9", date=day(0), items=PHQ9_ITEMS)
    ScaleScore.objects.filter(pk=later["id"]).update(deleted_at="2024-01-01T00:00Z")
    mark = event_mark()

    response = as_clinician.get(scores_url(patient.pk))

    assert response.status_code == 200
    assert response.json() == [earlier]
    (event,) = events(id__gt=mark)
    assert (event.action, event.patient_id, event.details) == (
        "view",
        patient.pk,
        {"api": "scores"},
    )


# --------------------------------------------------------------------------------------
# Who may
# --------------------------------------------------------------------------------------


def test_an_outsider_gets_404_and_writes_nothing(as_outsider, patient):
    assert as_outsider.get(scores_url(patient.pk)).status_code == 404
    response = as_outsider.post(
        scores_url(patient.pk), {"scale": "madrs", "date": day(0), "total": 5}, format="json"
    )
    assert response.status_code == 404
    assert ScaleScore.objects.count() == 0


def test_an_auditor_reads_but_may_not_write(as_auditor, as_clinician, patient):
    post_score(as_clinician, patient.pk, scale="madrs", date=day(0), total=5)

    assert as_auditor.get(scores_url(patient.pk)).status_code == 200
    response = as_auditor.post(
        scores_url(patient.pk), {"scale": "madrs", "date": day(1), "total": 5}, format="json"
    )
    assert response.status_code == 403
    assert ScaleScore.objects.count() == 1


def test_a_practice_admin_has_no_access_to_scores(as_admin, patient):
    assert as_admin.get(scores_url(patient.pk)).status_code == 403


def test_without_a_token_it_answers_401(anonymous, patient):
    assert anonymous.get(scores_url(patient.pk)).status_code == 401
    response = anonymous.post(
        scores_url(patient.pk), {"scale": "madrs", "date": day(0), "total": 5}, format="json"
    )
    assert response.status_code == 401
    assert ScaleScore.objects.count() == 0


def test_a_colleague_records_scores_too(as_colleague, patient):
    assert post_score(as_colleague, patient.pk, scale="hamd17", date=day(0), total=20)


# --------------------------------------------------------------------------------------
# The measured outcome in the TRD answer
# --------------------------------------------------------------------------------------


def trd_trials(client, patient, as_of=None) -> dict:
    response = client.get(trd_url(patient.pk, as_of))
    assert response.status_code == 200, response.content
    return {item["id"]: item for item in response.json()["trials"]}


def test_each_trial_reports_its_measured_outcome_or_null(as_clinician, patient):
    measured = post_trial(
        as_clinician, patient.pk, start_date=day(0), end_date=day(60), outcome="no_response"
    )
    unmeasured = post_trial(
        as_clinician,
        patient.pk,
        drug="venlafaxine",
        start_date=day(100),
        end_date=day(160),
        dose_mg=150,
    )
    post_score(as_clinician, patient.pk, scale="hamd17", date=day(-3), total=24)
    post_score(as_clinician, patient.pk, scale="hamd17", date=day(56), total=10)
    post_score(as_clinician, patient.pk, scale="hamd17", date=day(90), total=4)  # after the end

    trials = trd_trials(as_clinician, patient)

    assert trials[measured["id"]]["measured_outcome"] == "response"  # 24 → 10: 58 %
    assert trials[measured["id"]]["counts_toward_trd"] is True  # the recorded outcome rules
    assert trials[unmeasured["id"]]["measured_outcome"] is None


def test_the_measured_outcome_follows_the_as_of_date(as_clinician, patient):
    trial = post_trial(as_clinician, patient.pk, start_date=day(0), end_date=day(60))
    post_score(as_clinician, patient.pk, scale="madrs", date=day(0), total=30)
    post_score(as_clinician, patient.pk, scale="madrs", date=day(28), total=24)
    post_score(as_clinician, patient.pk, scale="madrs", date=day(50), total=9)

    assert trd_trials(as_clinician, patient, day(30))[trial["id"]]["measured_outcome"] == (
        "no_response"
    )
    assert trd_trials(as_clinician, patient)[trial["id"]]["measured_outcome"] == "remission"


@pytest.mark.parametrize(
    ("end_day", "expected"),
    [(27, None), (28, "no_response")],
    ids=["day_27_too_early_is_null", "day_28_is_measured"],
)
def test_the_measured_outcome_is_null_until_the_end_score_is_28_days_in(
    as_clinician, patient, end_day, expected
):
    trial = post_trial(as_clinician, patient.pk, start_date=day(0), end_date=day(60))
    post_score(as_clinician, patient.pk, scale="hamd17", date=day(0), total=20)
    post_score(as_clinician, patient.pk, scale="hamd17", date=day(end_day), total=21)

    assert trd_trials(as_clinician, patient)[trial["id"]]["measured_outcome"] == expected


def test_the_schema_documents_the_scores_endpoint_and_the_measured_outcome(as_clinician):
    document = as_clinician.get("/api/v1/schema/", {"format": "json"}).json()

    assert {"get", "post"} <= set(document["paths"]["/api/v1/patients/{patient_id}/scores/"])
    trial_fields = document["components"]["schemas"]["TrialEvaluation"]["properties"]
    assert "measured_outcome" in trial_fields
