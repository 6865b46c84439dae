"""Reads issue a constant number of queries, however long the patient's history or list."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import today
from tests.factories import DoseChangeFactory, PatientFactory, TherapyFactory, TrialFactory, drug

from .helpers import PATIENTS_URL, options_url, results, therapies_url, trd_url, trials_url

DRUGS = ["sertraline", "fluoxetine", "citalopram", "escitalopram", "venlafaxine", "mirtazapine"]


def give_history(patient, trials: int) -> None:
    """`trials` closed trials of rotating drugs, each with one dose change, and a therapy."""
    start = today() - timedelta(days=60 * trials + 60)
    for index in range(trials):
        trial = TrialFactory(
            patient=patient,
            drug=drug(DRUGS[index % len(DRUGS)]),
            start_date=start + timedelta(days=60 * index),
            end_date=start + timedelta(days=60 * index + 50),
            dose_mg=50,
        )
        DoseChangeFactory(trial=trial, date=trial.start_date + timedelta(days=7), dose_mg=60)
    TherapyFactory(patient=patient)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(
    "endpoint",
    [trd_url, trials_url, therapies_url, options_url],
    ids=["trd", "trials", "therapies", "options"],
)
def test_a_patients_history_reads_in_the_same_number_of_queries_for_2_or_40_trials(
    as_clinician, practice, endpoint, django_assert_max_num_queries
):
    small = PatientFactory(practice=practice, identifier="SMALL")
    large = PatientFactory(practice=practice, identifier="LARGE")
    give_history(small, 2)
    give_history(large, 40)
    as_clinician.get(endpoint(small.pk))  # warm the token, the catalog and the caches

    baseline = count_queries(as_clinician, endpoint(small.pk))

    with django_assert_max_num_queries(baseline):
        response = as_clinician.get(endpoint(large.pk))
    assert response.status_code == 200
    if endpoint is trials_url:
        assert len(response.json()) == 40
        assert all(len(row["dose_changes"]) == 1 for row in response.json())
    if endpoint is trd_url:
        assert len(response.json()["trials"]) == 40


def test_the_patient_list_does_not_grow_with_the_number_of_patients(
    as_clinician, practice, django_assert_max_num_queries
):
    for index in range(5):
        give_history(PatientFactory(practice=practice, identifier=f"A-{index:02d}"), 1)
    as_clinician.get(PATIENTS_URL)
    baseline = count_queries(as_clinician, PATIENTS_URL)

    for index in range(45):
        give_history(PatientFactory(practice=practice, identifier=f"B-{index:02d}"), 1)

    with django_assert_max_num_queries(baseline):
        response = as_clinician.get(PATIENTS_URL)
    assert response.status_code == 200
    assert len(results(response.json())) == 50


def test_another_practices_patients_neither_show_up_nor_cost_queries(
    as_clinician, practice, other_practice, django_assert_max_num_queries
):
    for index in range(5):
        PatientFactory(practice=practice, identifier=f"MINE-{index}")
    as_clinician.get(PATIENTS_URL)
    baseline = count_queries(as_clinician, PATIENTS_URL)

    for index in range(45):
        give_history(PatientFactory(practice=other_practice, identifier=f"THEIRS-{index}"), 1)

    with django_assert_max_num_queries(baseline):
        response = as_clinician.get(PATIENTS_URL)
    identifiers = [row["identifier"] for row in results(response.json())]
    assert identifiers == [f"MINE-{index}" for index in range(5)]
