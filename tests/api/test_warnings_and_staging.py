"""GET /api/v1/patients/{id}/warnings/ and the staging fields of /trd/."""

from datetime import timedelta

import pytest

from tests.factories import PatientFactory
from treatments.models import ScaleScore

from .helpers import (
    API,
    DAY0,
    day,
    event_mark,
    events,
    post_therapy,
    post_trial,
    trd_url,
    trial_url,
)
from .test_query_counts import count_queries, give_history


def warnings_url(patient_id) -> str:
    return f"{API}/patients/{patient_id}/warnings/"


def get_warnings(client, patient) -> list:
    response = client.get(warnings_url(patient.pk))
    assert response.status_code == 200, response.content
    return response.json()


def trd(client, patient, as_of=None) -> dict:
    response = client.get(trd_url(patient.pk, as_of))
    assert response.status_code == 200, response.content
    return response.json()


def trial(client, patient, drug, start, end, dose, **extra) -> dict:
    return post_trial(
        client,
        patient.pk,
        drug=drug,
        start_date=day(start),
        end_date=None if end is None else day(end),
        dose_mg=dose,
        **extra,
    )


# --------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------


def test_an_maoi_overlapping_an_ssri_is_a_high_warning_with_its_sources(as_clinician, patient):
    ssri = trial(as_clinician, patient, "sertraline", 0, 60, 100)
    maoi = trial(as_clinician, patient, "phenelzine", 60, 120, 45)

    (warning,) = get_warnings(as_clinician, patient)

    assert set(warning) == {"code", "severity", "message", "trial_ids", "sources"}
    assert warning["code"] == "maoi_serotonergic_overlap"
    assert warning["severity"] == "high"
    assert warning["trial_ids"] == [ssri["id"], maoi["id"]]
    assert "overlap by 1 day" in warning["message"]
    assert "NICE NG222 rec 1.9.9" in warning["sources"]


def test_every_kind_of_warning_comes_through_most_severe_first(as_clinician, patient):
    fluoxetine = trial(as_clinician, patient, "fluoxetine", 0, 40, 20)
    phenelzine = trial(as_clinician, patient, "phenelzine", 60, 100, 45)  # 20 days: < 5 weeks
    lamotrigine = trial(as_clinician, patient, "lamotrigine", 200, 300, 100)
    valproate = trial(as_clinician, patient, "valproate", 250, 300, 500)
    sertraline = trial(as_clinician, patient, "sertraline", 400, 500, 250)  # max 200
    citalopram = trial(as_clinician, patient, "citalopram", 450, 500, 20)

    body = get_warnings(as_clinician, patient)

    assert [(w["code"], w["severity"], w["trial_ids"]) for w in body] == [
        ("maoi_washout_too_short", "high", [fluoxetine["id"], phenelzine["id"]]),
        ("lamotrigine_interaction", "high", [lamotrigine["id"], valproate["id"]]),
        ("dose_above_maximum", "moderate", [sertraline["id"]]),
        ("same_class_overlap", "moderate", [sertraline["id"], citalopram["id"]]),
    ]
    assert body[1]["sources"] == [
        "Lamictal label (table 13)",
        "What Causes Treatment Resistant Depression",
    ]


@pytest.mark.parametrize("partner", ["bupropion", "mirtazapine", "methylphenidate"])
def test_an_maoi_overlapping_a_noradrenergic_drug_or_stimulant_names_hypertensive_crisis(
    as_clinician, patient, partner
):
    maoi = trial(as_clinician, patient, "phenelzine", 0, 60, 45)
    other = trial(
        as_clinician,
        patient,
        partner,
        30,
        90,
        10 if partner == "methylphenidate" else 150 if partner == "bupropion" else 15,
    )

    (warning,) = get_warnings(as_clinician, patient)

    assert (warning["code"], warning["severity"]) == ("maoi_hypertensive_overlap", "high")
    assert warning["trial_ids"] == [maoi["id"], other["id"]]
    assert "hypertensive crisis" in warning["message"] and warning["sources"]


def test_warnings_are_derived_on_read_and_follow_edits(as_clinician, patient):
    trial(as_clinician, patient, "sertraline", 0, 60, 100)
    maoi = trial(as_clinician, patient, "phenelzine", 30, 120, 45)
    assert len(get_warnings(as_clinician, patient)) == 1

    as_clinician.patch(trial_url(patient.pk, maoi["id"]), {"start_date": day(74)}, format="json")
    assert get_warnings(as_clinician, patient) == []  # stopped on day 60: 14 days is enough

    as_clinician.delete(trial_url(patient.pk, maoi["id"]))
    assert get_warnings(as_clinician, patient) == []


def test_a_patient_without_trials_has_no_warnings(as_clinician, patient):
    assert get_warnings(as_clinician, patient) == []


def test_reading_the_warnings_is_audited_as_a_view(as_clinician, patient, practice):
    mark = event_mark()

    get_warnings(as_clinician, patient)

    (event,) = events(id__gt=mark)
    assert (event.action, event.patient_id, event.practice_id, event.actor) == (
        "view",
        patient.pk,
        practice.pk,
        "clinician",
    )
    assert event.details == {"api": "warnings"}


def test_an_auditor_may_read_the_warnings(as_auditor, as_clinician, patient):
    trial(as_clinician, patient, "sertraline", 0, 60, 100)
    trial(as_clinician, patient, "citalopram", 30, 60, 20)

    assert [w["code"] for w in get_warnings(as_auditor, patient)] == ["same_class_overlap"]


def test_it_hides_another_practices_warnings(as_outsider, as_clinician, patient):
    trial(as_clinician, patient, "sertraline", 0, 60, 100)
    mark = event_mark()

    assert as_outsider.get(warnings_url(patient.pk)).status_code == 404
    assert not events(id__gt=mark)


def test_a_practice_admin_cannot_read_the_warnings(as_admin, patient):
    mark = event_mark()
    assert as_admin.get(warnings_url(patient.pk)).status_code == 403
    assert not events(id__gt=mark)


def test_warnings_need_a_token(anonymous, patient):
    assert anonymous.get(warnings_url(patient.pk)).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_warnings_are_read_only(as_clinician, patient, method):
    assert getattr(as_clinician, method)(warnings_url(patient.pk)).status_code == 405


def test_a_missing_patient_is_404(as_clinician):
    assert as_clinician.get(warnings_url(999999)).status_code == 404


# --------------------------------------------------------------------------------------
# Staging in /trd/
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [None, "response"], ids=["no-trial", "a-responder"])
def test_msm_is_null_without_a_trial_counting_toward_trd(as_clinician, patient, outcome):
    if outcome:
        trial(as_clinician, patient, "sertraline", 0, 60, 100, outcome=outcome)

    body = trd(as_clinician, patient)

    assert body["maudsley"] is None
    assert body["thase_rush_stage"] == 0


def test_one_failed_trial_with_an_unknown_history_is_staged_with_the_unknowns_assumed(
    as_clinician, patient
):
    trial(as_clinician, patient, "sertraline", 0, 60, 100)

    msm = trd(as_clinician, patient)["maudsley"]

    assert (msm["score"], msm["band"]) == (3, "mild")
    inputs = msm["inputs"]
    assert set(inputs) == {"duration", "severity", "failed_antidepressants", "augmentation", "ect"}
    assert {key: item["assumed"] for key, item in inputs.items()} == {
        "duration": True,
        "severity": True,
        "failed_antidepressants": False,
        "augmentation": False,
        "ect": False,
    }
    assert inputs["duration"]["value"] is None and inputs["severity"]["value"] is None
    assert inputs["failed_antidepressants"] == {
        "value": 1,
        "category": "1–2 medications",
        "points": 1,
        "assumed": False,
        "note": "sertraline",
    }


def full_history(client, patient, **ect):
    patient.episode_start = DAY0
    patient.baseline_severity = "severe"
    patient.save()
    trial(client, patient, "sertraline", 0, 42, 50, outcome="no_response")
    trial(client, patient, "venlafaxine", 50, 92, 150, outcome="partial_response")
    trial(client, patient, "amitriptyline", 100, 142, 150, outcome="no_response")
    trial(client, patient, "phenelzine", 200, 242, 45, outcome="no_response")
    trial(client, patient, "lithium", 250, 300, 600, outcome="no_response")
    post_therapy(client, patient.pk, start_date=day(300), end_date=day(330), **ect)
    return trd(client, patient, as_of=day(400))  # 2024-02-06: 13 completed months


def test_bilateral_in_the_ects_free_text_is_not_read_for_stage_v(as_clinician, patient):
    body = full_history(as_clinician, patient)  # detail "bilateral, 12 sessions"

    assert body["thase_rush_stage"] == 4
    assert body["maudsley"]["inputs"]["ect"]["value"] is True  # ECT in the episode, any kind


def test_a_failed_bifrontal_ect_course_makes_stage_v(as_clinician, patient):
    assert full_history(as_clinician, patient, ect_placement="bifrontal")["thase_rush_stage"] == 5


def test_a_full_history_stages_as_thase_rush_iv_and_msm_moderate(as_clinician, patient):
    patient.episode_start = DAY0
    patient.baseline_severity = "severe"
    patient.save()
    trial(as_clinician, patient, "sertraline", 0, 42, 50, outcome="no_response")
    trial(as_clinician, patient, "venlafaxine", 50, 92, 150, outcome="partial_response")
    trial(as_clinician, patient, "amitriptyline", 100, 142, 150, outcome="no_response")
    trial(as_clinician, patient, "phenelzine", 200, 242, 45, outcome="no_response")
    trial(as_clinician, patient, "lithium", 250, 300, 600, outcome="no_response")
    post_therapy(as_clinician, patient.pk, start_date=day(300), end_date=day(330))

    body = trd(as_clinician, patient, as_of=day(400))  # 2024-02-06: 13 completed months

    assert body["thase_rush_stage"] == 4  # the ECT has no bitemporal/bifrontal placement
    msm = body["maudsley"]
    points = {key: (item["value"], item["points"]) for key, item in msm["inputs"].items()}
    assert points == {
        "duration": (13, 2),
        "severity": ("severe", 4),
        "failed_antidepressants": (4, 2),
        "augmentation": (True, 1),
        "ect": (True, 1),
    }
    assert (msm["score"], msm["band"]) == (10, "moderate")
    assert not any(item["assumed"] for item in msm["inputs"].values())
    # The evaluation itself is unchanged.
    assert body["meets_trd"] is True and body["failed_adequate_trial_count"] == 4


def test_as_of_before_the_later_trials_lowers_the_stage(as_clinician, patient):
    trial(as_clinician, patient, "sertraline", 0, 42, 50)
    trial(as_clinician, patient, "venlafaxine", 50, 92, 150)

    assert trd(as_clinician, patient, as_of=day(45))["thase_rush_stage"] == 1
    assert trd(as_clinician, patient, as_of=day(95))["thase_rush_stage"] == 2


def test_without_an_entry_severity_comes_from_the_first_four_weeks_of_scores(as_clinician, patient):
    patient.episode_start = DAY0
    patient.save()
    trial(as_clinician, patient, "sertraline", 0, 60, 100)
    ScaleScore.objects.create(
        patient=patient,
        scale="phq9",
        date=DAY0 + timedelta(days=5),
        total=17,
        items=[2, 2, 2, 2, 2, 2, 2, 3, 0],
    )
    ScaleScore.objects.create(
        patient=patient,
        scale="phq9",
        date=DAY0 + timedelta(days=40),
        total=25,
        items=[3, 3, 3, 3, 3, 3, 3, 3, 1],
    )

    severity = trd(as_clinician, patient)["maudsley"]["inputs"]["severity"]

    assert (severity["value"], severity["points"], severity["assumed"]) == ("moderate", 3, False)
    assert "PHQ-9 17" in severity["note"]


@pytest.mark.parametrize("url", [trd_url, warnings_url], ids=["trd", "warnings"])
def test_staging_and_warnings_read_in_the_same_number_of_queries_for_2_or_40_trials(
    as_clinician, practice, url, django_assert_max_num_queries
):
    small = PatientFactory(practice=practice, identifier="SMALL", episode_start=DAY0)
    large = PatientFactory(practice=practice, identifier="LARGE", episode_start=DAY0)
    give_history(small, 2)
    give_history(large, 40)
    for patient in (small, large):
        ScaleScore.objects.create(patient=patient, scale="madrs", date=DAY0, total=30)
    as_clinician.get(url(small.pk))  # warm the token and the caches

    baseline = count_queries(as_clinician, url(small.pk))

    with django_assert_max_num_queries(baseline):
        response = as_clinician.get(url(large.pk))
    assert response.status_code == 200
