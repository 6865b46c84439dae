"""A page of the patient list shows its own patients in record-number order with their latest
PHQ-9, read for the page's rows only (patients.views.page_of_patients)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PatientFactory, phq9


@pytest.fixture
def thirty(practice):
    """P-000 … P-029, created out of order; P-027's latest PHQ-9 has item 9 above 0, P-003's
    only an earlier one."""
    patients = {}
    for n in [*range(15, 30), *range(15)]:
        patients[n] = PatientFactory(practice=practice, identifier=f"P-{n:03d}")
    phq9(patients[27], item9=2, days_ago=5)
    phq9(patients[3], item9=1, days_ago=30)
    phq9(patients[3], item9=0, days_ago=2)
    return patients


def listed(response) -> list[str]:
    return [patient.identifier for patient in response.context["page"]]


@pytest.mark.django_db
def test_each_page_lists_its_patients_in_record_number_order(clinician, login, thirty):
    client = login(clinician)
    assert listed(client.get("/patients/")) == [f"P-{n:03d}" for n in range(25)]
    assert listed(client.get("/patients/?page=2")) == [f"P-{n:03d}" for n in range(25, 30)]


@pytest.mark.django_db
def test_a_deep_page_flags_its_patient_by_the_latest_phq9(clinician, login, thirty):
    client = login(clinician)
    second = client.get("/patients/?page=2")
    assert [p.identifier for p in second.context["at_risk"]] == ["P-027"]
    assert {p.identifier: p.latest_phq9_item9 for p in second.context["page"]}["P-027"] == 2
    first = client.get("/patients/")
    assert first.context["at_risk"] == []  # P-003's item 9 was above 0 only in an older PHQ-9


@pytest.mark.django_db
def test_the_page_query_chooses_the_pages_ids_before_reading_their_latest_phq9(
    clinician, login, thirty
):
    """With the OFFSET on the page query itself, the latest-PHQ-9 subquery ran for every
    skipped row too."""
    client = login(clinician)
    client.get("/patients/?page=2")
    with CaptureQueriesContext(connection) as captured:
        client.get("/patients/?page=2")
    reading_scores = [q["sql"] for q in captured if "treatments_scalescore" in q["sql"]]
    assert len(reading_scores) == 1
    page_query = reading_scores[0]
    assert re.search(r'"patients_patient"\."id" IN \(SELECT .* LIMIT 5 OFFSET 25\)', page_query)
    assert "OFFSET" not in page_query.rsplit(")", 1)[-1]  # none on the outer query
