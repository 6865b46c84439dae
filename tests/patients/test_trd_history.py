"""The TRD flag's history: each change of the status, with who or what changed it."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import ImmutableError
from core.dates import today
from patients.models import TrdStatusChange
from patients.trd_history import describe, met_since
from tests.api.helpers import REMOVAL, patient_url, trial_url
from tests.factories import PatientFactory, TrialFactory, drug
from treatments.services import refresh_trd_summary, repair_trd_summaries


def history_url(patient_id) -> str:
    return f"{patient_url(patient_id)}trd/history/"


@pytest.fixture
def one_failed(patient):
    """Sertraline failed after an adequate trial (1), venlafaxine helped (does not count)."""
    TrialFactory(patient=patient)
    venlafaxine = TrialFactory(
        patient=patient, drug=drug("venlafaxine"), dose_mg=Decimal("150"), outcome="response"
    )
    refresh_trd_summary(patient)  # the factories write no summary
    return venlafaxine


def changes(patient):
    return list(TrdStatusChange.objects.filter(patient=patient).order_by("id"))


# --- Pure: the cause in words, and "meets since" ---------------------------------------------


def test_it_says_a_trial_change_in_plain_words():
    assert describe("venlafaxine", "update", {"outcome": ["response", "no_response"]}) == (
        "venlafaxine's outcome was set to no response"
    )
    assert describe(None, "update", {"diagnosis": ["unknown", "bipolar_depression"]}) == (
        "the diagnosis was set to bipolar depression"
    )
    assert describe("venlafaxine", "delete") == "venlafaxine was removed"


def test_meets_since_is_the_latest_change_that_made_the_patient_meet():
    def row(meets):
        return TrdStatusChange(
            meets_trd=meets, failed_adequate_trial_count=2 if meets else 1, applicable=True
        )

    first, lost, again = row(True), row(False), row(True)
    assert met_since([first, lost, again, row(True)]) is again
    assert met_since([first, lost]) is None


# --- Recording ---------------------------------------------------------------------------------


def test_an_outcome_change_that_makes_the_patient_meet_trd_records_one_change(
    api, clinician, patient, one_failed
):
    before = len(changes(patient))

    response = api(clinician).patch(
        trial_url(patient.pk, one_failed.pk), {"outcome": "no_response"}, format="json"
    )

    assert response.status_code == 200
    new = changes(patient)[before:]
    assert len(new) == 1
    change = new[0]
    assert (change.meets_trd, change.failed_adequate_trial_count, change.applicable) == (
        True,
        2,
        True,
    )
    assert change.actor == "clinician"
    assert (change.cause_object_type, change.cause_object_id, change.cause_action) == (
        "trial",
        str(one_failed.pk),
        "update",
    )
    assert change.cause_summary == "venlafaxine's outcome was set to no response"
    assert change.effective_on == today()


def test_a_change_that_leaves_the_status_as_it_was_records_nothing(
    api, clinician, patient, one_failed
):
    before = len(changes(patient))

    response = api(clinician).patch(
        trial_url(patient.pk, one_failed.pk), {"notes": "taken with breakfast"}, format="json"
    )

    assert response.status_code == 200
    assert len(changes(patient)) == before


def test_removing_the_trial_records_the_change_back(api, clinician, patient, one_failed):
    client = api(clinician)
    client.patch(trial_url(patient.pk, one_failed.pk), {"outcome": "no_response"}, format="json")

    response = client.delete(trial_url(patient.pk, one_failed.pk), REMOVAL, format="json")

    assert response.status_code == 204
    last = changes(patient)[-1]
    assert (last.meets_trd, last.failed_adequate_trial_count) == (False, 1)
    assert (last.cause_object_type, last.cause_action, last.actor) == (
        "trial",
        "delete",
        "clinician",
    )
    assert last.cause_summary == "venlafaxine was removed"


def test_a_diagnosis_of_bipolar_depression_records_that_the_definition_does_not_apply(
    api, clinician, patient, one_failed
):
    response = api(clinician).patch(
        patient_url(patient.pk), {"diagnosis": "bipolar_depression"}, format="json"
    )

    assert response.status_code == 200
    last = changes(patient)[-1]
    assert (last.applicable, last.meets_trd, last.failed_adequate_trial_count) == (False, False, 0)
    assert (last.cause_object_type, last.cause_object_id, last.cause_action) == (
        "patient",
        str(patient.pk),
        "update",
    )
    assert last.cause_summary == "the diagnosis was set to bipolar depression"


def test_a_change_time_made_is_recorded_once_by_the_daily_step(api, clinician, patient):
    TrialFactory(patient=patient)  # one failed
    start = today() - timedelta(days=30)
    TrialFactory(
        patient=patient,
        drug=drug("venlafaxine"),
        dose_mg=Decimal("150"),
        start_date=start,
        end_date=None,
        outcome="no_response",
    )
    refresh_trd_summary(patient)  # counts 1 today; the open trial reaches 42 days later
    before = len(changes(patient))
    later = today() + timedelta(days=20)

    repair_trd_summaries(patient.practice_id, as_of=later)
    repair_trd_summaries(patient.practice_id, as_of=later)  # again: nothing new

    new = changes(patient)[before:]
    assert len(new) == 1
    change = new[0]
    assert (change.meets_trd, change.failed_adequate_trial_count) == (True, 2)
    assert change.actor == "" and change.cause_action == "time"
    assert change.effective_on == start + timedelta(days=42)
    item = api(clinician).get(history_url(patient.pk)).json()[-1]
    assert item["actor"] is None
    assert item["cause"] == {"object_type": None, "object_id": None, "action": "time"}


def test_a_recorded_change_cannot_be_altered(patient, one_failed):
    change = changes(patient)[-1]
    change.meets_trd = True
    with pytest.raises(ImmutableError):
        change.save()


# --- API -----------------------------------------------------------------------------------


def test_the_history_lists_each_change_oldest_first_with_its_cause(
    api, clinician, auditor, patient, one_failed
):
    client = api(clinician)
    client.patch(trial_url(patient.pk, one_failed.pk), {"outcome": "no_response"}, format="json")
    client.delete(trial_url(patient.pk, one_failed.pk), REMOVAL, format="json")

    response = api(auditor).get(history_url(patient.pk))

    assert response.status_code == 200
    items = response.json()
    assert [(i["meets_trd"], i["failed_adequate_trial_count"]) for i in items] == [
        (False, 1),
        (True, 2),
        (False, 1),
    ]
    assert set(items[1]) >= {
        "changed_at",
        "meets_trd",
        "failed_adequate_trial_count",
        "actor",
        "cause",
    }
    assert items[1]["actor"] == "clinician"
    assert items[1]["cause"] == {
        "object_type": "trial",
        "object_id": one_failed.pk,
        "action": "update",
    }
    assert items[1]["summary"] == "venlafaxine's outcome was set to no response"
    assert items[2]["cause"]["action"] == "delete"
    assert [i["changed_at"] for i in items] == sorted(i["changed_at"] for i in items)


def test_the_history_hides_another_practices_patient(api, outsider, patient, one_failed):
    assert api(outsider).get(history_url(patient.pk)).status_code == 404


def test_the_history_is_read_only(api, clinician, patient):
    assert api(clinician).post(history_url(patient.pk), {}, format="json").status_code == 405


# --- Page ----------------------------------------------------------------------------------


def test_the_banner_says_since_when_and_after_which_change_the_patient_meets_trd(
    api, login, clinician, patient, one_failed
):
    api(clinician).patch(
        trial_url(patient.pk, one_failed.pk), {"outcome": "no_response"}, format="json"
    )

    page = html.unescape(login(clinician).get(patient.get_absolute_url()).content.decode())

    assert (
        f"meets TRD since {today():%Y-%m-%d}, after venlafaxine's outcome was set to no "
        "response by clinician"
    ) in page
    assert "Status history (2 changes)" in page


def test_the_banner_names_no_since_for_a_patient_who_does_not_meet(login, clinician, practice):
    patient = PatientFactory(practice=practice)
    TrialFactory(patient=patient)
    refresh_trd_summary(patient)

    page = login(clinician).get(patient.get_absolute_url()).content.decode()

    assert "meets TRD since" not in page
    assert "Status history (1 change)" in page
