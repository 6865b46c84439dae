from datetime import date, timedelta

import pytest

from tests.factories import TrialFactory

START = date(2026, 1, 5)  # a Monday: 4 weeks on Feb 2, 6 on Feb 16, 8 on Mar 2
MARKS = {
    4: START + timedelta(days=28),
    6: START + timedelta(days=42),
    8: START + timedelta(days=56),
}


@pytest.fixture
def ongoing_trial(patient):
    """Sertraline 100 mg (adequate) from START, still going."""
    return TrialFactory(patient=patient, start_date=START, end_date=None, outcome="ongoing")
