"""GET /api/v1/patients/{id}/trd/ and /options/, with every scenario built through the API."""

import pytest

from audit.models import AuditEvent
from core.dates import today
from treatments.options import OPTION_KEYS, SOURCE_TITLES

from .helpers import (
    REMOVAL,
    as_number,
    assert_field_errors,
    day,
    days_ago,
    event_mark,
    events,
    options_url,
    patient_url,
    post_therapy,
    post_trial,
    therapy_url,
    trd_url,
    trial_url,
)


def adequate_trial(client, patient, drug="sertraline", start=0, days=42, dose=50, **extra):
    """A closed trial of `days` days at `dose` mg/day starting on day(start)."""
    return post_trial(
        client,
        patient.pk,
        drug=drug,
        start_date=day(start),
        end_date=day(start + days),
        dose_mg=dose,
        **extra,
    )


def trd(client, patient, as_of=None) -> dict:
    response = client.get(trd_url(patient.pk, as_of))
    assert response.status_code == 200, response.content
    return response.json()


def by_id(body) -> dict:
    return {row["id"]: row for row in body["trials"]}


# --------------------------------------------------------------------------------------
# The rule
# --------------------------------------------------------------------------------------


def test_two_failed_adequate_trials_of_different_drugs_meet_trd(as_clinician, patient):
    first = adequate_trial(as_clinician, patient, "sertraline", outcome="no_response")
    second = adequate_trial(
        as_clinician, patient, "venlafaxine", start=60, dose=150, outcome="partial_response"
    )

    body = trd(as_clinician, patient)

    assert body["meets_trd"] is True
    assert body["failed_adequate_trial_count"] == 2
    assert body["as_of"] == today().isoformat()
    assert [row["id"] for row in body["trials"]] == [first["id"], second["id"]]
    for row, drug in zip(body["trials"], ["sertraline", "venlafaxine"], strict=True):
        assert row["drug"] == drug
        assert row["adequate"] is True
        assert row["counts_toward_trd"] is True
        assert row["days_at_adequate_dose"] == 42
        assert row["reasons"] == []


def test_the_same_drug_twice_counts_once(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    adequate_trial(as_clinician, patient, "Zoloft", start=100, dose=100)

    body = trd(as_clinician, patient)

    assert body["meets_trd"] is False
    assert body["failed_adequate_trial_count"] == 1
    assert [row["drug"] for row in body["trials"]] == ["sertraline", "sertraline"]
    assert all(row["counts_toward_trd"] for row in body["trials"])


def test_41_days_at_an_adequate_dose_is_not_enough(as_clinician, patient):
    short = adequate_trial(as_clinician, patient, "sertraline", days=41)
    adequate_trial(as_clinician, patient, "fluoxetine", start=60, dose=20)

    body = trd(as_clinician, patient)

    row = by_id(body)[short["id"]]
    assert row["adequate"] is False
    assert row["counts_toward_trd"] is False
    assert row["days_at_adequate_dose"] == 41
    assert "only 41 of the 42 required days at an adequate dose" in row["reasons"]
    assert body["meets_trd"] is False
    assert body["failed_adequate_trial_count"] == 1


def test_a_dose_below_the_adequate_dose_is_explained(as_clinician, patient):
    low = adequate_trial(as_clinician, patient, "sertraline", days=90, dose=25)

    row = by_id(trd(as_clinician, patient))[low["id"]]

    assert row["adequate"] is False
    assert row["days_at_adequate_dose"] == 0
    assert row["reasons"] == ["dose 25 mg/day is below the adequate 50 mg/day for sertraline"]


def test_a_dose_change_up_to_an_adequate_dose_starts_the_count(as_clinician, patient):
    raised = post_trial(
        as_clinician,
        patient.pk,
        start_date=day(0),
        end_date=day(52),
        dose_mg=25,
        dose_changes=[{"date": day(10), "dose_mg": 50}],
    )
    lowered = post_trial(
        as_clinician,
        patient.pk,
        drug="fluoxetine",
        start_date=day(100),
        end_date=day(150),
        dose_mg=20,
        dose_changes=[{"date": day(141), "dose_mg": 10}],
    )

    rows = by_id(trd(as_clinician, patient))

    assert rows[raised["id"]]["days_at_adequate_dose"] == 42
    assert rows[raised["id"]]["adequate"] is True
    assert rows[lowered["id"]]["days_at_adequate_dose"] == 41
    assert rows[lowered["id"]]["adequate"] is False


@pytest.mark.parametrize("outcome", ["response", "remission", "intolerance", "ongoing", "unknown"])
def test_only_failed_outcomes_count(as_clinician, patient, outcome):
    adequate_trial(as_clinician, patient, "sertraline", outcome=outcome)
    adequate_trial(as_clinician, patient, "fluoxetine", start=60, dose=20)

    body = trd(as_clinician, patient)

    first = body["trials"][0]
    assert first["adequate"] is True
    assert first["counts_toward_trd"] is False
    assert first["reasons"] == [f"outcome: {outcome.replace('_', ' ')}"]
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 1)


def test_poor_adherence_makes_a_trial_inadequate(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline", adherence="poor")

    row = trd(as_clinician, patient)["trials"][0]

    assert row["adequate"] is False
    assert row["days_at_adequate_dose"] == 42
    assert "adherence recorded as poor" in row["reasons"]


def test_lithium_is_not_an_antidepressant_trial(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    adequate_trial(as_clinician, patient, "lithium", start=60, dose=800)

    body = trd(as_clinician, patient)

    lithium = body["trials"][1]
    assert lithium["drug"] == "lithium"
    assert lithium["adequate"] is False
    assert lithium["reasons"] == ["lithium is an augmentation agent, not an antidepressant"]
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 1)


def test_a_trial_that_ended_before_the_current_episode_does_not_count(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    adequate_trial(as_clinician, patient, "fluoxetine", start=400, dose=20)
    as_clinician.patch(patient_url(patient.pk), {"episode_start": day(300)}, format="json")

    body = trd(as_clinician, patient)

    old = body["trials"][0]
    assert old["adequate"] is True
    assert old["counts_toward_trd"] is False
    assert old["reasons"] == [
        f"before the current episode (ended {day(42)}, episode began {day(300)})"
    ]
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 1)


def test_an_ongoing_trial_is_counted_up_to_as_of(as_clinician, patient):
    ongoing = post_trial(
        as_clinician,
        patient.pk,
        start_date=day(0),
        end_date=None,
        dose_mg=50,
        outcome="no_response",
    )

    rows = by_id(trd(as_clinician, patient, as_of=day(30)))
    assert rows[ongoing["id"]]["days_at_adequate_dose"] == 30
    assert rows[ongoing["id"]]["adequate"] is False
    assert rows[ongoing["id"]]["reasons"] == ["only 30 of the 42 required days at an adequate dose"]

    rows = by_id(trd(as_clinician, patient, as_of=day(42)))
    assert rows[ongoing["id"]]["adequate"] is True


@pytest.mark.parametrize(
    ("as_of", "expected_days", "counts"),
    [(41, 41, False), (42, 42, True)],
    ids=["as_of_41_days_in", "as_of_42_days_in"],
)
def test_clause_a_an_ended_trial_counts_only_its_days_up_to_as_of(
    as_clinician, patient, as_of, expected_days, counts
):
    ended = adequate_trial(as_clinician, patient, "sertraline", days=90, outcome="no_response")

    row = by_id(trd(as_clinician, patient, as_of=day(as_of)))[ended["id"]]

    assert row["days_at_adequate_dose"] == expected_days
    assert row["counts_toward_trd"] is counts


@pytest.mark.parametrize(
    ("onset", "counts"),
    [(18, True), (19, False)],
    ids=["42_days_in_the_episode", "41_days_in_the_episode"],
)
def test_clause_b_a_trial_needs_42_adequate_days_in_the_current_episode(
    as_clinician, patient, onset, counts
):
    spanning = adequate_trial(as_clinician, patient, "sertraline", days=60)
    as_clinician.patch(patient_url(patient.pk), {"episode_start": day(onset)}, format="json")

    row = by_id(trd(as_clinician, patient))[spanning["id"]]

    assert row["counts_toward_trd"] is counts
    assert row["reasons"] == (
        []
        if counts
        else [
            "only 41 of the 42 required days at an adequate dose fell in the current episode "
            f"(from {day(19)})"
        ]
    )


def test_counting_trials_taken_together_carry_a_combination_note(as_clinician, patient):
    first = adequate_trial(as_clinician, patient, "sertraline", days=70)
    second = adequate_trial(as_clinician, patient, "venlafaxine", start=42, dose=150)
    alone = adequate_trial(as_clinician, patient, "fluoxetine", start=200, dose=20)

    body = trd(as_clinician, patient)
    rows = by_id(body)

    assert rows[first["id"]]["notes"] == [
        "taken together with venlafaxine for 28 days (a combination; some definitions count "
        "it as one trial)"
    ]
    assert rows[second["id"]]["notes"] == [
        "taken together with sertraline for 28 days (a combination; some definitions count "
        "it as one trial)"
    ]
    assert rows[alone["id"]]["notes"] == []
    assert body["failed_adequate_trial_count"] == 3  # the note leaves the count alone


def test_a_deleted_trial_no_longer_counts(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    second = adequate_trial(as_clinician, patient, "fluoxetine", start=60, dose=20)
    assert trd(as_clinician, patient)["meets_trd"] is True

    assert (
        as_clinician.delete(trial_url(patient.pk, second["id"]), REMOVAL, format="json").status_code
        == 204
    )

    body = trd(as_clinician, patient)
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 1)
    assert second["id"] not in by_id(body)


def test_an_update_through_the_api_changes_the_evaluation(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    second = adequate_trial(
        as_clinician, patient, "fluoxetine", start=60, dose=20, outcome="response"
    )
    assert trd(as_clinician, patient)["meets_trd"] is False

    as_clinician.patch(
        trial_url(patient.pk, second["id"]), {"outcome": "no_response"}, format="json"
    )

    assert trd(as_clinician, patient)["meets_trd"] is True
    patient.refresh_from_db()
    assert (patient.trd_meets, patient.trd_failed_count) == (True, 2)


# --------------------------------------------------------------------------------------
# as_of
# --------------------------------------------------------------------------------------


def test_as_of_before_the_second_trial_started_leaves_it_out(as_clinician, patient):
    first = adequate_trial(as_clinician, patient, "sertraline")
    second = adequate_trial(as_clinician, patient, "fluoxetine", start=60, dose=20)

    body = trd(as_clinician, patient, as_of=day(59))

    assert body["as_of"] == day(59)
    assert [row["id"] for row in body["trials"]] == [first["id"]]
    assert second["id"] not in by_id(body)
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 1)

    on_the_day = trd(as_clinician, patient, as_of=day(60))
    assert [row["id"] for row in on_the_day["trials"]] == [first["id"], second["id"]]


def test_as_of_before_any_trial_gives_an_empty_evaluation(as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")

    body = trd(as_clinician, patient, as_of=day(-1))

    assert body["trials"] == []
    assert (body["meets_trd"], body["failed_adequate_trial_count"]) == (False, 0)


@pytest.mark.parametrize(
    "as_of", ["2024-02-30", "yesterday", "2024/01/01", "01-02-2024", "2024-13-01", "20240101x"]
)
def test_a_bad_as_of_is_400_and_writes_no_audit_event(as_clinician, patient, as_of):
    response = as_clinician.get(trd_url(patient.pk, as_of))

    assert_field_errors(response, "as_of")
    assert not AuditEvent.objects.exists()


def test_a_patient_without_trials_does_not_meet_trd(as_clinician, patient):
    body = trd(as_clinician, patient)

    assert body == {**body, "meets_trd": False, "failed_adequate_trial_count": 0, "trials": []}


# --------------------------------------------------------------------------------------
# Access and audit
# --------------------------------------------------------------------------------------


def test_reading_the_evaluation_is_audited(as_clinician, patient, practice):
    adequate_trial(as_clinician, patient)
    mark = event_mark()

    trd(as_clinician, patient, as_of=day(50))

    (event,) = events(id__gt=mark)
    assert (event.action, event.patient_id, event.practice_id, event.actor) == (
        "view",
        patient.pk,
        practice.pk,
        "clinician",
    )


def test_an_auditor_may_read_the_evaluation(as_auditor, as_clinician, patient):
    adequate_trial(as_clinician, patient, "sertraline")
    adequate_trial(as_clinician, patient, "fluoxetine", start=60, dose=20)

    assert trd(as_auditor, patient)["meets_trd"] is True


def test_it_hides_another_practices_evaluation_and_options(as_outsider, as_clinician, patient):
    adequate_trial(as_clinician, patient)
    mark = event_mark()

    assert as_outsider.get(trd_url(patient.pk)).status_code == 404
    assert as_outsider.get(trd_url(patient.pk, day(10))).status_code == 404
    assert as_outsider.get(options_url(patient.pk)).status_code == 404
    assert not events(id__gt=mark)


def test_a_practice_admin_cannot_read_the_evaluation_or_options(as_admin, patient):
    assert as_admin.get(trd_url(patient.pk)).status_code == 403
    assert as_admin.get(options_url(patient.pk)).status_code == 403


# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


def options(client, patient) -> dict:
    response = client.get(options_url(patient.pk))
    assert response.status_code == 200, response.content
    return {item["key"]: item for item in response.json()}


def test_it_lists_the_17_options_in_order_none_tried_yet(as_clinician, patient):
    response = as_clinician.get(options_url(patient.pk))

    assert response.status_code == 200
    items = response.json()
    assert [item["key"] for item in items] == list(OPTION_KEYS)
    assert len(items) == 17
    for item in items:
        assert set(item) >= {"key", "title", "category", "summary", "already_tried", "sources"}
        assert item["title"] and item["summary"] and item["category"]
        assert item["already_tried"] is False
        assert item["sources"] and set(item["sources"]) <= SOURCE_TITLES


def test_lithium_and_ketamine_esketamine_are_marked_as_linked_to_suicide_risk(
    as_clinician, patient
):
    items = as_clinician.get(options_url(patient.pk)).json()

    flagged = {item["key"]: item for item in items if item["suicide_risk_related"]}
    assert set(flagged) == {"augmentation", "ketamine_esketamine"}
    assert any(
        c.startswith("Suicide risk: ") and "lithium" in c
        for c in flagged["augmentation"]["cautions"]
    )


def test_an_ect_therapy_marks_ect_as_already_tried(as_clinician, patient):
    post_therapy(as_clinician, patient.pk, kind="ect")

    items = options(as_clinician, patient)

    assert items["ect"]["already_tried"] is True
    assert [key for key, item in items.items() if item["already_tried"]] == ["ect"]


def test_a_lithium_trial_marks_augmentation_as_already_tried(as_clinician, patient):
    adequate_trial(as_clinician, patient, "Priadel", dose=800)

    items = options(as_clinician, patient)

    assert items["augmentation"]["already_tried"] is True
    assert [key for key, item in items.items() if item["already_tried"]] == ["augmentation"]


def test_an_antipsychotic_trial_marks_augmentation_as_already_tried(as_clinician, patient):
    adequate_trial(as_clinician, patient, "aripiprazole", dose=5)

    assert options(as_clinician, patient)["augmentation"]["already_tried"] is True


def test_ketamine_or_esketamine_marks_the_ketamine_option(as_clinician, patient):
    post_therapy(
        as_clinician,
        patient.pk,
        kind="esketamine",
        start_date=days_ago(5),
        end_date=None,
        outcome="ongoing",
    )

    assert options(as_clinician, patient)["ketamine_esketamine"]["already_tried"] is True


def test_deleting_the_therapy_clears_already_tried(as_clinician, patient):
    ect = post_therapy(as_clinician, patient.pk, kind="ect")
    as_clinician.delete(therapy_url(patient.pk, ect["id"]), REMOVAL, format="json")

    assert options(as_clinician, patient)["ect"]["already_tried"] is False


def test_another_patients_therapy_does_not_mark_this_patients_options(
    as_clinician, as_outsider, patient, outsiders_patient
):
    post_therapy(as_outsider, outsiders_patient.pk, kind="ect")
    post_therapy(as_clinician, patient.pk, kind="tms")

    mine = options(as_clinician, patient)
    theirs = options(as_outsider, outsiders_patient)

    assert (mine["ect"]["already_tried"], mine["tms"]["already_tried"]) == (False, True)
    assert (theirs["ect"]["already_tried"], theirs["tms"]["already_tried"]) == (True, False)


def test_reading_the_options_is_audited(as_clinician, patient):
    options(as_clinician, patient)

    (event,) = events()
    assert (event.action, event.patient_id) == ("view", patient.pk)


def test_the_doses_in_the_trd_answer_are_numbers(as_clinician, patient):
    body = post_trial(as_clinician, patient.pk, dose_mg="37.5", drug="venlafaxine")

    assert as_number(body["dose_mg"]) == 37.5
    assert isinstance(trd(as_clinician, patient)["trials"][0]["days_at_adequate_dose"], int)
