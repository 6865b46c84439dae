"""GET|POST /api/v1/patients/{id}/trials/ and GET|PATCH|DELETE .../trials/{trial_id}/."""

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from tests.factories import DoseChangeFactory, TrialFactory
from treatments.models import DoseChange, Trial

from .helpers import (
    REMOVAL,
    as_number,
    assert_field_errors,
    clinical_counts,
    day,
    days_ago,
    days_ahead,
    event_mark,
    events,
    post_trial,
    trial_payload,
    trial_url,
    trials_url,
)

FIELDS = {"id", "drug", "start_date", "end_date", "dose_mg", "dose_changes", "adherence", "outcome"}


def dose_changes_of(trial_id) -> list[tuple[date, Decimal]]:
    return list(DoseChange.objects.filter(trial_id=trial_id).values_list("date", "dose_mg"))


# --------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------


def test_it_records_a_trial_with_its_dose_changes(as_clinician, patient, practice):
    response = as_clinician.post(
        trials_url(patient.pk),
        trial_payload(dose_mg=50, dose_changes=[{"date": day(14), "dose_mg": 100}]),
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= FIELDS
    assert body["drug"] == "sertraline"
    assert (body["start_date"], body["end_date"]) == (day(0), day(60))
    assert as_number(body["dose_mg"]) == 50
    assert [(c["date"], as_number(c["dose_mg"])) for c in body["dose_changes"]] == [(day(14), 100)]
    assert (body["adherence"], body["outcome"]) == ("good", "no_response")

    trial = Trial.objects.get(pk=body["id"])
    assert trial.patient == patient
    assert trial.drug.name == "sertraline"
    assert trial.start_date == date(2023, 1, 2)
    assert trial.dose_mg == 50
    assert dose_changes_of(trial.pk) == [(date(2023, 1, 16), Decimal("100"))]

    (event,) = events(action="create", patient_id=patient.pk)
    assert (event.actor, event.practice_id, event.object_id) == (
        "clinician",
        practice.pk,
        str(trial.pk),
    )
    changes = event.details["changes"]
    assert changes["drug"] == [None, "sertraline"]
    assert changes["start_date"] == [None, day(0)]
    assert Decimal(changes["dose_mg"][1]) == 50
    assert changes["dose_changes"][0] is None
    assert [[d, Decimal(mg)] for d, mg in changes["dose_changes"][1]] == [[day(14), 100]]


@pytest.mark.parametrize(
    "typed", ["Zoloft", "zoloft", "SERTRALINE", "  Sertraline  ", "Lustral", "ZOLOFT"]
)
def test_it_accepts_brand_names_and_any_case_and_stores_the_generic_drug(
    as_clinician, patient, typed
):
    body = post_trial(as_clinician, patient.pk, drug=typed)

    assert body["drug"] == "sertraline"
    assert Trial.objects.get(pk=body["id"]).drug.name == "sertraline"


def test_an_ongoing_trial_has_no_end_date(as_clinician, patient):
    body = post_trial(as_clinician, patient.pk, start_date=days_ago(10), end_date=None)

    assert body["end_date"] is None
    assert Trial.objects.get(pk=body["id"]).end_date is None


def test_optional_fields_take_their_defaults(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk),
        {"drug": "fluoxetine", "start_date": day(0), "dose_mg": "20"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["end_date"] is None
    assert body["dose_changes"] == []
    assert (body["adherence"], body["outcome"]) == ("unknown", "unknown")


def test_a_dose_of_exactly_ten_times_the_maximum_is_accepted(as_clinician, patient):
    body = post_trial(
        as_clinician, patient.pk, dose_mg=2000, dose_changes=[{"date": day(5), "dose_mg": 2000}]
    )

    assert as_number(body["dose_mg"]) == 2000
    assert Trial.objects.get(pk=body["id"]).dose_mg == 2000


def test_a_fractional_dose_as_a_string_is_accepted(as_clinician, patient):
    body = post_trial(as_clinician, patient.pk, drug="venlafaxine", dose_mg="37.5")

    assert as_number(body["dose_mg"]) == 37.5
    assert Trial.objects.get(pk=body["id"]).dose_mg == Decimal("37.5")


def test_dose_changes_on_the_first_and_last_day_are_accepted(as_clinician, patient):
    body = post_trial(
        as_clinician,
        patient.pk,
        dose_changes=[{"date": day(60), "dose_mg": 50}, {"date": day(0), "dose_mg": 150}],
    )

    assert [c["date"] for c in body["dose_changes"]] == [day(0), day(60)]
    assert len(dose_changes_of(body["id"])) == 2


def test_it_ignores_read_only_and_unknown_fields(as_clinician, patient, outsiders_patient):
    other = TrialFactory(patient=patient)

    body = post_trial(
        as_clinician, patient.pk, id=other.pk, patient=outsiders_patient.pk, deleted_at=day(1)
    )

    assert body["id"] != other.pk
    trial = Trial.objects.get(pk=body["id"])
    assert trial.patient == patient
    assert trial.deleted_at is None


# --------------------------------------------------------------------------------------
# Create: every 400 names the field and saves nothing
# --------------------------------------------------------------------------------------

INVALID_TRIALS = [
    ("unknown_drug", {"drug": "notadrug"}, "drug"),
    ("empty_drug", {"drug": ""}, "drug"),
    ("drug_null", {"drug": None}, "drug"),
    ("drug_a_number", {"drug": 42}, "drug"),
    ("drug_a_list", {"drug": ["sertraline"]}, "drug"),
    # A NUL character used to reach the drug lookup: a 500 on PostgreSQL.
    ("drug_with_a_null_character", {"drug": "sert\x00raline"}, "drug"),
    ("drug_only_spaces", {"drug": "   "}, "drug"),
    ("end_before_start", {"end_date": day(-1)}, "end_date"),
    ("end_in_the_future", {"start_date": days_ago(5), "end_date": days_ahead(1)}, "end_date"),
    ("start_in_the_future", {"start_date": days_ahead(1), "end_date": None}, "start_date"),
    ("start_before_birth", {"start_date": "1979-01-01", "end_date": "1979-03-01"}, "start_date"),
    ("impossible_start", {"start_date": "2024-02-30"}, "start_date"),
    ("impossible_end", {"end_date": "2023-02-29"}, "end_date"),
    ("start_wrong_format", {"start_date": "02/01/2023"}, "start_date"),
    ("dose_zero", {"dose_mg": 0}, "dose_mg"),
    ("dose_negative", {"dose_mg": -50}, "dose_mg"),
    ("dose_minus_zero", {"dose_mg": "-0"}, "dose_mg"),
    ("dose_above_ten_times_max", {"dose_mg": 2001}, "dose_mg"),
    ("dose_just_above_ten_times_max", {"dose_mg": "2000.001"}, "dose_mg"),
    ("dose_not_a_number", {"dose_mg": "abc"}, "dose_mg"),
    ("dose_nan", {"dose_mg": "NaN"}, "dose_mg"),
    ("dose_infinity", {"dose_mg": "Infinity"}, "dose_mg"),
    ("dose_too_precise", {"dose_mg": "50.0001"}, "dose_mg"),
    ("dose_huge", {"dose_mg": "1e30"}, "dose_mg"),
    ("dose_null", {"dose_mg": None}, "dose_mg"),
    ("dose_boolean", {"dose_mg": True}, "dose_mg"),
    ("unknown_adherence", {"adherence": "excellent"}, "adherence"),
    ("unknown_outcome", {"outcome": "cured"}, "outcome"),
    ("outcome_in_other_case", {"outcome": "NO_RESPONSE"}, "outcome"),
    (
        "dose_change_before_start",
        {"dose_changes": [{"date": day(-1), "dose_mg": 150}]},
        "dose_changes",
    ),
    (
        "dose_change_after_end",
        {"dose_changes": [{"date": day(61), "dose_mg": 150}]},
        "dose_changes",
    ),
    (
        "dose_change_in_the_future_while_ongoing",
        {
            "start_date": days_ago(10),
            "end_date": None,
            "dose_changes": [{"date": days_ahead(1), "dose_mg": 150}],
        },
        "dose_changes",
    ),
    (
        "second_dose_change_outside",
        {"dose_changes": [{"date": day(10), "dose_mg": 150}, {"date": day(90), "dose_mg": 200}]},
        "dose_changes",
    ),
    (
        "two_dose_changes_on_one_day",
        {"dose_changes": [{"date": day(10), "dose_mg": 150}, {"date": day(10), "dose_mg": 200}]},
        "dose_changes",
    ),
    ("dose_change_zero", {"dose_changes": [{"date": day(10), "dose_mg": 0}]}, "dose_changes"),
    ("dose_change_negative", {"dose_changes": [{"date": day(10), "dose_mg": -10}]}, "dose_changes"),
    (
        "dose_change_above_ten_times_max",
        {"dose_changes": [{"date": day(10), "dose_mg": 2001}]},
        "dose_changes",
    ),
    (
        "dose_change_not_a_number",
        {"dose_changes": [{"date": day(10), "dose_mg": "abc"}]},
        "dose_changes",
    ),
    ("dose_change_nan", {"dose_changes": [{"date": day(10), "dose_mg": "NaN"}]}, "dose_changes"),
    (
        "dose_change_impossible_date",
        {"dose_changes": [{"date": "2023-02-30", "dose_mg": 150}]},
        "dose_changes",
    ),
    ("dose_change_without_date", {"dose_changes": [{"dose_mg": 150}]}, "dose_changes"),
    ("dose_change_without_dose", {"dose_changes": [{"date": day(10)}]}, "dose_changes"),
    ("dose_changes_not_a_list", {"dose_changes": {"date": day(10), "dose_mg": 1}}, "dose_changes"),
    ("dose_change_not_an_object", {"dose_changes": ["2023-01-12"]}, "dose_changes"),
]


@pytest.mark.parametrize(
    "overrides, field",
    [case[1:] for case in INVALID_TRIALS],
    ids=[case[0] for case in INVALID_TRIALS],
)
def test_it_rejects_an_invalid_trial_naming_the_field_and_saves_nothing(
    as_clinician, patient, overrides, field
):
    before = clinical_counts()

    response = as_clinician.post(trials_url(patient.pk), trial_payload(**overrides), format="json")

    assert_field_errors(response, field)
    assert clinical_counts() == before


@pytest.mark.parametrize("field", ["drug", "start_date", "dose_mg"])
def test_it_requires_drug_start_date_and_dose(as_clinician, patient, field):
    payload = trial_payload()
    del payload[field]

    response = as_clinician.post(trials_url(patient.pk), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Trial.objects.exists()


def test_it_reports_every_invalid_field_at_once(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk),
        trial_payload(drug="notadrug", dose_mg="abc", adherence="x", outcome="y"),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"drug", "dose_mg", "adherence", "outcome"}
    assert not Trial.objects.exists()


def test_a_bad_dose_change_is_reported_as_plain_messages_naming_the_change(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk),
        trial_payload(
            dose_changes=[{"date": day(5), "dose_mg": 75}, {"date": "2023-02-30", "dose_mg": "abc"}]
        ),
        format="json",
    )

    body = assert_field_errors(response, "dose_changes")
    assert len(body["dose_changes"]) == 2
    assert all(m.startswith("dose change 2: ") for m in body["dose_changes"])
    assert any("date" in m for m in body["dose_changes"])
    assert any("dose_mg" in m for m in body["dose_changes"])
    assert not Trial.objects.exists()


def test_the_unknown_drug_message_names_what_was_typed(as_clinician, patient):
    response = as_clinician.post(
        trials_url(patient.pk), trial_payload(drug="Sertralinne"), format="json"
    )

    assert response.status_code == 400
    assert "Sertralinne" in response.json()["drug"][0]


# --------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------


def test_it_lists_the_patients_active_trials_in_start_order(as_clinician, patient, practice):
    later = post_trial(
        as_clinician,
        patient.pk,
        drug="fluoxetine",
        start_date=day(100),
        end_date=day(150),
        dose_mg=20,
    )
    earlier = post_trial(as_clinician, patient.pk, dose_changes=[{"date": day(20), "dose_mg": 150}])
    gone = post_trial(
        as_clinician,
        patient.pk,
        drug="citalopram",
        start_date=day(200),
        end_date=day(250),
        dose_mg=20,
    )
    as_clinician.delete(trial_url(patient.pk, gone["id"]), REMOVAL, format="json")
    mark = event_mark()

    response = as_clinician.get(trials_url(patient.pk))

    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [earlier["id"], later["id"]]
    assert rows[0] == earlier
    assert rows[1]["drug"] == "fluoxetine"
    assert [(c["date"], as_number(c["dose_mg"])) for c in rows[0]["dose_changes"]] == [
        (day(20), 150)
    ]
    (event,) = events(id__gt=mark)
    assert (event.action, event.patient_id, event.practice_id) == ("view", patient.pk, practice.pk)


def test_it_lists_only_this_patients_trials(as_clinician, practice, patient):
    from tests.factories import PatientFactory

    other = PatientFactory(practice=practice, identifier="MRN-2")
    TrialFactory(patient=other)
    mine = post_trial(as_clinician, patient.pk)

    assert [row["id"] for row in as_clinician.get(trials_url(patient.pk)).json()] == [mine["id"]]


def test_it_shows_one_trial_and_records_the_read(as_clinician, patient):
    created = post_trial(as_clinician, patient.pk, dose_changes=[{"date": day(7), "dose_mg": 75}])
    mark = event_mark()

    response = as_clinician.get(trial_url(patient.pk, created["id"]))

    assert response.status_code == 200
    assert response.json() == created
    (event,) = events(id__gt=mark, action="view")
    assert (event.patient_id, event.object_id) == (patient.pk, str(created["id"]))


def test_a_missing_trial_is_404(as_clinician, patient):
    assert as_clinician.get(trial_url(patient.pk, 987654)).status_code == 404


# --------------------------------------------------------------------------------------
# Update
# --------------------------------------------------------------------------------------


@pytest.fixture
def trial(patient):
    """Sertraline 100 mg/day from 120 to 60 days ago, raised to 150 after 14 days."""
    trial = TrialFactory(patient=patient)
    DoseChangeFactory(trial=trial)
    return trial


def test_it_updates_a_trial_and_records_old_and_new_values(as_clinician, patient, trial):
    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk),
        {"dose_mg": 75, "outcome": "partial_response"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert as_number(body["dose_mg"]) == 75
    assert body["outcome"] == "partial_response"
    assert len(body["dose_changes"]) == 1
    trial.refresh_from_db()
    assert trial.dose_mg == 75
    assert trial.outcome == "partial_response"
    assert len(dose_changes_of(trial.pk)) == 1

    (event,) = events(action="update", patient_id=patient.pk)
    changes = event.details["changes"]
    assert set(changes) == {"dose_mg", "outcome"}
    assert [Decimal(v) for v in changes["dose_mg"]] == [100, 75]
    assert changes["outcome"] == ["no_response", "partial_response"]


def test_it_switches_the_drug_by_brand_name(as_clinician, patient, trial):
    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk), {"drug": "Prozac", "dose_mg": 20}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["drug"] == "fluoxetine"
    trial.refresh_from_db()
    assert trial.drug.name == "fluoxetine"
    (event,) = events(action="update")
    assert event.details["changes"]["drug"] == ["sertraline", "fluoxetine"]


def test_it_replaces_the_dose_changes(as_clinician, patient, trial):
    new = [{"date": days_ago(90), "dose_mg": 200}]

    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk), {"dose_changes": new}, format="json"
    )

    assert response.status_code == 200
    assert [c["date"] for c in response.json()["dose_changes"]] == [new[0]["date"]]
    assert dose_changes_of(trial.pk) == [(date.fromisoformat(new[0]["date"]), Decimal("200"))]
    (event,) = events(action="update")
    assert set(event.details["changes"]) == {"dose_changes"}


def test_it_clears_the_dose_changes(as_clinician, patient, trial):
    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk), {"dose_changes": []}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["dose_changes"] == []
    assert dose_changes_of(trial.pk) == []


def test_it_reopens_a_trial(as_clinician, patient, trial):
    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk), {"end_date": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["end_date"] is None
    trial.refresh_from_db()
    assert trial.end_date is None


def test_an_update_that_changes_nothing_writes_no_event(as_clinician, patient, trial):
    response = as_clinician.patch(
        trial_url(patient.pk, trial.pk),
        {"dose_mg": "100.000", "adherence": "good"},
        format="json",
    )

    assert response.status_code == 200
    assert events(action="update") == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"dose_mg": 2001}, "dose_mg"),
        ({"dose_mg": 0}, "dose_mg"),
        ({"dose_mg": "abc"}, "dose_mg"),
        ({"dose_mg": "NaN"}, "dose_mg"),
        ({"drug": "notadrug"}, "drug"),
        ({"drug": "brexpiprazole"}, "dose_mg"),  # 100 mg/day > 10 × 3 mg/day
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"end_date": days_ahead(1)}, "end_date"),
        ({"start_date": "2024-02-30"}, "start_date"),
        ({"start_date": days_ahead(1)}, "start_date"),
        ({"adherence": "sometimes"}, "adherence"),
        ({"outcome": "better"}, "outcome"),
        ({"dose_changes": [{"date": "2000-01-01", "dose_mg": 150}]}, "dose_changes"),
        ({"dose_changes": [{"date": days_ago(1), "dose_mg": 150}]}, "dose_changes"),
        ({"dose_changes": [{"date": days_ago(100), "dose_mg": 2001}]}, "dose_changes"),
        ({"dose_changes": [{"date": days_ago(100), "dose_mg": 0}]}, "dose_changes"),
        # The stored change (14 days in) would fall after the new end date.
        ({"end_date": days_ago(119)}, "dose_changes"),
        # ... or before the new start date.
        ({"start_date": days_ago(90)}, "dose_changes"),
        # The valid part of a mixed update is not saved either.
        ({"outcome": "response", "dose_mg": 2001}, "dose_mg"),
        (
            {"outcome": "response", "dose_changes": [{"date": "2000-01-01", "dose_mg": 1}]},
            "dose_changes",
        ),
    ],
    ids=[
        "dose_above_ten_times_max",
        "dose_zero",
        "dose_not_a_number",
        "dose_nan",
        "unknown_drug",
        "new_drug_makes_dose_too_high",
        "end_before_start",
        "end_in_the_future",
        "impossible_start",
        "start_in_the_future",
        "unknown_adherence",
        "unknown_outcome",
        "dose_change_before_start",
        "dose_change_after_end",
        "dose_change_above_ten_times_max",
        "dose_change_zero",
        "end_moved_before_stored_dose_change",
        "start_moved_after_stored_dose_change",
        "mixed_valid_and_invalid_fields",
        "mixed_valid_field_and_bad_dose_change",
    ],
)
def test_it_rejects_an_invalid_update_and_changes_nothing(
    as_clinician, patient, trial, change, field
):
    before_row = Trial.objects.filter(pk=trial.pk).values().get()
    before_changes = dose_changes_of(trial.pk)
    before = clinical_counts()

    response = as_clinician.patch(trial_url(patient.pk, trial.pk), change, format="json")

    assert_field_errors(response, field)
    assert Trial.objects.filter(pk=trial.pk).values().get() == before_row
    assert dose_changes_of(trial.pk) == before_changes
    assert clinical_counts() == before


def test_an_outsider_cannot_update_or_delete_another_practices_trial(as_outsider, patient, trial):
    before_row = Trial.objects.filter(pk=trial.pk).values().get()

    patch = as_outsider.patch(trial_url(patient.pk, trial.pk), {"dose_mg": 150}, format="json")
    delete = as_outsider.delete(trial_url(patient.pk, trial.pk))

    assert (patch.status_code, delete.status_code) == (404, 404)
    assert Trial.objects.filter(pk=trial.pk).values().get() == before_row
    assert not AuditEvent.objects.exists()


# --------------------------------------------------------------------------------------
# Delete
# --------------------------------------------------------------------------------------


def test_delete_is_a_soft_delete_recorded_in_the_audit_trail(as_clinician, patient, trial):
    response = as_clinician.delete(trial_url(patient.pk, trial.pk), REMOVAL, format="json")

    assert response.status_code == 204
    assert as_clinician.get(trial_url(patient.pk, trial.pk)).status_code == 404
    assert as_clinician.get(trials_url(patient.pk)).json() == []
    trial.refresh_from_db()
    assert trial.deleted_at is not None
    assert len(dose_changes_of(trial.pk)) == 1
    (event,) = events(action="delete", patient_id=patient.pk)
    assert event.object_id == str(trial.pk)


def test_a_deleted_trial_cannot_be_updated_or_deleted_again(as_clinician, patient, trial):
    as_clinician.delete(trial_url(patient.pk, trial.pk), REMOVAL, format="json")

    patch = as_clinician.patch(trial_url(patient.pk, trial.pk), {"dose_mg": 150}, format="json")
    again = as_clinician.delete(trial_url(patient.pk, trial.pk), REMOVAL, format="json")

    assert (patch.status_code, again.status_code) == (404, 404)
    trial.refresh_from_db()
    assert trial.dose_mg == 100
    assert len(events(action="delete")) == 1


def test_a_deleted_patients_trials_are_gone_too(as_clinician, patient, trial):
    as_clinician.delete(f"/api/v1/patients/{patient.pk}/", REMOVAL, format="json")

    assert as_clinician.get(trial_url(patient.pk, trial.pk)).status_code == 404
    response = as_clinician.post(trials_url(patient.pk), trial_payload(), format="json")
    assert response.status_code == 404
    assert Trial.objects.count() == 1


# --------------------------------------------------------------------------------------
# Other practices and roles
# --------------------------------------------------------------------------------------


def test_it_hides_another_practices_trials(as_outsider, patient, trial):
    assert as_outsider.get(trials_url(patient.pk)).status_code == 404
    assert as_outsider.get(trial_url(patient.pk, trial.pk)).status_code == 404
    assert not AuditEvent.objects.exists()


def test_an_outsider_cannot_add_a_trial_to_another_practices_patient(as_outsider, patient):
    response = as_outsider.post(trials_url(patient.pk), trial_payload(), format="json")

    assert response.status_code == 404
    assert clinical_counts() == {"trials": 0, "dose_changes": 0, "therapies": 0, "audit_events": 0}


def test_an_auditor_reads_trials_but_cannot_change_them(as_auditor, patient, trial):
    before_row = Trial.objects.filter(pk=trial.pk).values().get()

    assert as_auditor.get(trials_url(patient.pk)).status_code == 200
    assert as_auditor.get(trial_url(patient.pk, trial.pk)).status_code == 200
    assert (
        as_auditor.post(trials_url(patient.pk), trial_payload(), format="json").status_code == 403
    )
    assert (
        as_auditor.patch(
            trial_url(patient.pk, trial.pk), {"dose_mg": 150}, format="json"
        ).status_code
        == 403
    )
    assert as_auditor.delete(trial_url(patient.pk, trial.pk)).status_code == 403

    assert Trial.objects.count() == 1
    assert Trial.objects.filter(pk=trial.pk).values().get() == before_row


def test_a_practice_admin_cannot_read_trials(as_admin, patient, trial):
    assert as_admin.get(trials_url(patient.pk)).status_code == 403
    assert as_admin.get(trial_url(patient.pk, trial.pk)).status_code == 403
