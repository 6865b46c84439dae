"""The demo's scores show a response, a non-response, a disagreement and a suicide risk."""

import pytest
from django.core.management import call_command

from patients.models import Patient
from treatments.models import ScaleScore
from treatments.selectors import patient_history


def history(identifier):
    return patient_history(Patient.objects.get(identifier=identifier))


def measured_by_drug(identifier):
    result = history(identifier)
    return {
        trial.drug.name: (trial.outcome, outcome.outcome if outcome else None, disagrees)
        for trial, _, outcome, disagrees in result.trial_rows()
    }


@pytest.mark.django_db
def test_the_demo_scores_show_each_case():
    call_command("seed_demo", password="demo-password-for-tests")

    assert measured_by_drug("DEMO-007")["sertraline"] == ("response", "response", False)
    assert measured_by_drug("DEMO-001")["sertraline"] == ("no_response", "no_response", False)
    assert measured_by_drug("DEMO-003")["duloxetine"] == ("no_response", "response", True)
    risk = history("DEMO-009").suicide_risk
    assert risk is not None and risk.phq9_item9 > 0
    assert history("DEMO-007").suicide_risk is None

    count = ScaleScore.objects.count()
    call_command("seed_demo", password="demo-password-for-tests")
    assert ScaleScore.objects.count() == count
