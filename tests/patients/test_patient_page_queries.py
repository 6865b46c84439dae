"""The patient page reads a long history in as many queries as a short one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.test_query_counts import give_history
from tests.factories import PatientFactory, ScaleScoreFactory

pytestmark = pytest.mark.django_db


def page_queries(client, patient) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(patient.get_absolute_url())
    assert response.status_code == 200
    return len(captured)


def test_the_patient_page_needs_no_more_queries_for_40_trials_than_for_2(
    clinician, practice, login
):
    small = PatientFactory(practice=practice, identifier="SMALL")
    large = PatientFactory(practice=practice, identifier="LARGE")
    for patient, trials in ((small, 2), (large, 40)):
        give_history(patient, trials)
        for index in range(trials):
            ScaleScoreFactory(
                patient=patient,
                total=20 + index % 7,
                date=patient.trials.order_by("start_date")[index].start_date,
            )
    client = login(clinician)
    client.get(small.get_absolute_url())  # the session, the catalog

    baseline = page_queries(client, small)
    large_page = page_queries(client, large)

    assert large_page <= baseline
    page = client.get(large.get_absolute_url()).content.decode()
    assert page.count('<g class="tl-row">') == 41  # 40 trials and the therapy
